package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/contact"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Store is what the processor reads and writes.
type Store interface {
	ListEvents(ctx context.Context, p store.ListEventsParams) ([]signal.Event, error)
	Cursor(ctx context.Context, p store.CursorParams) (int64, error)
	PrepareProfiles(ctx context.Context, p store.ResolveProfilesParams) (*store.ProfilePass, error)
	RecordProcessed(ctx context.Context, p store.RecordProcessedParams) error
	ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error)
	// GetBackfill finds the integration a backfill's events are for.
	GetBackfill(ctx context.Context, p store.GetBackfillParams) (*store.Backfill, error)
	TypeStore
}

// Notifier is told which integrations have new pending deliveries.
type Notifier interface {
	Pending(integrationID string)
}

// IngestGauge says whether the gateway is appending events now (it began
// or finished an append a moment ago). On the embedded store (SQLite) the
// processor then takes passes of BusyBatch events, leaving the gateway's
// commits more of the machine.
type IngestGauge interface {
	IngestActive() bool
}

// Config tunes the processor.
type Config struct {
	// Batch is how many events one pass takes from the log.
	Batch int
	// BusyBatch, if set, is how many events one pass takes while
	// Deps.Ingest says the gateway is appending: smaller passes hold the
	// store's writer for less time, so the gateway's commits wait less;
	// larger passes cost less per event once it is quiet. Measured in
	// docs/benchmarks.md ("Session 5: the pass size follows the gateway").
	BusyBatch int
	// PassBytes bounds the payloads one pass reads (default 4 MiB; at
	// least one event): the public key may send events of up to 32 KB
	// each, and a pass holds its events, their profiles and their built
	// deliveries in memory at once.
	PassBytes int
	// Idle is how long to sleep when the log is drained and nobody wakes
	// the processor.
	Idle time.Duration
	// DedupeWindow: a message id seen again within it is not delivered again.
	DedupeWindow time.Duration
	// Linger is how long the processor waits after a pass that drained the
	// log before it looks again (default 20 ms; negative: not at all). Under
	// steady traffic a wake comes with every group commit, and a pass of a
	// handful of events costs nearly what a pass of hundreds does (a
	// transaction, its sync, the integrations read); lingering lets passes
	// grow and leaves the CPU to the gateway, at the price of at most Linger
	// of lag.
	Linger time.Duration
}

// Processor turns logged events into deliveries.
type Processor struct {
	cfg      Config
	store    Store
	hasher   Hasher
	vendors  *integration.Registry
	notifier Notifier
	log      *slog.Logger
	now      func() time.Time
	wake     chan struct{}
	phones   phoneCache
	types    *typeGuard
	// cursor is where this processor last moved the log's cursor, so a
	// pass need not read it back (valid while haveCursor). Another node
	// moving it meanwhile is caught by RecordProcessed's FromSeq check.
	cursor     int64
	haveCursor bool
	// backfills maps a backfill id to its integration (fixed for its
	// life); bounded by backfillCacheSize.
	backfills map[string]string
	ingest    IngestGauge
	// shrink: the last pass was refused (a conflict); the next takes
	// BusyBatch.
	shrink bool
}

// Deps are the processor's collaborators; Notifier may be nil, Log nil
// discards, Now nil is time.Now.
type Deps struct {
	Store    Store
	Hasher   Hasher
	Vendors  *integration.Registry
	Notifier Notifier
	Log      *slog.Logger
	Now      func() time.Time
	// Ingest, if set, chooses between Batch and BusyBatch for each pass.
	Ingest IngestGauge
}

// New returns a processor.
func New(cfg Config, d Deps) *Processor {
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.PassBytes <= 0 {
		cfg.PassBytes = 4 << 20
	}
	if cfg.BusyBatch <= 0 || cfg.BusyBatch > cfg.Batch {
		cfg.BusyBatch = cfg.Batch
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = 24 * time.Hour
	}
	if cfg.Linger == 0 {
		cfg.Linger = 20 * time.Millisecond
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Processor{cfg: cfg, store: d.Store, hasher: d.Hasher, vendors: d.Vendors, notifier: d.Notifier, log: d.Log, now: d.Now,
		wake: make(chan struct{}, 1), types: newTypeGuard(d.Store), ingest: d.Ingest}
}

// prepared is a pass read, resolved and built, not recorded yet.
type prepared struct {
	n      int  // events taken
	full   bool // it stopped at a bound: more events may be waiting
	record store.RecordProcessedParams
}

// pass processes up to limit events of the log, and up to PassBytes of
// their payloads (see ProcessOnce); full: it stopped at a bound, so more
// events may be waiting.
func (p *Processor) pass(ctx context.Context, limit int) (n int, full bool, err error) {
	pr, err := p.prepare(ctx, limit, nil, false)
	if err != nil || pr == nil {
		return 0, false, err
	}
	if _, err := p.recorded(pr, p.record(ctx, pr)); err != nil {
		return 0, false, err
	}
	return pr.n, pr.full, nil
}

// prepare reads the next events of the log (after before's, if set, or
// after the cursor), resolves their profiles and builds their deliveries:
// everything of a pass but its record. With before set (a pass prepared
// and being recorded meanwhile), it resolves over before's profile carry,
// as if before were recorded; it must then be recorded after before, and
// dropped if before is not recorded. overlap: the caller (Run) may prepare
// the next pass over this one's carry. nil: the log has nothing new.
func (p *Processor) prepare(ctx context.Context, limit int, before *prepared, overlap bool) (*prepared, error) {
	var carry *store.ProfileCarry
	if before != nil {
		carry = before.record.Profiles.Carry
	} else if !p.haveCursor {
		c, err := p.store.Cursor(ctx, store.CursorParams{Name: store.ProcessorCursor})
		if err != nil {
			return nil, err
		}
		p.cursor, p.haveCursor = c, true
	}
	cursor := p.cursor
	if before != nil {
		cursor = before.record.UpToSeq
	}
	// Erasures are counted before the batch is read: one committed after
	// this, even while the events are read, makes RecordProcessed refuse
	// the pass, so a payload read before its erasure is never built into
	// a delivery or a profile.
	erasures, err := p.store.Cursor(ctx, store.CursorParams{Name: store.ErasureCursor})
	if err != nil {
		return nil, err
	}
	events, err := p.store.ListEvents(ctx, store.ListEventsParams{AfterSeq: cursor, Limit: limit, MaxBytes: p.cfg.PassBytes})
	if err != nil || len(events) == 0 {
		return nil, err
	}
	full := len(events) >= limit
	if !full {
		bytes := 0
		for i := range events {
			bytes += len(events[i].Payload)
		}
		full = bytes >= p.cfg.PassBytes
	}
	ins, err := p.integrations(ctx)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC()
	targets, err := p.backfillTargets(ctx, events)
	if err != nil {
		return nil, err
	}
	if err := p.types.load(ctx, ins); err != nil {
		return nil, err
	}

	srcs := make([]blueprint.Source, len(events))
	items := make([]store.ProfileUpdate, len(events))
	unreadable := make([]bool, len(events))
	for i := range events {
		ev := &events[i]
		src, err := blueprint.Decode(ev.Payload)
		if err != nil {
			// The gateway validated it, so this should not happen; if it
			// does, the event is recorded as failed with its reason
			// rather than stopping the log behind it.
			p.log.Error("processor: stored event cannot be read", "seq", ev.Seq, "err", err)
			unreadable[i] = true
			continue
		}
		srcs[i] = src
		// The store keeps ids only inside the sealed payload.
		if v, ok := blueprint.Lookup(src, "userId"); ok {
			ev.UserID = idString(v)
		}
		if v, ok := blueprint.Lookup(src, "anonymousId"); ok {
			ev.AnonymousID = idString(v)
		}
		traits := eventTraits(src, ev.Type)
		p.canonicalPhone(traits, src)
		// The trust of the source decides whether its traits may replace
		// ones already set (a browser call cannot redirect a customer's
		// orders by sending their userId with another email).
		// The consent it states is remembered on the profile, for later
		// events that state none (server-side ones).
		items[i] = store.ProfileUpdate{Keys: profileKeys(p.hasher, ev, src), Traits: traits, Trust: signal.TrustRank(ev.Trust),
			Consent: consentWord(Consent(src))}
		if backfillOf(ev) != "" {
			// History never replaces what live traffic set: its traits
			// fill only missing keys, its consent is not remembered.
			items[i].FillOnly, items[i].Consent = true, ""
		}
	}
	// The profiles are resolved now and written with the deliveries, in
	// RecordProcessed's transaction: one commit a pass. A full pass keeps
	// a carry, for Run to prepare the next pass over while this one is
	// recorded, unless the gateway is appending: the cores are then its
	// too, and passes go one after the other (see step).
	keep := overlap && full && !p.ingestActive()
	pass, err := p.store.PrepareProfiles(ctx, store.ResolveProfilesParams{Items: items, Now: now, Carry: carry, KeepCarry: keep})
	if err != nil {
		return nil, err
	}
	// The earlier of the two counts: the store's, over a carry, is the one
	// read before the pass before's profiles.
	pass.Erasures = min(pass.Erasures, erasures)
	profiles := pass.Out

	var (
		deliveries []*signal.Delivery
		keys       []store.SearchKey
		processed  = make([]store.ProcessedEvent, 0, len(events))
	)
	for i := range events {
		if unreadable[i] {
			ev := &events[i]
			deliveries = append(deliveries, &signal.Delivery{
				EventSeq: ev.Seq, MessageID: ev.MessageID, PipelineID: ev.PipelineID, Type: ev.Type, Event: ev.Event,
				Status: signal.StatusFailed, Reason: signal.ReasonUnreadableEvent, ReceivedAt: ev.ReceivedAt,
				BackfillID: backfillOf(ev),
			})
			continue
		}
		deliveries = append(deliveries, p.deliveriesFor(&events[i], srcs[i], profiles[i], ins, targets, now)...)
		var (
			traits     map[string]any
			remembered string
		)
		if profiles[i] != nil {
			traits, remembered = profiles[i].Traits, profiles[i].Consent
		}
		keys = append(keys, searchKeys(p.hasher, &events[i], srcs[i], traits, profiles[i] != nil)...)
		body, err := processedBody(&events[i], traits, effectiveConsent(srcs[i], remembered))
		if err != nil {
			return nil, fmt.Errorf("processed event %d: %w", events[i].Seq, err)
		}
		pe := store.ProcessedEvent{EventSeq: events[i].Seq, Body: body}
		if profiles[i] != nil {
			pe.ProfileItem = i + 1
		}
		processed = append(processed, pe)
	}
	// The types first seen are stored before the deliveries built with
	// them: a crash between leaves types a rerun finds equal, never a
	// payload sent without its types remembered.
	if err := p.types.flush(ctx, now); err != nil {
		return nil, fmt.Errorf("remember property types: %w", err)
	}
	return &prepared{n: len(events), full: full, record: store.RecordProcessedParams{
		FromSeq: &cursor, UpToSeq: events[len(events)-1].Seq, Deliveries: deliveries, DedupeWindow: p.cfg.DedupeWindow, Now: now,
		SearchKeys: keys, Processed: processed, Profiles: pass,
	}}, nil
}

// canonicalPhone stores a phone trait in E.164 when the event that brings it
// says where the visitor is (context.locale) and the number is valid there:
// a national number given in the browser stays readable on later events,
// server-side ones included, that carry no locale. A number it cannot read,
// or reads as only possible (a French mobile under en-US), is kept as given,
// for a later event's locale or the integration's default region to read.
func (p *Processor) canonicalPhone(traits map[string]any, src blueprint.Source) {
	raw, ok := traits["phone"].(string)
	if !ok || raw == "" {
		return
	}
	region := ""
	if loc, ok := blueprint.Lookup(src, "context.locale"); ok {
		if s, ok := loc.(string); ok {
			region = contact.RegionFromLocale(s)
		}
	}
	if r := p.phones.read(raw, region); r.err == nil && r.valid {
		traits["phone"] = r.e164
	}
}

func (p *Processor) integrations(ctx context.Context) ([]*signal.Integration, error) {
	var all []*signal.Integration
	after := ""
	for {
		page, err := p.store.ListIntegrations(ctx, store.ListParams{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
}

// deliveriesFor returns one row per integration that receives the event's
// pipeline, or a single no_integration row when none does.
func (p *Processor) deliveriesFor(ev *signal.Event, src blueprint.Source, prof *signal.Profile, ins []*signal.Integration, targets map[string]string, now time.Time) []*signal.Delivery {
	var (
		traits     map[string]any
		remembered string
	)
	if prof != nil {
		traits, remembered = prof.Traits, prof.Consent
	}
	consent := effectiveConsent(src, remembered)
	var out []*signal.Delivery
	bf := backfillOf(ev)
	if bf != "" && string(ev.Payload) == erasedLine {
		// A line erased (contact erasure) before it was fed.
		return []*signal.Delivery{{EventSeq: ev.Seq, MessageID: ev.MessageID, PipelineID: ev.PipelineID, IntegrationID: targets[bf],
			Type: ev.Type, Event: ev.Event, Status: signal.StatusFiltered, Reason: signal.ReasonContactErased, ReceivedAt: ev.ReceivedAt, BackfillID: bf}}
	}
	for _, in := range ins {
		// A backfill's event goes to its integration only.
		if bf != "" && in.ID != targets[bf] || bf == "" && !in.ReceivesPipeline(ev.PipelineID) {
			continue
		}
		vendor, ok := p.vendors.Vendor(in.CatalogKey)
		if !ok {
			continue
		}
		d := buildGuarded(p.hasher, &p.phones, p.types, vendor, in, ev, src, traits, consent, now)
		d.BackfillID = bf
		out = append(out, d)
	}
	if len(out) == 0 {
		reason := signal.ReasonNoIntegration
		if bf != "" {
			reason = signal.ReasonIntegrationDeleted
		}
		out = append(out, &signal.Delivery{
			EventSeq: ev.Seq, MessageID: ev.MessageID, PipelineID: ev.PipelineID, Type: ev.Type, Event: ev.Event,
			Status: signal.StatusFiltered, Reason: reason, ReceivedAt: ev.ReceivedAt, BackfillID: bf,
		})
	}
	return out
}
