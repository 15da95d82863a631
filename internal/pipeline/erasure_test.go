package pipeline

import (
	"context"
	"testing"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/sqlite"
)

// eraseDuring is the store with a contact erasure committed at one point
// of the processor's pass: right after it read the batch of events
// (afterList), or after it read the profile pass, before it is recorded.
type eraseDuring struct {
	*sqlite.DB
	afterList bool
	erase     func(ctx context.Context) error
	// limits are the passes' sizes, in order.
	limits []int
}

func (s *eraseDuring) run(ctx context.Context) error {
	if s.erase == nil {
		return nil
	}
	err := s.erase(ctx)
	s.erase = nil
	return err
}

func (s *eraseDuring) ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error) {
	s.limits = append(s.limits, p.Limit)
	evs, err := s.DB.ListEvents(ctx, p)
	if err == nil && s.afterList {
		err = s.run(ctx)
	}
	return evs, err
}

func (s *eraseDuring) PrepareProfiles(ctx context.Context, p store.ResolveProfilesParams) (*store.ProfilePass, error) {
	pass, err := s.DB.PrepareProfiles(ctx, p)
	if err == nil && !s.afterList {
		err = s.run(ctx)
	}
	return pass, err
}

// TestErasureDuringPass: a contact erased while a pass is under way (after
// its events were read, or after its profiles were) is not written back,
// and the events are processed again without the erased traits, by a pass
// of BusyBatch events (a small pass is less likely to be refused again).
func TestErasureDuringPass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		afterList bool
	}{
		{"after the events were read", true},
		{"after the profiles were read", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testErasureDuringPass(t, tc.afterList)
		})
	}
}

func testErasureDuringPass(t *testing.T, afterList bool) {
	b := setup(t)
	in := b.install(t)
	b.send(t, janeIdentify)
	b.process(t)

	s := &eraseDuring{DB: b.db, afterList: afterList, erase: func(ctx context.Context) error {
		_, err := b.db.EraseContact(ctx, store.FindContactParams{ProfileKeys: []string{b.box.Hash("u:user-123")}, Now: b.now})
		return err
	}}
	b.proc.store = s
	b.proc.cfg.BusyBatch = 7
	b.send(t, `{"type":"track","messageId":"order-1","userId":"user-123","event":"Order Completed",`+orderProps+`}`)
	n, err := b.proc.ProcessOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("ProcessOnce = %d, %v; want the batch taken and refused (1, nil)", n, err)
	}
	if s.erase != nil {
		t.Fatal("the erasure did not run")
	}
	if cur, err := b.db.Cursor(context.Background(), store.CursorParams{Name: store.ProcessorCursor}); err != nil || cur != 1 {
		t.Fatalf("Cursor = %d, %v after the refused pass; want 1 (only the identify recorded)", cur, err)
	}
	out, err := b.db.ResolveProfiles(context.Background(), store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{b.box.Hash("u:user-123")}}}, Now: b.now})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != nil {
		t.Fatalf("erased profile written back: %+v", out[0])
	}

	b.process(t)
	if len(s.limits) < 3 || s.limits[0] != b.proc.cfg.Batch || s.limits[1] != 7 || s.limits[2] != b.proc.cfg.Batch {
		t.Fatalf("passes asked for %v events; want Batch, then BusyBatch (7) after the refusal, then Batch", s.limits)
	}
	le := b.rowOf(t, "order-1", in.ID)
	if c := payloadOf(t, le).Contact; c["email"] != "" || c["firstName"] != "" {
		t.Fatalf("order-1 carries the erased contact's traits: %v", c)
	}
}
