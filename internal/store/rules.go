package store

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/signalhq/signal/internal/signal"
)

// Rules every backend shares: Live Events ids, cursors and how a row is
// shown, and what a deleted integration's deliveries become.

// LiveEventID is the id of a Live Events row: "dlv_<delivery id>", or
// "evt_<seq>" for an event without a delivery yet.
func LiveEventID(seq, deliveryID int64) string {
	if deliveryID == 0 {
		return "evt_" + strconv.FormatInt(seq, 10)
	}
	return "dlv_" + strconv.FormatInt(deliveryID, 10)
}

// FormatLiveCursor is the cursor after the row (seq, deliveryID); pages are
// ordered by seq, then delivery id, both descending.
func FormatLiveCursor(seq, deliveryID int64) string {
	return strconv.FormatInt(seq, 10) + "." + strconv.FormatInt(deliveryID, 10)
}

// ParseLiveCursor reads a cursor made by FormatLiveCursor.
func ParseLiveCursor(c string) (seq, deliveryID int64, err error) {
	a, b, ok := strings.Cut(c, ".")
	seq, err1 := strconv.ParseInt(a, 10, 64)
	deliveryID, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, signal.FieldErrorf(signal.EINVALID, "cursor", "cursor %q is not one this API returned", c)
	}
	return seq, deliveryID, nil
}

// LiveIntegration is what a Live Events row shows of its integration's
// state (nil fields: the integration is gone).
type LiveIntegration struct {
	Status       *string
	StatusReason *string
	Enabled      *bool
}

// ShowLiveEvent applies the display rules to a row read with its delivery
// (or without one, hasDelivery false): an event not yet processed is
// pending; a pending delivery of a paused or disabled integration shows as
// paused with the reason; a row without integration shows the input as its
// payload; every reason gets its sentence.
func ShowLiveEvent(le *signal.LiveEvent, seq, deliveryID int64, in LiveIntegration) {
	le.ID = LiveEventID(seq, deliveryID)
	if deliveryID == 0 {
		le.Status = signal.StatusPending
		le.UpdatedAt = le.ReceivedAt
	} else if le.Status == signal.StatusPending && in.Status != nil {
		switch {
		case *in.Status == signal.IntegrationPaused:
			le.Status, le.Reason = signal.StatusPaused, deref(in.StatusReason)
		case in.Enabled != nil && !*in.Enabled:
			le.Status, le.Reason = signal.StatusPaused, signal.ReasonIntegrationDisabled
		}
	}
	if le.Status != signal.StatusPending || le.Attempts == 0 {
		le.NextAttemptAt = nil // only a retry waits for a time
	}
	if le.IntegrationID == "" && le.Payload == nil {
		le.Payload = le.Input
	}
	if len(le.Payload) == 0 {
		le.Payload = json.RawMessage("null")
	}
	le.ReasonText = signal.ReasonText(le.Reason)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// FilterDeleted marks the pending deliveries of integrations deleted while
// their events were processed (isDeleted says, per integration, looked up
// once each) as filtered, integration_deleted: nothing would ever send them.
func FilterDeleted(ds []*signal.Delivery, isDeleted func(integrationID string) (bool, error)) error {
	deleted := map[string]bool{}
	for _, d := range ds {
		if d.IntegrationID == "" || d.Status != signal.StatusPending {
			continue
		}
		gone, seen := deleted[d.IntegrationID]
		if !seen {
			var err error
			if gone, err = isDeleted(d.IntegrationID); err != nil {
				return err
			}
			deleted[d.IntegrationID] = gone
		}
		if gone {
			d.Status, d.Reason = signal.StatusFiltered, signal.ReasonIntegrationDeleted
		}
	}
	return nil
}
