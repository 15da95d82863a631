package pipeline

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
)

// ReplayReasons are the filtered reasons a replay may rebuild: they come
// from a setting (the blueprint, dry run, the integration switched off),
// not from the event, so fixing the setting makes the event sendable.
var ReplayReasons = []signal.Reason{signal.ReasonEventNotEnabled, signal.ReasonDryRun, signal.ReasonIntegrationDisabled}

// Rebuild decides again what a stored event means for one integration, by
// the processor's own code (build) and the integration as it stands now:
// its current blueprint and settings. The visitor is the one the event was
// processed with (processed, the stored signal.Processed: its ids and the
// profile's traits then), so a replay sends what the live event would have
// sent; without it, the event's own traits. The delivery keeps its ID.
func Rebuild(h Hasher, vendor integration.Vendor, in *signal.Integration, old *signal.Delivery, ev *signal.Event, processed []byte, now time.Time) (*signal.Delivery, error) {
	src, err := blueprint.Decode(ev.Payload)
	if err != nil {
		return nil, fmt.Errorf("rebuild delivery %d: event %d cannot be read: %w", old.ID, ev.Seq, err)
	}
	e := *ev
	var traits map[string]any
	consent := Consent(src)
	if len(processed) > 0 {
		var pr signal.Processed
		if err := json.Unmarshal(processed, &pr); err != nil {
			return nil, fmt.Errorf("rebuild delivery %d: processed event: %w", old.ID, err)
		}
		e.UserID, e.AnonymousID, traits = pr.UserID, pr.AnonymousID, pr.Traits
		// The consent the event was processed with: its own, or the one
		// its visitor's profile remembered (a server-side order).
		consent = consentOf(pr.Consent, consent)
	} else {
		if v, ok := blueprint.Lookup(src, "userId"); ok {
			e.UserID = idString(v)
		}
		if v, ok := blueprint.Lookup(src, "anonymousId"); ok {
			e.AnonymousID = idString(v)
		}
		traits = eventTraits(src, e.Type)
	}
	var phones phoneCache
	d := buildGuarded(h, &phones, nil, vendor, in, &e, src, traits, consent, now)
	d.ID = old.ID
	// A replay gives the event a fresh window: the blueprint's max age
	// counts from the replay, not from when the event first came.
	d.ExpiresAt = time.Time{}
	return d, nil
}

// consentOf reads a consent as signal.Processed keeps it
// (integration.Consent's String); an empty one, from a processed event
// stored before it was kept, is fallback.
func consentOf(word string, fallback integration.Consent) integration.Consent {
	for _, c := range []integration.Consent{integration.ConsentGranted, integration.ConsentDenied, integration.ConsentUnknown} {
		if word == c.String() {
			return c
		}
	}
	return fallback
}
