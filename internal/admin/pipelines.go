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
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Key           string    `json:"pipeline_key"`
	SigningSecret string    `json:"signing_secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func viewPipeline(p *signal.Pipeline, withSecret bool) pipelineView {
	v := pipelineView{ID: p.ID, Name: p.Name, Key: p.Key, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
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
		Key:           "dk_live_" + strings.NewReplacer("-", "", "_", "").Replace(randomToken(24)),
		SigningSecret: "whsec_" + randomToken(32),
		Now:           s.now().UTC(),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, auditPipelineCreate, "pipeline", p.ID, "Created pipeline "+strconv.Quote(p.Name))
	writeJSON(w, http.StatusCreated, viewPipeline(p, true))
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
	out := page[pipelineView]{Data: []pipelineView{}}
	for i, p := range ps {
		if i == limit {
			out.HasMore, out.NextCursor = true, ps[limit-1].ID
			break
		}
		out.Data = append(out.Data, viewPipeline(p, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetPipeline(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPipeline(r.Context(), store.GetPipelineParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewPipeline(p, false))
}

func (s *Server) handleUpdatePipeline(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name *string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.Name != nil {
		name, err := validName(*in.Name)
		if err != nil {
			writeErr(w, err)
			return
		}
		in.Name = &name
	}
	p, err := s.store.UpdatePipeline(r.Context(), store.UpdatePipelineParams{ID: r.PathValue("id"), Name: in.Name, Now: s.now().UTC()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Name != nil {
		s.audit(r, auditPipelineUpdate, "pipeline", p.ID, "Renamed pipeline to "+strconv.Quote(p.Name))
	}
	writeJSON(w, http.StatusOK, viewPipeline(p, false))
}

func (s *Server) handleDeletePipeline(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPipeline(r.Context(), store.GetPipelineParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeletePipeline(r.Context(), p.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.keys != nil {
		s.keys.ForgetPipelineKey(p.Key) // its key stops working now, not when a cache expires
	}
	s.audit(r, auditPipelineDelete, "pipeline", p.ID, "Deleted pipeline "+strconv.Quote(p.Name))
	w.WriteHeader(http.StatusNoContent)
}
