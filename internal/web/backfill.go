package web

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

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

// backfillUploadMax bounds an uploaded history file: the API's own bound
// (64 MiB), plus room for the form around it.
const backfillUploadMax = 64<<20 + 64<<10

// rawBody is an API request body passed on as is (an uploaded file).
type rawBody struct {
	r           io.ReadSeeker
	contentType string
}

// handleBackfillUpload posts an uploaded NDJSON file (gzipped or not) as a
// backfill of the integration, and says what the API accepted.
func (s *server) handleBackfillUpload(c *pageCtx) {
	f, _, err := c.r.FormFile("file")
	if err != nil {
		s.after(c, result{status: http.StatusBadRequest, err: &apiError{Status: http.StatusBadRequest, Code: "INVALID_PAYLOAD",
			Message: "Choose an NDJSON file of historical events to upload."}}, "")
		return
	}
	defer f.Close()
	res := c.send(s, http.MethodPost, integrationPath(c)+"/backfill", rawBody{r: f, contentType: "application/x-ndjson"})
	var out struct {
		ID       string `json:"id"`
		Accepted int    `json:"accepted"`
		Rejected []struct {
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"rejected"`
	}
	msg := ""
	if res.err == nil && res.decode(&out) == nil {
		msg = fmt.Sprintf("Backfill %s started: %d events accepted.", out.ID, out.Accepted)
		if n := len(out.Rejected); n > 0 {
			msg += fmt.Sprintf(" %d lines refused; the first, line %d: %s", n, out.Rejected[0].Line, out.Rejected[0].Message)
		}
	}
	s.after(c, res, msg)
}
