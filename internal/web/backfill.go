package web

import "time"

// backfillJSON is a backfill as GET /integrations/{id}/backfill lists it.
type backfillJSON struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Accepted  int       `json:"accepted"`
	Delivered int       `json:"delivered"`
	Failed    int       `json:"failed"`
	Filtered  int       `json:"filtered"`
	Pending   int       `json:"pending"`
	CreatedAt time.Time `json:"created_at"`
}

// Done is how many items have their outcome (the progress bar's value).
func (b backfillJSON) Done() int { return b.Delivered + b.Failed }

// Percent is Done as a whole percentage of Accepted.
func (b backfillJSON) Percent() int {
	if b.Accepted == 0 {
		return 100
	}
	return b.Done() * 100 / b.Accepted
}

// Created is the backfill's creation time as the page shows it.
func (b backfillJSON) Created() string { return b.CreatedAt.UTC().Format("2006-01-02 15:04 UTC") }
