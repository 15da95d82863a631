package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// The suite's "hash" of an id is readable ("U:"+user id, "A:"+anonymous
// id, "E:"+email): the store only compares keys.
const (
	janeUser, janeAnon, janeEmail = "u-jane", "a-jane", "jane.erase@shop.example"
	bobUser                       = "u-bob"
)

func eventKeys(payload []byte) []string {
	var m struct{ UserID, AnonymousID string }
	json.Unmarshal(payload, &m)
	var keys []string
	if m.UserID != "" {
		keys = append(keys, "U:"+m.UserID)
	}
	if m.AnonymousID != "" {
		keys = append(keys, "A:"+m.AnonymousID)
	}
	return keys
}

func contactBy(kind, value string) store.FindContactParams {
	p := store.FindContactParams{EventKeys: eventKeys, Now: testNow()}
	switch kind {
	case "user_id":
		p.ProfileKeys, p.SearchKeys = []string{"U:" + value}, []string{"U:" + value}
	case "anonymous_id":
		p.ProfileKeys = []string{"A:" + value}
	case "email":
		p.SearchKeys = []string{"E:" + value}
		p.MatchProfile = func(traits map[string]any) bool { return traits["email"] == value }
		p.MatchEvent = func(payload []byte) bool { return bytes.Contains(payload, []byte(value)) }
	}
	return p
}

func exerciseContacts(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		store store.Store
		jane  []*signal.Event // anonymous page, identify, order
		bob   *signal.Event
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		ctx, now, s := t.Context(), testNow(), newStore(t)
		requireNoError(t, s.CreateIntegration(ctx, store.CreateIntegrationParams{Integration: newIntegration("int_1", now)}))
		ev := func(typ, name, body string) *signal.Event {
			e := newEvent(now)
			e.Type, e.Event, e.Payload = typ, name, json.RawMessage(body)
			return e
		}
		b := &testBundle{store: s, jane: []*signal.Event{
			ev(signal.TypePage, "Home", `{"type":"page","anonymousId":"`+janeAnon+`"}`),
			ev(signal.TypeIdentify, "", `{"type":"identify","userId":"`+janeUser+`","anonymousId":"`+janeAnon+`","traits":{"email":"`+janeEmail+`"}}`),
			ev(signal.TypeTrack, "Order Completed", `{"type":"track","event":"Order Completed","userId":"`+janeUser+`"}`),
		}, bob: ev(signal.TypeTrack, "Order Completed", `{"type":"track","event":"Order Completed","userId":"`+bobUser+`"}`)}
		appendEvents(ctx, t, s, append(append([]*signal.Event{}, b.jane...), b.bob)...)
		_, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: now, Items: []store.ProfileUpdate{
			{Keys: []string{"U:" + janeUser, "A:" + janeAnon}, Traits: map[string]any{"email": janeEmail}},
			{Keys: []string{"U:" + bobUser}, Traits: map[string]any{"email": "bob@shop.example"}},
		}})
		requireNoError(t, err)
		var ds []*signal.Delivery
		for _, e := range []*signal.Event{b.jane[1], b.jane[2], b.bob} {
			d := pendingDelivery(e, "int_1")
			d.Payload = json.RawMessage(`{"email":"` + janeEmail + `"}`)
			ds = append(ds, d)
		}
		// The keys the processor indexes each event by: its ids, the
		// profile's email and every email in it.
		keys := []store.SearchKey{{EventSeq: b.jane[0].Seq, Key: "A:" + janeAnon},
			{EventSeq: b.jane[1].Seq, Key: "U:" + janeUser}, {EventSeq: b.jane[1].Seq, Key: "A:" + janeAnon}, {EventSeq: b.jane[1].Seq, Key: "E:" + janeEmail},
			{EventSeq: b.jane[2].Seq, Key: "E:" + janeEmail}, {EventSeq: b.jane[2].Seq, Key: "U:" + janeUser},
			{EventSeq: b.bob.Seq, Key: "U:" + bobUser}, {EventSeq: b.bob.Seq, Key: "E:bob@shop.example"}}
		err = s.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: b.bob.Seq, Deliveries: ds, DedupeWindow: time.Hour, Now: now,
			SearchKeys: keys, Processed: []store.ProcessedEvent{{EventSeq: b.jane[2].Seq, Body: []byte(`{"traits":{"email":"` + janeEmail + `"}}`)}}})
		requireNoError(t, err)
		return b
	}
	seqs := func(c *store.Contact) string {
		var out []string
		for _, e := range c.Events {
			out = append(out, fmt.Sprint(e.Event.Seq))
		}
		return strings.Join(out, ",")
	}

	for _, by := range []struct{ kind, value string }{{"user_id", janeUser}, {"anonymous_id", janeAnon}, {"email", janeEmail}} {
		t.Run("ExportEraseExport/"+by.kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx, s := t.Context(), b.store
			c, err := s.FindContact(ctx, contactBy(by.kind, by.value))
			requireNoError(t, err)
			want := fmt.Sprintf("%d,%d,%d", b.jane[0].Seq, b.jane[1].Seq, b.jane[2].Seq)
			if len(c.Profiles) != 1 || c.Profiles[0].Traits["email"] != janeEmail || seqs(c) != want {
				t.Fatalf("export = %d profiles %v, events %s; want Jane's profile and events %s", len(c.Profiles), c.Profiles, seqs(c), want)
			}
			if d := c.Events[2].Deliveries; len(d) != 1 || d[0].IntegrationID != "int_1" || d[0].Status != signal.StatusPending {
				t.Fatalf("order's deliveries = %+v, want its pending delivery to int_1", d)
			}

			res, err := s.EraseContact(ctx, contactBy(by.kind, by.value))
			requireNoError(t, err)
			if res != (store.EraseResult{Profiles: 1, Events: 3, Deliveries: 2}) {
				t.Fatalf("erased %+v, want 1 profile, 3 events, 2 deliveries", res)
			}
			for _, again := range []struct{ kind, value string }{{"user_id", janeUser}, {"anonymous_id", janeAnon}, {"email", janeEmail}} {
				c, err := s.FindContact(ctx, contactBy(again.kind, again.value))
				requireNoError(t, err)
				if len(c.Profiles) != 0 || len(c.Events) != 0 {
					t.Fatalf("export by %s after erase = %+v, want nothing", again.kind, c)
				}
			}
			// Bob is untouched.
			c, err = s.FindContact(ctx, contactBy("user_id", bobUser))
			requireNoError(t, err)
			if len(c.Profiles) != 1 || seqs(c) != fmt.Sprint(b.bob.Seq) {
				t.Fatalf("Bob after Jane's erasure = %+v", c)
			}
			// Live Events rows keep status and reason, nothing of Jane.
			rows := liveEvents(ctx, t, s, store.ListLiveEventsParams{Limit: 100})
			for _, r := range rows {
				raw, _ := json.Marshal(r)
				if r.MessageID == b.bob.MessageID {
					continue
				}
				if bytes.Contains(raw, []byte("jane")) {
					t.Fatalf("Live Events row %s holds Jane's data", raw)
				}
				if r.IntegrationID == "int_1" && (r.Status != signal.StatusFiltered || r.Reason != signal.ReasonContactErased) {
					t.Fatalf("row %s = %s/%s, want filtered/contact_erased", r.MessageID, r.Status, r.Reason)
				}
			}
			detail, err := s.GetLiveEvent(ctx, store.GetLiveEventParams{ID: fmt.Sprintf("evt_%d", b.jane[2].Seq)})
			if err == nil && bytes.Contains(detail.Processed, []byte("jane")) {
				t.Fatalf("processed event after erase = %s", detail.Processed)
			}
			// The pending delivery is not claimed any more.
			claimed, err := s.ClaimDeliveries(ctx, store.ClaimDeliveriesParams{IntegrationID: "int_1", Limit: 10, Now: testNow().Add(time.Minute), LeaseUntil: testNow().Add(2 * time.Minute)})
			requireNoError(t, err)
			if len(claimed) != 1 || claimed[0].EventSeq != b.bob.Seq {
				t.Fatalf("claimed %d deliveries, want only Bob's", len(claimed))
			}
			// Later events from Jane make a new profile.
			ps, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: testNow(), Items: []store.ProfileUpdate{{Keys: []string{"U:" + janeUser}, Traits: map[string]any{"plan": "new"}}}})
			requireNoError(t, err)
			if len(ps) != 1 || ps[0] == nil || len(ps[0].Traits) != 1 || ps[0].Traits["email"] != nil {
				t.Fatalf("Jane's next profile = %+v, want a new empty one", ps)
			}
			// Retention still removes the erased events.
			pr, err := s.Prune(ctx, store.PruneParams{Before: testNow().Add(time.Hour), DedupeBefore: testNow().Add(time.Hour), Limit: 100, Now: testNow()})
			requireNoError(t, err)
			if pr.Events != 4 {
				t.Fatalf("prune after erase deleted %d events, want all 4", pr.Events)
			}
		})
	}

	// Processed events are found by key: a request reads the payloads of
	// the events not processed yet, never those of the rest of the log.
	t.Run("ReadsOnlyUnprocessedEventsWhole", func(t *testing.T) {
		t.Parallel()
		ctx, now, s := t.Context(), testNow(), newStore(t)
		ev := func(body string) *signal.Event {
			e := newEvent(now)
			e.Type, e.Event, e.Payload = signal.TypeTrack, "Viewed", json.RawMessage(body)
			return e
		}
		var events []*signal.Event
		for i := range 300 {
			events = append(events, ev(fmt.Sprintf(`{"type":"track","userId":"u-other-%d"}`, i)))
		}
		jane := ev(`{"type":"track","userId":"` + janeUser + `","properties":{"contact":"` + janeEmail + `"}}`)
		events = append(events, jane)
		appendEvents(ctx, t, s, events...)
		var keys []store.SearchKey
		for _, e := range events[:300] {
			var m struct{ UserID string }
			json.Unmarshal(e.Payload, &m)
			keys = append(keys, store.SearchKey{EventSeq: e.Seq, Key: "U:" + m.UserID})
		}
		keys = append(keys, store.SearchKey{EventSeq: jane.Seq, Key: "U:" + janeUser}, store.SearchKey{EventSeq: jane.Seq, Key: "E:" + janeEmail})
		requireNoError(t, s.RecordProcessed(ctx, store.RecordProcessedParams{UpToSeq: jane.Seq, DedupeWindow: time.Hour, Now: now, SearchKeys: keys}))
		later := appendEvents(ctx, t, s, ev(`{"type":"track","userId":"u-later"}`), ev(`{"type":"track","properties":{"email":"`+janeEmail+`"}}`))

		for _, by := range []string{"user_id", "email"} {
			p := contactBy(by, map[string]string{"user_id": janeUser, "email": janeEmail}[by])
			read := 0
			eventKeys, match := p.EventKeys, p.MatchEvent
			p.EventKeys = func(payload []byte) []string { read++; return eventKeys(payload) }
			if match != nil {
				p.MatchEvent = func(payload []byte) bool { read++; return match(payload) }
			}
			c, err := s.FindContact(ctx, p)
			requireNoError(t, err)
			want := fmt.Sprint(jane.Seq)
			if by == "email" {
				want += fmt.Sprintf(",%d", later[1].Seq)
			}
			if got := seqs(c); got != want {
				t.Fatalf("by %s: events %s, want %s", by, got, want)
			}
			if read > 2*len(later) {
				t.Fatalf("by %s: %d payloads read for a log of %d events, want only the %d unprocessed ones", by, read, len(events)+len(later), len(later))
			}
		}
	})

	// The processor does not index an event with a profile by its
	// anonymous id: it records the profile with the processed event, kept
	// through merges (one in the pass that created both profiles, one in a
	// later pass). A request still finds every event of the person, by
	// either id, reading no payload, and erases them.
	t.Run("FoundThroughProfiles", func(t *testing.T) {
		t.Parallel()
		ctx, now, s := t.Context(), testNow(), newStore(t)
		anon := func(id string) *signal.Event { return pageEvent(now, `{"type":"page","anonymousId":"`+id+`"}`) }
		ident := func(anonID string) *signal.Event {
			return pageEvent(now, `{"type":"identify","userId":"`+janeUser+`","anonymousId":"`+anonID+`"}`)
		}
		var cursor int64
		pass := func(events []*signal.Event, items []store.ProfileUpdate) {
			t.Helper()
			appendEvents(ctx, t, s, events...)
			recordPass(t, s, &cursor, events, items)
		}
		visit := consentVisit
		// Pass 1: two visitors, each a new profile, merged by an identify.
		p1 := []*signal.Event{anon("a-one"), anon("a-two"), ident("a-two"), ident("a-one")}
		pass(p1, []store.ProfileUpdate{visit("a-one"), visit("a-two"),
			{Keys: []string{"U:" + janeUser, "A:a-two"}}, {Keys: []string{"U:" + janeUser, "A:a-one"}}})
		// Pass 2: a third visitor (a profile of its own); pass 3: it signs
		// in, and its profile is merged into Jane's.
		p2 := []*signal.Event{anon("a-three"), anon("a-stranger")}
		pass(p2, []store.ProfileUpdate{visit("a-three"), visit("a-stranger")})
		p3 := []*signal.Event{ident("a-three")}
		pass(p3, []store.ProfileUpdate{{Keys: []string{"U:" + janeUser, "A:a-three"}}})

		want := fmt.Sprintf("%d,%d,%d,%d,%d,%d", p1[0].Seq, p1[1].Seq, p1[2].Seq, p1[3].Seq, p2[0].Seq, p3[0].Seq)
		for _, by := range []struct{ kind, value string }{{"anonymous_id", "a-one"}, {"anonymous_id", "a-two"}, {"anonymous_id", "a-three"}, {"user_id", janeUser}} {
			p := contactBy(by.kind, by.value)
			read := 0
			p.EventKeys = func(payload []byte) []string { read++; return eventKeys(payload) }
			c, err := s.FindContact(ctx, p)
			requireNoError(t, err)
			if got := seqs(c); got != want || len(c.Profiles) != 1 || read != 0 {
				t.Fatalf("by %s %s: %d profiles, events %s (%d payloads read); want one profile, events %s, none read", by.kind, by.value, len(c.Profiles), got, read, want)
			}
		}
		res, err := s.EraseContact(ctx, contactBy("anonymous_id", "a-three"))
		requireNoError(t, err)
		if res.Profiles != 1 || res.Events != 6 {
			t.Fatalf("erased %+v, want 1 profile and 6 events", res)
		}
		for _, id := range []string{"a-one", "a-two", "a-three"} {
			c, err := s.FindContact(ctx, contactBy("anonymous_id", id))
			requireNoError(t, err)
			if len(c.Profiles) != 0 || len(c.Events) != 0 {
				t.Fatalf("export by %s after erase = %+v, want nothing", id, c)
			}
		}
		c, err := s.FindContact(ctx, contactBy("anonymous_id", "a-stranger"))
		requireNoError(t, err)
		if seqs(c) != fmt.Sprint(p2[1].Seq) {
			t.Fatalf("the stranger after Jane's erasure: events %s, want %d", seqs(c), p2[1].Seq)
		}
	})

	// A processor pass that commits while an erasure reads (here: while it
	// reads the unprocessed events) records a new event of the person with
	// their profile, unindexed by its anonymous id. The erasure's
	// transaction erases it too: left behind, it would point at a deleted
	// profile and no later request would find it.
	t.Run("EraseCatchesEventsRecordedMeanwhile", func(t *testing.T) {
		t.Parallel()
		ctx, now, s := t.Context(), testNow(), newStore(t)
		ev := func(anonID string) *signal.Event { return pageEvent(now, `{"type":"page","anonymousId":"`+anonID+`"}`) }
		visit := consentVisit
		var cursor int64
		first := appendEvents(ctx, t, s, ev("a-late"))
		recordPass(t, s, &cursor, first, []store.ProfileUpdate{visit("a-late")})
		unprocessed := appendEvents(ctx, t, s, ev("a-other"))
		var meanwhile *signal.Event
		p := contactBy("anonymous_id", "a-late")
		p.EventKeys = func(payload []byte) []string {
			if meanwhile == nil { // the pass, once
				meanwhile = appendEvents(ctx, t, s, ev("a-late"))[0]
				recordPass(t, s, &cursor, []*signal.Event{unprocessed[0], meanwhile}, []store.ProfileUpdate{visit("a-other"), visit("a-late")})
			}
			return eventKeys(payload)
		}
		res, err := s.EraseContact(ctx, p)
		requireNoError(t, err)
		if meanwhile == nil {
			t.Fatal("the erasure read no unprocessed event: the pass was never run")
		}
		if res.Profiles != 1 || res.Events != 2 {
			t.Fatalf("erased %+v, want 1 profile and both events of a-late", res)
		}
		evs, err := s.ListEvents(ctx, store.ListEventsParams{AfterSeq: meanwhile.Seq - 1, Limit: 1})
		requireNoError(t, err)
		if len(evs) != 1 || string(evs[0].Payload) != "{}" {
			t.Fatalf("the event recorded meanwhile holds %s, want it erased", evs[0].Payload)
		}
		c, err := s.FindContact(ctx, contactBy("anonymous_id", "a-other"))
		requireNoError(t, err)
		if seqs(c) != fmt.Sprint(unprocessed[0].Seq) {
			t.Fatalf("a-other after a-late's erasure: events %s, want %d", seqs(c), unprocessed[0].Seq)
		}
	})

	// A pass that merges the person's profile into an older one while an
	// export reads moves their keys and events to that profile: the export
	// sees its keys moved and starts over, so it returns every event of
	// the merged person.
	t.Run("MergeWhileReadingStartsOver", func(t *testing.T) {
		t.Parallel()
		ctx, now, s := t.Context(), testNow(), newStore(t)
		ev := func(body string) *signal.Event { return pageEvent(now, body) }
		var cursor int64
		older := appendEvents(ctx, t, s, ev(`{"type":"track","userId":"`+janeUser+`"}`))
		recordPass(t, s, &cursor, older, []store.ProfileUpdate{{Keys: []string{"U:" + janeUser}, Consent: signal.ConsentGranted}})
		visit := appendEvents(ctx, t, s, ev(`{"type":"page","anonymousId":"a-merge"}`))
		recordPass(t, s, &cursor, visit, []store.ProfileUpdate{{Keys: []string{"A:a-merge"}, Consent: signal.ConsentGranted}})
		unprocessed := appendEvents(ctx, t, s, ev(`{"type":"page","anonymousId":"a-other"}`))
		var signIn *signal.Event
		p := contactBy("anonymous_id", "a-merge")
		p.EventKeys = func(payload []byte) []string {
			if signIn == nil { // the sign-in's pass, once
				signIn = appendEvents(ctx, t, s, ev(`{"type":"identify","userId":"`+janeUser+`","anonymousId":"a-merge"}`))[0]
				recordPass(t, s, &cursor, []*signal.Event{unprocessed[0], signIn}, []store.ProfileUpdate{
					{Keys: []string{"A:a-other"}, Consent: signal.ConsentGranted}, {Keys: []string{"U:" + janeUser, "A:a-merge"}}})
			}
			return eventKeys(payload)
		}
		c, err := s.FindContact(ctx, p)
		requireNoError(t, err)
		want := fmt.Sprintf("%d,%d,%d", older[0].Seq, visit[0].Seq, signIn.Seq)
		if got := seqs(c); got != want || len(c.Profiles) != 1 {
			t.Fatalf("export by a-merge during the merge: %d profiles, events %s; want the merged profile, events %s", len(c.Profiles), got, want)
		}
	})

	// A pass that commits between an erasure's search and its transaction
	// links an id of the person that had no profile (its events indexed
	// by that id) to their profile: the transaction finds the new link and
	// erases that id's events too, instead of deleting the link and
	// leaving them tied to no one.
	t.Run("EraseCatchesIDsLinkedMeanwhile", func(t *testing.T) {
		t.Parallel()
		ctx, now, s := t.Context(), testNow(), newStore(t)
		var cursor int64
		early := appendEvents(ctx, t, s, pageEvent(now, `{"type":"page","anonymousId":"a-early"}`))
		recordPass(t, s, &cursor, early, []store.ProfileUpdate{{Keys: []string{"A:a-early"}}}) // no profile
		jane := appendEvents(ctx, t, s, pageEvent(now, `{"type":"track","userId":"`+janeUser+`"}`))
		recordPass(t, s, &cursor, jane, []store.ProfileUpdate{{Keys: []string{"U:" + janeUser}, Consent: signal.ConsentGranted}})
		unprocessed := appendEvents(ctx, t, s, pageEvent(now, `{"type":"page","anonymousId":"a-other"}`))
		var signIn *signal.Event
		p := contactBy("user_id", janeUser)
		p.EventKeys = func(payload []byte) []string {
			if signIn == nil { // the sign-in's pass, once
				signIn = appendEvents(ctx, t, s, pageEvent(now, `{"type":"identify","userId":"`+janeUser+`","anonymousId":"a-early"}`))[0]
				recordPass(t, s, &cursor, []*signal.Event{unprocessed[0], signIn}, []store.ProfileUpdate{
					{Keys: []string{"A:a-other"}}, {Keys: []string{"U:" + janeUser, "A:a-early"}}})
			}
			return eventKeys(payload)
		}
		res, err := s.EraseContact(ctx, p)
		requireNoError(t, err)
		if res.Profiles != 1 || res.Events != 3 {
			t.Fatalf("erased %+v, want Jane's profile and her 3 events (a-early's page view, her track, the sign-in)", res)
		}
		evs, err := s.ListEvents(ctx, store.ListEventsParams{AfterSeq: early[0].Seq - 1, Limit: 1})
		requireNoError(t, err)
		if len(evs) != 1 || string(evs[0].Payload) != "{}" {
			t.Fatalf("a-early's page view holds %s, want it erased", evs[0].Payload)
		}
	})

	// A profile id is never given twice, so an id read before an erasure
	// deleted its profile can never name someone else's.
	t.Run("ProfileIDsAreNotReused", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		first, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: testNow(), Items: []store.ProfileUpdate{consentVisit("a-gone")}})
		requireNoError(t, err)
		_, err = s.EraseContact(ctx, contactBy("anonymous_id", "a-gone"))
		requireNoError(t, err)
		next, err := s.ResolveProfiles(ctx, store.ResolveProfilesParams{Now: testNow(), Items: []store.ProfileUpdate{consentVisit("a-next")}})
		requireNoError(t, err)
		if next[0].ID <= first[0].ID {
			t.Fatalf("the next profile got id %d after profile %d was erased, want a new one", next[0].ID, first[0].ID)
		}
	})

	t.Run("UnknownPersonFindsNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := b.store.EraseContact(t.Context(), contactBy("email", "nobody@shop.example"))
		requireNoError(t, err)
		if res != (store.EraseResult{}) {
			t.Fatalf("erase of nobody = %+v", res)
		}
	})
}

// pageEvent is an event received at now with payload body.
func pageEvent(now time.Time, body string) *signal.Event {
	e := newEvent(now)
	e.Type, e.Event, e.Payload = signal.TypePage, "Home", json.RawMessage(body)
	return e
}

// consentVisit is the profile item of an anonymous visitor's event that
// states consent: it makes (or keeps) the visitor a profile.
func consentVisit(id string) store.ProfileUpdate {
	return store.ProfileUpdate{Keys: []string{"A:" + id}, Consent: signal.ConsentGranted}
}

// recordPass records events (already appended, the next ones after
// *cursor) as the processor does: a profile pass, the user id indexed, the
// anonymous id only of an event without a profile, the profile recorded
// with each processed event.
func recordPass(t *testing.T, s store.Store, cursor *int64, events []*signal.Event, items []store.ProfileUpdate) {
	t.Helper()
	ctx := t.Context()
	pp, err := s.PrepareProfiles(ctx, store.ResolveProfilesParams{Items: items, Now: testNow()})
	requireNoError(t, err)
	var (
		keys      []store.SearchKey
		processed []store.ProcessedEvent
	)
	for i, e := range events {
		for _, k := range items[i].Keys {
			if strings.HasPrefix(k, "U:") || (strings.HasPrefix(k, "A:") && pp.Out[i] == nil) {
				keys = append(keys, store.SearchKey{EventSeq: e.Seq, Key: k})
			}
		}
		pe := store.ProcessedEvent{EventSeq: e.Seq, Body: []byte(`{}`)}
		if pp.Out[i] != nil {
			pe.ProfileItem = i + 1
		}
		processed = append(processed, pe)
	}
	from := *cursor
	requireNoError(t, s.RecordProcessed(ctx, store.RecordProcessedParams{FromSeq: &from, UpToSeq: events[len(events)-1].Seq,
		DedupeWindow: time.Hour, Now: testNow(), SearchKeys: keys, Processed: processed, Profiles: pp}))
	*cursor = events[len(events)-1].Seq
}
