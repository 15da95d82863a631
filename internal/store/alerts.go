package store

import (
	"context"
	"time"

	"github.com/signalhq/signal/internal/signal"
)

// AlertStore keeps the alert settings and the open alert incidents.
type AlertStore interface {
	// GetAlertSettings returns the settings (ENOTFOUND when never set).
	GetAlertSettings(ctx context.Context) (*signal.AlertSettings, error)
	// PutAlertSettings replaces the settings (stored sealed).
	PutAlertSettings(ctx context.Context, p PutAlertSettingsParams) error
	// ListAlertIncidents lists the open incidents.
	ListAlertIncidents(ctx context.Context) ([]AlertIncident, error)
	// OpenAlertIncident records an incident; false if it was already open
	// (then nobody posts it again, on any node).
	OpenAlertIncident(ctx context.Context, p AlertIncident) (bool, error)
	// CloseAlertIncident removes an incident; false if it was not open.
	CloseAlertIncident(ctx context.Context, p AlertIncident) (bool, error)
	// RecentAttempts counts the integration's last Limit attempts and how
	// many of them failed (a transport error or a non-2xx answer).
	RecentAttempts(ctx context.Context, p RecentAttemptsParams) (total, failed int, err error)
	// ClaimAlertPosts leases up to Limit queued posts due at Now (oldest
	// first) until LeaseUntil: no other claim returns them before then, on
	// any node.
	ClaimAlertPosts(ctx context.Context, p ClaimAlertPostsParams) ([]AlertPost, error)
	// FinishAlertPost removes a post (Done: sent, or given up) or schedules
	// its next attempt.
	FinishAlertPost(ctx context.Context, p FinishAlertPostParams) error
}

type PutAlertSettingsParams struct {
	Settings signal.AlertSettings
	Now      time.Time
}

// AlertIncident is one open alert: Kind (integration_paused,
// backlog_stale, delivery_failing) of one integration.
type AlertIncident struct {
	IntegrationID string
	Kind          string
	OpenedAt      time.Time
	// Post, if set, is queued in the same transaction that opens (or
	// closes) the incident, so that a change is never made without its
	// post, nor posted twice (ID, Attempts and NextAt are the store's).
	Post *AlertPost
}

// AlertPost is one webhook post waiting to be sent: queued with the
// incident change it announces, kept until the webhook takes it or its
// retries run out, so a restart neither loses nor repeats it.
type AlertPost struct {
	ID            int64
	Alert         string
	IntegrationID string
	// Body is the JSON posted (ids, names and reasons, no personal data).
	Body      []byte
	CreatedAt time.Time
	// Attempts counts the failed sends so far.
	Attempts int
}

type ClaimAlertPostsParams struct {
	Now, LeaseUntil time.Time
	Limit           int
}

type FinishAlertPostParams struct {
	ID int64
	// Done removes the post; else it is due again at NextAt, after
	// Attempts failed sends.
	Done     bool
	NextAt   time.Time
	Attempts int
}

type RecentAttemptsParams struct {
	IntegrationID string
	Limit         int
}
