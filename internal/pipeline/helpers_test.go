package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/integration/omnisend"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
)

// Pipelines events arrive on in these tests.
const (
	pipA = "pip_a"
	pipB = "pip_b"
)

// testBundle is a processor over a real SQLite store, with a fixed clock.
type testBundle struct {
	db   *sqlite.DB
	box  *crypt.Box
	proc *Processor
	now  time.Time
	ids  atomic.Int64
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	key, err := crypt.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := crypt.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	box, err := crypt.NewBox(kb)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: t.TempDir() + "/signal.db", Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &testBundle{db: db, box: box, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	vendors := integration.NewRegistry()
	vendors.Register(omnisend.New(omnisend.Options{BaseURL: "http://127.0.0.1:1"}))
	b.proc = New(Config{Batch: 100}, db, box, vendors, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return b.now })
	return b
}

// install stores an enabled, active Omnisend integration with the default
// blueprint, changed by the options.
func (b *testBundle) install(t *testing.T, opts ...func(*signal.Integration)) *signal.Integration {
	t.Helper()
	in := &signal.Integration{
		ID: fmt.Sprintf("int_test%d", b.ids.Add(1)), CatalogKey: omnisend.Key, Name: "Omnisend", Variant: "default",
		DeliveryMode: "server_side", Config: map[string]any{"api_key": "test-key-0123456789"}, Enabled: true,
		Status: signal.IntegrationActive, PipelineIDs: []string{}, Blueprint: blueprint.Default(), CreatedAt: b.now, UpdatedAt: b.now,
	}
	for _, o := range opts {
		o(in)
	}
	if err := b.db.CreateIntegration(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return in
}

// withConfig sets config values next to the api_key.
func withConfig(kv map[string]any) func(*signal.Integration) {
	return func(in *signal.Integration) {
		for k, v := range kv {
			in.Config[k] = v
		}
	}
}

// send appends raw Segment messages to pipeline pipA's log.
func (b *testBundle) send(t *testing.T, msgs ...string) {
	t.Helper()
	b.sendTo(t, pipA, msgs...)
}

// sendTo appends raw Segment messages to a pipeline's log, with the fields
// the gateway sets (see gateway.decodeMessage).
func (b *testBundle) sendTo(t *testing.T, pipelineID string, msgs ...string) {
	t.Helper()
	b.sendAs(t, pipelineID, signal.TrustBrowser, msgs...)
}

// sendAs is sendTo for events that came with a trust level (signal.Trust*).
func (b *testBundle) sendAs(t *testing.T, pipelineID, trust string, msgs ...string) {
	t.Helper()
	evs := make([]*signal.Event, 0, len(msgs))
	for _, raw := range msgs {
		var m signal.Message
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("test message %s: %v", raw, err)
		}
		ev := &signal.Event{
			MessageID: string(m.MessageID), PipelineID: pipelineID, Type: m.Type, UserID: string(m.UserID),
			AnonymousID: string(m.AnonymousID), Timestamp: b.now, ReceivedAt: b.now, Trust: trust, Payload: json.RawMessage(raw),
		}
		switch m.Type {
		case signal.TypeTrack:
			ev.Event = m.Event
		case signal.TypePage, signal.TypeScreen:
			ev.Event = m.Name
		}
		if m.Timestamp != "" {
			ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			ev.Timestamp = ts.UTC()
		}
		if ev.MessageID == "" {
			ev.MessageID = fmt.Sprintf("gen-%d", b.ids.Add(1))
		}
		evs = append(evs, ev)
	}
	if err := b.db.AppendEvents(context.Background(), store.AppendEventsParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
}

// process runs the processor until the log is drained.
func (b *testBundle) process(t *testing.T) {
	t.Helper()
	for {
		n, err := b.proc.ProcessOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// rows returns the live events of a message, newest first.
func (b *testBundle) rows(t *testing.T, messageID string) []*signal.LiveEvent {
	t.Helper()
	all, _, err := b.db.ListLiveEvents(context.Background(), store.ListLiveEventsParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*signal.LiveEvent
	for _, le := range all {
		if le.MessageID == messageID {
			out = append(out, le)
		}
	}
	return out
}

// row returns the one live event of a message.
func (b *testBundle) row(t *testing.T, messageID string) *signal.LiveEvent {
	t.Helper()
	rs := b.rows(t, messageID)
	if len(rs) != 1 {
		t.Fatalf("message %s has %d live events, want 1: %s", messageID, len(rs), describe(rs))
	}
	return rs[0]
}

// rowOf returns the live event of a message on one integration.
func (b *testBundle) rowOf(t *testing.T, messageID, integrationID string) *signal.LiveEvent {
	t.Helper()
	rs := b.rows(t, messageID)
	for _, le := range rs {
		if le.IntegrationID == integrationID {
			return le
		}
	}
	t.Fatalf("message %s has no live event on %s: %s", messageID, integrationID, describe(rs))
	return nil
}

func describe(rs []*signal.LiveEvent) string {
	var parts []string
	for _, le := range rs {
		parts = append(parts, fmt.Sprintf("{%s %s %s/%s note=%q}", le.ID, le.IntegrationID, le.Status, le.Reason, le.Note))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// sentPayload is the part of an Omnisend body the tests read.
type sentPayload struct {
	EventName  string            `json:"eventName"`
	Contact    map[string]string `json:"contact"`
	Properties map[string]any    `json:"properties"`
}

// payloadOf decodes a live event's payload, numbers as json.Number.
func payloadOf(t *testing.T, le *signal.LiveEvent) sentPayload {
	t.Helper()
	var p sentPayload
	dec := json.NewDecoder(strings.NewReader(string(le.Payload)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("payload %s: %v", le.Payload, err)
	}
	return p
}

// wantStatus fails unless le has the status and reason.
func wantStatus(t *testing.T, le *signal.LiveEvent, status, reason string) {
	t.Helper()
	if le.Status != status || le.Reason != reason {
		t.Fatalf("live event %s of %s: %s/%s (note %q), want %s/%s", le.ID, le.MessageID, le.Status, le.Reason, le.Note, status, reason)
	}
}

// claimAll leases every due pending delivery of an integration.
func (b *testBundle) claimAll(t *testing.T, integrationID string) map[string]*signal.Delivery {
	t.Helper()
	ds, err := b.db.ClaimDeliveries(context.Background(), store.ClaimDeliveriesParams{
		IntegrationID: integrationID, Limit: 1000, Now: b.now, LeaseUntil: b.now.Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*signal.Delivery{}
	for _, d := range ds {
		out[d.MessageID] = d
	}
	return out
}
