package store

import (
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// The params and results of DeliveryStore's Live Events and health reads.

type ListLiveEventsParams struct {
	IntegrationID string
	PipelineID    string
	Status        signal.DeliveryStatus
	Type          string
	Event         string
	Reason        signal.Reason
	// SearchKeys: only events with one of these keys (see SearchKey).
	SearchKeys []string
	Cursor     string
	Limit      int
}

// LiveCounts counts Live Events rows by the status they show.
type LiveCounts struct {
	Pending   int `json:"pending"`
	Delivered int `json:"delivered"`
	Filtered  int `json:"filtered"`
	Failed    int `json:"failed"`
	Paused    int `json:"paused"`
	// Limited: more rows match than the count's window (its Limit) held.
	Limited bool `json:"limited"`
}

// GetLiveEventParams names a row by the id Live Events gave it.
type GetLiveEventParams struct {
	ID string
}

type IntegrationHealthParams struct {
	IntegrationID string
	Now           time.Time
}

// Outcomes counts finished deliveries by status.
type Outcomes struct {
	Delivered int `json:"delivered"`
	Filtered  int `json:"filtered"`
	Failed    int `json:"failed"`
}

// MinuteOutcomes are the outcomes of the minute starting At.
type MinuteOutcomes struct {
	At time.Time `json:"at"`
	Outcomes
}

// IntegrationHealth is an integration's recent outcomes (by the time each
// delivery was last updated) and its backlog.
type IntegrationHealth struct {
	LastHour Outcomes
	LastDay  Outcomes
	IntegrationBacklog
	// PerMinute: the last 60 whole minutes up to Now's, oldest first.
	PerMinute []MinuteOutcomes
}

// IntegrationBacklogParams names the integration whose backlog to read.
type IntegrationBacklogParams struct {
	IntegrationID string
}

// IntegrationBacklog is what an integration has waiting: read from the
// queue's index alone, so its cost follows the backlog, not the day's
// deliveries (the gauges and the alerts read it every few seconds).
type IntegrationBacklog struct {
	Backlog int
	// OldestPending is when the oldest pending delivery's event was
	// received (zero: none pending).
	OldestPending time.Time
}
