package admin

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// contactQuery names one person by exactly one identifier. POST bodies,
// so personal data never sits in a URL (or an access log).
type contactQuery struct {
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	UserID      string `json:"user_id"`
	AnonymousID string `json:"anonymous_id"`
}

// findParams reads the body and says how the store recognises the person.
func (s *Server) contactParams(r *http.Request) (store.FindContactParams, error) {
	var q contactQuery
	if err := decode(r, &q); err != nil {
		return store.FindContactParams{}, err
	}
	set := 0
	for _, v := range []string{q.Email, q.Phone, q.UserID, q.AnonymousID} {
		if strings.TrimSpace(v) != "" {
			set++
		}
	}
	if set != 1 {
		return store.FindContactParams{}, signal.FieldErrorf(signal.EINVALID, "email", "send exactly one of email, phone, user_id or anonymous_id")
	}
	if s.hasher == nil {
		return store.FindContactParams{}, signal.Errorf(signal.EINTERNAL, "contact requests need the id hasher")
	}
	h := s.hasher.Hash
	p := store.FindContactParams{Now: s.now().UTC(), EventKeys: func(payload []byte) []string {
		var m struct {
			UserID      signal.ID `json:"userId"`
			AnonymousID signal.ID `json:"anonymousId"`
		}
		json.Unmarshal(payload, &m)
		var keys []string
		if m.UserID != "" {
			keys = append(keys, h("u:"+string(m.UserID)))
		}
		if m.AnonymousID != "" {
			keys = append(keys, h("a:"+string(m.AnonymousID)))
		}
		return keys
	}}
	switch {
	case q.UserID != "":
		p.ProfileKeys, p.SearchKeys = []string{h("u:" + q.UserID)}, []string{h("u:" + q.UserID)}
	case q.AnonymousID != "":
		p.ProfileKeys = []string{h("a:" + q.AnonymousID)}
	case q.Email != "":
		email := pipeline.SearchEmail(q.Email)
		if !strings.Contains(email, "@") {
			return p, signal.FieldErrorf(signal.EINVALID, "email", "email must be an email address")
		}
		p.SearchKeys = []string{h("e:" + email)}
		same := func(v string) bool { return pipeline.SearchEmail(v) == email }
		p.MatchProfile = func(traits map[string]any) bool { return anyString(traits, same) }
		p.MatchEvent = func(payload []byte) bool { return payloadHas(payload, same) }
	default:
		digits := phoneDigits(q.Phone)
		if len(digits) < 6 {
			return p, signal.FieldErrorf(signal.EINVALID, "phone", "phone must hold at least 6 digits")
		}
		// Exact digits, so that no one else's number is erased; processed
		// events are found by the same digits' key.
		p.SearchKeys = []string{h("p:" + digits)}
		same := func(v string) bool { return phoneDigits(v) == digits }
		p.MatchProfile = func(traits map[string]any) bool { return anyString(traits, same) }
		p.MatchEvent = func(payload []byte) bool { return payloadHas(payload, same) }
	}
	return p, nil
}

func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anyString reports whether some string value in v, at any depth, matches.
func anyString(v any, match func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return match(x)
	case map[string]any:
		for _, e := range x {
			if anyString(e, match) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if anyString(e, match) {
				return true
			}
		}
	}
	return false
}

func payloadHas(payload []byte, match func(string) bool) bool {
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return false
	}
	return anyString(v, match)
}

type contactExport struct {
	Profiles []contactProfile `json:"profiles"`
	Events   []contactEvent   `json:"events"`
}

type contactProfile struct {
	IDs    contactIDs     `json:"ids"`
	Traits map[string]any `json:"traits"`
}

// contactIDs are the ids the person's events carried (profiles keep only
// keyed hashes of them).
type contactIDs struct {
	UserIDs      []string `json:"user_ids"`
	AnonymousIDs []string `json:"anonymous_ids"`
}

type contactEvent struct {
	MessageID  string            `json:"message_id"`
	PipelineID string            `json:"pipeline_id"`
	Type       string            `json:"type"`
	Event      string            `json:"event,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	Input      json.RawMessage   `json:"input"`
	Deliveries []contactDelivery `json:"deliveries"`
}

type contactDelivery struct {
	IntegrationID string                `json:"integration_id"`
	Status        signal.DeliveryStatus `json:"status"`
	Reason        signal.Reason         `json:"reason"`
}

func (s *Server) handleExportContact(w http.ResponseWriter, r *http.Request) {
	p, err := s.contactParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.store.FindContact(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := contactExport{Profiles: []contactProfile{}, Events: []contactEvent{}}
	users, anons := map[string]bool{}, map[string]bool{}
	for _, ce := range c.Events {
		e := ce.Event
		var m struct {
			UserID      signal.ID `json:"userId"`
			AnonymousID signal.ID `json:"anonymousId"`
		}
		json.Unmarshal(e.Payload, &m)
		if m.UserID != "" {
			users[string(m.UserID)] = true
		}
		if m.AnonymousID != "" {
			anons[string(m.AnonymousID)] = true
		}
		ev := contactEvent{MessageID: e.MessageID, PipelineID: e.PipelineID, Type: e.Type, Event: e.Event, ReceivedAt: e.ReceivedAt,
			Input: e.Payload, Deliveries: []contactDelivery{}}
		for _, d := range ce.Deliveries {
			ev.Deliveries = append(ev.Deliveries, contactDelivery{IntegrationID: d.IntegrationID, Status: d.Status, Reason: d.Reason})
		}
		out.Events = append(out.Events, ev)
	}
	for _, pr := range c.Profiles {
		out.Profiles = append(out.Profiles, contactProfile{IDs: contactIDs{UserIDs: sorted(users), AnonymousIDs: sorted(anons)}, Traits: pr.Traits})
	}
	s.audit(r, auditContactExport, "contact", "", "Exported a contact's data: "+strconv.Itoa(len(out.Profiles))+" profiles, "+strconv.Itoa(len(out.Events))+" events")
	writeJSON(w, http.StatusOK, out)
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) handleEraseContact(w http.ResponseWriter, r *http.Request) {
	p, err := s.contactParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.store.EraseContact(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The entry records that an erasure happened, never whose.
	s.audit(r, auditContactErase, "contact", "", "Erased a contact's data on request: "+strconv.Itoa(res.Profiles)+" profiles, "+
		strconv.Itoa(res.Events)+" events, "+strconv.Itoa(res.Deliveries)+" deliveries")
	writeJSON(w, http.StatusOK, map[string]store.EraseResult{"erased": res})
}
