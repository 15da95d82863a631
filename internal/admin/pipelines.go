package admin

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// pipelineView is a pipeline as the API shows it: the signing secret only
// on creation.
type pipelineView struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Key           string `json:"pipeline_key"`
	SigningSecret string `json:"signing_secret,omitempty"`
	// SignedOnlyEvents are accepted only from signed /v1/events requests.
	SignedOnlyEvents []string `json:"signed_only_events"`
	// PreviousKeyUntil is when the key and secret rotated out stop working
	// (omitted when none still works).
	PreviousKeyUntil *time.Time `json:"previous_key_until,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

func (s *Server) viewPipeline(p *signal.Pipeline, withSecret bool) pipelineView {
	v := pipelineView{ID: p.ID, Name: p.Name, Key: p.Key, SignedOnlyEvents: p.SignedOnlyEvents, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if v.SignedOnlyEvents == nil {
		v.SignedOnlyEvents = []string{}
	}
	if p.PreviousKey != "" && p.PreviousUntil.After(s.now()) {
		until := p.PreviousUntil
		v.PreviousKeyUntil = &until
	}
	if withSecret {
		v.SigningSecret = p.SigningSecret
	}
	return v
}

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", signal.FieldErrorf(signal.EINVALID, "name", "name is required")
	}
	if len(name) > 200 {
		return "", signal.FieldErrorf(signal.EINVALID, "name", "name is longer than 200 characters")
	}
	return name, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) handleCreatePipeline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	name, err := validName(in.Name)
	if err != nil {
		writeErr(w, err)
		return
	}
	p, err := s.store.CreatePipeline(r.Context(), store.CreatePipelineParams{
		ID:            newID("pip_", 16),
		Name:          name,
		Key:           newPipelineKey(),
		SigningSecret: newSigningSecret(),
		Now:           s.now().UTC(),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, auditPipelineCreate, "pipeline", p.ID, "Created pipeline "+strconv.Quote(p.Name))
	writeJSON(w, http.StatusCreated, s.viewPipeline(p, true))
}

func (s *Server) handleListPipelines(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	ps, err := s.store.ListPipelines(r.Context(), store.ListParams{After: cursor, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(ps, limit, func(p *signal.Pipeline) string { return p.ID }, func(p *signal.Pipeline) pipelineView { return s.viewPipeline(p, false) }))
}

func (s *Server) handleGetPipeline(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPipeline(r.Context(), store.GetPipelineParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.viewPipeline(p, false))
}

func (s *Server) handleUpdatePipeline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name             *string   `json:"name"`
		SignedOnlyEvents *[]string `json:"signed_only_events"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.SignedOnlyEvents != nil {
		names, err := validEventNames(*in.SignedOnlyEvents)
		if err != nil {
			writeErr(w, err)
			return
		}
		in.SignedOnlyEvents = &names
	}
	if in.Name != nil {
		name, err := validName(*in.Name)
		if err != nil {
			writeErr(w, err)
			return
		}
		in.Name = &name
	}
	p, err := s.store.UpdatePipeline(r.Context(), store.UpdatePipelineParams{ID: r.PathValue("id"), Name: in.Name, SignedOnlyEvents: in.SignedOnlyEvents, Now: s.now().UTC()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Name != nil {
		s.audit(r, auditPipelineUpdate, "pipeline", p.ID, "Renamed pipeline to "+strconv.Quote(p.Name))
	}
	if in.SignedOnlyEvents != nil {
		s.audit(r, auditPipelineUpdate, "pipeline", p.ID, "Set the events accepted only when signed to "+strconv.Itoa(len(p.SignedOnlyEvents))+" names")
		if s.keys != nil {
			s.keys.ForgetPipelineKey(p.Key) // the gateway reads the new list now
		}
	}
	writeJSON(w, http.StatusOK, s.viewPipeline(p, false))
}

// validEventNames trims, deduplicates and bounds the signed-only names.
func validEventNames(in []string) ([]string, error) {
	if len(in) > 100 {
		return nil, signal.FieldErrorf(signal.EINVALID, "signed_only_events", "signed_only_events holds at most 100 event names")
	}
	out, seen := []string{}, map[string]bool{}
	for i, n := range in {
		n = strings.TrimSpace(n)
		if n == "" || len(n) > 200 {
			return nil, signal.FieldErrorf(signal.EINVALID, "signed_only_events["+strconv.Itoa(i)+"]", "an event name must be 1 to 200 characters")
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// Rotation overlaps: a day by default, at most 30 days.
const (
	defaultRotateOverlap = 24 * time.Hour
	maxRotateOverlap     = 30 * 24 * time.Hour
)

// handleRotatePipeline gives the pipeline a new key and signing secret,
// shown once; the old ones keep working for overlap_seconds, time to
// deploy the new ones to the site and servers.
func (s *Server) handleRotatePipeline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OverlapSeconds *int `json:"overlap_seconds"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	overlap := defaultRotateOverlap
	if in.OverlapSeconds != nil {
		if *in.OverlapSeconds < 0 || time.Duration(*in.OverlapSeconds)*time.Second > maxRotateOverlap {
			writeErr(w, signal.FieldErrorf(signal.EINVALID, "overlap_seconds", "overlap_seconds must be between 0 and %d (30 days)", int(maxRotateOverlap/time.Second)))
			return
		}
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
	}
	old, err := s.store.GetPipeline(r.Context(), store.GetPipelineParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now().UTC()
	p, err := s.store.RotatePipeline(r.Context(), store.RotatePipelineParams{
		ID:            old.ID,
		Key:           newPipelineKey(),
		SigningSecret: newSigningSecret(),
		PreviousUntil: now.Add(overlap),
		Now:           now,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.keys != nil {
		// The cached old key holds the pipeline as it was: read again, it
		// carries the overlap's end, which the gateway then enforces.
		s.keys.ForgetPipelineKey(old.Key)
		if old.PreviousKey != "" {
			s.keys.ForgetPipelineKey(old.PreviousKey) // replaced: ends now
		}
	}
	s.audit(r, auditPipelineRotate, "pipeline", p.ID, "Rotated the key and signing secret of pipeline "+strconv.Quote(p.Name)+"; the old ones work for "+overlap.String())
	writeJSON(w, http.StatusOK, s.viewPipeline(p, true))
}

func newPipelineKey() string {
	return "dk_live_" + strings.NewReplacer("-", "", "_", "").Replace(randomToken(24))
}

func newSigningSecret() string { return "whsec_" + randomToken(32) }

func (s *Server) handleDeletePipeline(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPipeline(r.Context(), store.GetPipelineParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeletePipeline(r.Context(), store.DeletePipelineParams{ID: p.ID}); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.keys != nil {
		s.keys.ForgetPipelineKey(p.Key) // its key stops working now, not when a cache expires
	}
	s.audit(r, auditPipelineDelete, "pipeline", p.ID, "Deleted pipeline "+strconv.Quote(p.Name))
	w.WriteHeader(http.StatusNoContent)
}
