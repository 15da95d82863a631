package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseProfileTrust pins the trait trust rule both backends apply (they
// resolve profiles with two algorithms): a trait set by a more trusted
// source is never overwritten by a less trusted one, in one call or across
// calls, and when profiles merge, the more trusted value of a key wins
// whatever was updated last. Ranks: 0 browser, 1 server, 2 signed.
func exerciseProfileTrust(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	const (
		browser = 0
		server  = 1
		signed  = 2
	)
	type item struct {
		keys   string // comma-separated
		traits map[string]any
		trust  int
	}
	tests := []struct {
		name  string
		calls [][]item // each inner slice is one ResolveProfiles call, a minute apart
		key   string   // then look this key up
		want  map[string]any
	}{
		{
			name: "a browser call does not overwrite a signed trait",
			calls: [][]item{
				{{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example", "first_name": "Jane"}, trust: signed}},
				{{keys: "u:user1,a:attacker", traits: map[string]any{"email": "evil@attacker.example", "cart": "c9"}, trust: browser}},
			},
			key:  "u:user1",
			want: map[string]any{"email": "jane@shop.example", "first_name": "Jane", "cart": "c9"},
		},
		{
			name: "the same in one call",
			calls: [][]item{{
				{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example"}, trust: server},
				{keys: "u:user1", traits: map[string]any{"email": "evil@attacker.example"}, trust: browser},
			}},
			key:  "u:user1",
			want: map[string]any{"email": "jane@shop.example"},
		},
		{
			name: "a server call does not overwrite a signed trait",
			calls: [][]item{
				{{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example"}, trust: signed}},
				{{keys: "u:user1", traits: map[string]any{"email": "evil@attacker.example"}, trust: server}},
			},
			key:  "u:user1",
			want: map[string]any{"email": "jane@shop.example"},
		},
		{
			name: "a signed call overwrites a signed trait",
			calls: [][]item{
				{{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example"}, trust: signed}},
				{{keys: "u:user1", traits: map[string]any{"email": "jane.doe@shop.example"}, trust: signed}},
			},
			key:  "u:user1",
			want: map[string]any{"email": "jane.doe@shop.example"},
		},
		{
			name: "a server call overwrites a browser trait, and then holds",
			calls: [][]item{
				{{keys: "u:user1", traits: map[string]any{"email": "old@shop.example"}, trust: browser}},
				{{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example"}, trust: server}},
				{{keys: "u:user1", traits: map[string]any{"email": "evil@attacker.example"}, trust: browser}},
			},
			key:  "u:user1",
			want: map[string]any{"email": "jane@shop.example"},
		},
		{
			name: "browser calls still merge, new keys winning",
			calls: [][]item{
				{{keys: "a:anon1", traits: map[string]any{"email": "a@shop.example", "n": 1}, trust: browser}},
				{{keys: "a:anon1", traits: map[string]any{"email": "b@shop.example"}, trust: browser}},
			},
			key:  "a:anon1",
			want: map[string]any{"email": "b@shop.example", "n": 1},
		},
		{
			name: "a merge keeps the more trusted value though the other is newer",
			calls: [][]item{
				{{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example"}, trust: signed}},
				{{keys: "a:attacker", traits: map[string]any{"email": "evil@attacker.example", "cart": "c9"}, trust: browser}},
				{{keys: "u:user1,a:attacker", trust: browser}},
			},
			key:  "a:attacker",
			want: map[string]any{"email": "jane@shop.example", "cart": "c9"},
		},
		{
			name: "after a merge the trust stays with the key",
			calls: [][]item{
				{{keys: "u:user1", traits: map[string]any{"email": "jane@shop.example"}, trust: signed}},
				{{keys: "a:anon1", traits: map[string]any{"cart": "c1"}, trust: browser}},
				{{keys: "u:user1,a:anon1", trust: browser}},
				{{keys: "a:anon1", traits: map[string]any{"email": "evil@attacker.example"}, trust: browser}},
			},
			key:  "u:user1",
			want: map[string]any{"email": "jane@shop.example", "cart": "c1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, s, now := t.Context(), newStore(t), testNow()
			for i, call := range tt.calls {
				items := make([]store.ProfileUpdate, len(call))
				for j, it := range call {
					items[j] = store.ProfileUpdate{Keys: strings.Split(it.keys, ","), Traits: it.traits, Trust: it.trust}
				}
				_, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: items, Now: now.Add(time.Duration(i) * time.Minute)})
				requireNoError(t, err)
			}
			got, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{tt.key}}}, Now: now.Add(time.Hour)})
			requireNoError(t, err)
			if got[0] == nil {
				t.Fatalf("key %s has no profile", tt.key)
			}
			requireSameJSON(t, "traits", got[0].Traits, tt.want)
		})
	}

	// Outside input grows profiles: the number of trait keys, their length
	// and each value's size are bounded.
	t.Run("TraitsBounded", func(t *testing.T) {
		t.Parallel()
		ctx, s, now := t.Context(), newStore(t), testNow()
		for call := range 3 {
			traits := map[string]any{}
			for i := range store.MaxProfileTraits {
				traits[fmt.Sprintf("k%d_%d", call, i)] = i
			}
			traits[strings.Repeat("k", store.MaxTraitKeyLen+1)] = 1
			traits["big"] = strings.Repeat("x", store.MaxTraitValueBytes)
			_, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{"a:flood"}, Traits: traits}}, Now: now})
			requireNoError(t, err)
		}
		got, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{"a:flood"}}}, Now: now})
		requireNoError(t, err)
		p := got[0]
		if p == nil || len(p.Traits) != store.MaxProfileTraits {
			t.Fatalf("profile has %d traits, want the first %d", len(traitsOf(p)), store.MaxProfileTraits)
		}
		if _, ok := p.Traits["big"]; ok {
			t.Fatal("a trait value over the size bound was kept")
		}
		if _, ok := p.Traits["k0_0"]; !ok {
			t.Fatal("the first call's traits were not kept")
		}
	})

	t.Run("TraitBytesBounded", func(t *testing.T) {
		t.Parallel()
		ctx, s, now := t.Context(), newStore(t), testNow()
		value := strings.Repeat("v", store.MaxTraitValueBytes-2) // 1 KB as JSON
		for call := range 3 {
			traits := map[string]any{}
			for i := range 20 {
				traits[fmt.Sprintf("k%d_%02d", call, i)] = value
			}
			_, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{"a:flood"}, Traits: traits}}, Now: now})
			requireNoError(t, err)
		}
		got, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Items: []store.ProfileUpdate{{Keys: []string{"a:flood"}}}, Now: now})
		requireNoError(t, err)
		p := got[0]
		b, _ := json.Marshal(traitsOf(p))
		if p == nil || len(b) > store.MaxProfileBytes || len(p.Traits) < store.MaxProfileBytes/(store.MaxTraitValueBytes+16) {
			t.Fatalf("profile holds %d traits, %d bytes; want as many as fit in %d bytes", len(traitsOf(p)), len(b), store.MaxProfileBytes)
		}
	})
}

func traitsOf(p *signal.Profile) map[string]any {
	if p == nil {
		return nil
	}
	return p.Traits
}
