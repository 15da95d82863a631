package pipeline

import (
	"encoding/json"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// Preview builds what the processor would queue for one Segment message
// and one integration, with the processor's own code (build), writing
// nothing: the blueprint editor's live preview. The visitor's traits are
// the message's own (identify's traits and context.traits): no profile is
// read. msg must be a JSON object; a bad one is an EINVALID naming field
// "event".
func Preview(h Hasher, vendor integration.Vendor, in *signal.Integration, msg json.RawMessage, now time.Time) (*signal.Delivery, error) {
	var m signal.Message
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, signal.FieldErrorf(signal.EINVALID, "event", "event must be a Segment message (a JSON object): %v", err)
	}
	switch m.Type {
	case signal.TypeTrack:
		if m.Event == "" {
			return nil, signal.FieldErrorf(signal.EINVALID, "event.event", "a track message needs its event name")
		}
	case signal.TypePage, signal.TypeIdentify, signal.TypeScreen, signal.TypeGroup, signal.TypeAlias:
	default:
		return nil, signal.FieldErrorf(signal.EINVALID, "event.type", "event.type must be track, page, identify, screen, group or alias")
	}
	src, err := blueprint.Decode(msg)
	if err != nil {
		return nil, signal.FieldErrorf(signal.EINVALID, "event", "event could not be read: %v", err)
	}
	ts := now
	if m.Timestamp != "" {
		if ts, err = time.Parse(time.RFC3339Nano, m.Timestamp); err != nil {
			return nil, signal.FieldErrorf(signal.EINVALID, "event.timestamp", "event.timestamp must be an RFC 3339 date-time")
		}
	}
	msgID := string(m.MessageID)
	if msgID == "" {
		msgID = "preview"
	}
	ev := &signal.Event{MessageID: msgID, PipelineID: "preview", Type: m.Type, Event: m.Event, UserID: string(m.UserID), AnonymousID: string(m.AnonymousID),
		Timestamp: ts, ReceivedAt: now}
	if m.Type == signal.TypePage || m.Type == signal.TypeScreen {
		ev.Event = m.Name
	}
	traits := eventTraits(src, m.Type)
	var phones phoneCache
	return build(h, &phones, vendor, in, ev, src, traits, now), nil
}
