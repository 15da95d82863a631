package sqlstore

import "github.com/signalhq/signal/internal/signal"

// Delivery statuses as SQL literals: the one place SQL spells a status.
// Filters on a status use these, not bound parameters, because the partial
// indexes (deliveries_queue: WHERE status = 'pending', deliveries_outcomes,
// deliveries_failed…) serve only a query that spells the status as the
// index does: SQLite cannot match a parameter to an index's predicate, nor
// can PostgreSQL's generic plan of a prepared statement. Values written
// (SET status = ?) are bound.
const (
	Pending   = "'" + string(signal.StatusPending) + "'"
	Delivered = "'" + string(signal.StatusDelivered) + "'"
	Filtered  = "'" + string(signal.StatusFiltered) + "'"
	Failed    = "'" + string(signal.StatusFailed) + "'"
	// Paused is a status Live Events shows, never stored in deliveries.
	Paused = "'" + string(signal.StatusPaused) + "'"
	// Finished lists the statuses of a delivery that is done, as
	// deliveries_outcomes lists them.
	Finished = "(" + Delivered + ", " + Filtered + ", " + Failed + ")"
)

// Expired is the reason code of a delivery that expired waiting.
const Expired = "'" + string(signal.ReasonExpired) + "'"

// Integration statuses as SQL literals.
const (
	IntegrationActive = "'" + signal.IntegrationActive + "'"
	IntegrationPaused = "'" + signal.IntegrationPaused + "'"
)
