package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseProfileConsent: a profile remembers the last marketing consent an
// event stated, sealed with its traits, across passes and merges.
func exerciseProfileConsent(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
	}
	// pass applies items as one call, a second later than the last.
	type pass []store.ProfileUpdate

	tests := []struct {
		name   string
		passes []pass
		// lookup is the key read back at the end; want its consent.
		lookup string
		want   string
	}{
		{"BrowserConsentRemembered", []pass{
			{{Keys: []string{"a:anon1"}, Consent: signal.ConsentGranted}},
		}, "a:anon1", signal.ConsentGranted},
		{"ServerEventWithoutConsentKeepsIt", []pass{
			{{Keys: []string{"a:anon1", "u:1"}, Traits: map[string]any{"email": "jane@shop.example"}, Consent: signal.ConsentGranted}},
			{{Keys: []string{"u:1"}, Trust: 2}},
		}, "u:1", signal.ConsentGranted},
		{"LaterConsentWins", []pass{
			{{Keys: []string{"a:anon1"}, Consent: signal.ConsentGranted}},
			{{Keys: []string{"a:anon1"}, Consent: signal.ConsentDenied}},
		}, "a:anon1", signal.ConsentDenied},
		{"SamePassInOrder", []pass{
			{{Keys: []string{"a:anon1"}, Consent: signal.ConsentDenied}, {Keys: []string{"a:anon1"}, Consent: signal.ConsentGranted}},
		}, "a:anon1", signal.ConsentGranted},
		{"MergeKeepsTheConsentStatedLast", []pass{
			{{Keys: []string{"a:anon1"}, Consent: signal.ConsentGranted}},
			{{Keys: []string{"u:1"}, Traits: map[string]any{"email": "jane@shop.example"}, Trust: 2}},
			{{Keys: []string{"a:anon1", "u:1"}}},
		}, "u:1", signal.ConsentGranted},
		{"VisitorTraitIsNotConsent", []pass{
			{{Keys: []string{"a:anon1"}, Traits: map[string]any{"$signal_consent": signal.ConsentGranted, "plan": "pro"}}},
		}, "a:anon1", ""},
		{"NoConsentStated", []pass{
			{{Keys: []string{"a:anon1"}, Traits: map[string]any{"plan": "pro"}}},
		}, "a:anon1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bundle := setup(t)
			for i, items := range tt.passes {
				_, err := bundle.store.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{Items: items, Now: bundle.now.Add(time.Duration(i) * time.Second)})
				requireNoError(t, err)
			}
			out, err := bundle.store.ResolveProfiles(bundle.ctx, store.ResolveProfilesParams{
				Items: []store.ProfileUpdate{{Keys: []string{tt.lookup}}}, Now: bundle.now.Add(time.Hour)})
			requireNoError(t, err)
			if out[0] == nil {
				t.Fatalf("key %s has no profile", tt.lookup)
			}
			if out[0].Consent != tt.want {
				t.Fatalf("consent = %q, want %q", out[0].Consent, tt.want)
			}
			if _, leaked := out[0].Traits["$signal_consent"]; leaked {
				t.Fatalf("traits %v carry the stored consent key", out[0].Traits)
			}
		})
	}
}
