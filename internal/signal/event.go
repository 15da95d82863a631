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

// Trust levels: how the gateway knew who sent an event. The pipeline key is
// public (it sits in every page), so only a signature proves a backend sent
// it; a Segment server library's Basic credentials are the same public key
// but the usual sender, so they rank above a browser's.
const (
	// TrustBrowser: pipeline key as Bearer or writeKey (Datafly.js routes,
	// /v1/batch, Segment routes without Basic).
	TrustBrowser = "browser"
	// TrustServer: a Segment route authenticated with HTTP Basic.
	TrustServer = "server"
	// TrustSigned: /v1/events, HMAC-signed with the pipeline's signing secret.
	TrustSigned = "signed"
)

// TrustRank orders trust levels: browser (and unknown) 0, server 1, signed 2.
func TrustRank(trust string) int {
	switch trust {
	case TrustSigned:
		return 2
	case TrustServer:
		return 1
	}
	return 0
}

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
	// Trust is how the sender was known (TrustBrowser, TrustServer,
	// TrustSigned); events stored before it existed read as TrustBrowser.
	Trust string
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
