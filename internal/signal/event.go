package signal

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Message types accepted by the gateway (Segment spec).
const (
	TypeAlias    = "alias"
	TypeGroup    = "group"
	TypeIdentify = "identify"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeTrack    = "track"
)

// Event is one accepted message in the event log.
type Event struct {
	// Seq is the event's position in the log, assigned by the store.
	Seq        int64
	MessageID  string
	PipelineID string
	Type       string
	// Event is the track event name, or the page/screen name.
	Event       string
	UserID      string
	AnonymousID string
	// Timestamp is when the event happened (clock-skew corrected).
	Timestamp  time.Time
	ReceivedAt time.Time
	// Payload is the message as it was received (JSON).
	Payload json.RawMessage
}

// Message is a Segment-spec message as decoded by the gateway. Nested
// objects stay raw: the gateway validates their shape, the pipeline reads
// them.
type Message struct {
	AnonymousID       ID              `json:"anonymousId,omitempty"`
	Context           json.RawMessage `json:"context,omitempty"`
	Event             string          `json:"event,omitempty"`
	GroupID           ID              `json:"groupId,omitempty"`
	MessageID         ID              `json:"messageId,omitempty"`
	Name              string          `json:"name,omitempty"`
	OriginalTimestamp string          `json:"originalTimestamp,omitempty"`
	PreviousID        ID              `json:"previousId,omitempty"`
	Properties        json.RawMessage `json:"properties,omitempty"`
	SentAt            string          `json:"sentAt,omitempty"`
	Timestamp         string          `json:"timestamp,omitempty"`
	Traits            json.RawMessage `json:"traits,omitempty"`
	Type              string          `json:"type,omitempty"`
	UserID            ID              `json:"userId,omitempty"`
	WriteKey          string          `json:"writeKey,omitempty"`
}

// ID is an identifier that senders give as a JSON string or number
// (Segment libraries accept both for userId).
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*id = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return err
		}
		*id = ID(b)
		return nil
	}
	return &json.UnmarshalTypeError{Value: "non-string id", Type: nil}
}
