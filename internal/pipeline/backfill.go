package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// BackfillPrefix starts a backfill's id. A backfill's lines are logged with
// that id as their pipeline id: the processor builds them for the
// backfill's integration alone, into deliveries marked with the backfill,
// which the live claim skips and the backfill sender sends in batches.
const BackfillPrefix = "bf_"

// erasedLine is a backfill line erased before it was fed (the store's
// erased payload): it ends filtered, contact_erased.
const erasedLine = `{}`

// backfillOf is the backfill an event was logged for ("" for a live one).
func backfillOf(ev *signal.Event) string {
	if strings.HasPrefix(ev.PipelineID, BackfillPrefix) {
		return ev.PipelineID
	}
	return ""
}

// backfillCacheSize bounds Processor.backfills: backfills are created by
// editors, a handful at a time; past the bound the map starts over.
const backfillCacheSize = 1024

// backfillTargets maps the backfills of a pass's events to their
// integrations. An unknown backfill maps to "" (its events are then
// filtered, integration_deleted).
func (p *Processor) backfillTargets(ctx context.Context, events []signal.Event) (map[string]string, error) {
	for i := range events {
		bf := backfillOf(&events[i])
		if bf == "" {
			continue
		}
		if _, ok := p.backfills[bf]; ok {
			continue
		}
		if p.backfills == nil || len(p.backfills) >= backfillCacheSize {
			p.backfills = map[string]string{}
		}
		b, err := p.store.GetBackfill(ctx, store.GetBackfillParams{ID: bf})
		switch {
		case signal.ErrorCode(err) == signal.ENOTFOUND:
			p.backfills[bf] = ""
		case err != nil:
			return nil, fmt.Errorf("backfill of event %d: %w", events[i].Seq, err)
		default:
			p.backfills[bf] = b.IntegrationID
		}
	}
	return p.backfills, nil
}
