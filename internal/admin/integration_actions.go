package admin

import (
	"net/http"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// The blueprint, test-send and replay actions on one integration.

func (s *Server) handleGetBlueprint(w http.ResponseWriter, r *http.Request) {
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in.Blueprint)
}

func (s *Server) handlePutBlueprint(w http.ResponseWriter, r *http.Request) {
	bp, err := decodeBlueprint(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.saveBlueprint(r, in, bp, "Replaced the blueprint")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, blueprintAnswer{Blueprint: v.Blueprint, Warnings: s.defaultsWarnings(in, v.Blueprint)})
}

func (s *Server) handleTest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.Email == "" {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "email is required: the test event is sent for this contact", "email")
		return
	}
	it, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.tester == nil {
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "test sends are not available on this server", "")
		return
	}
	res, err := s.tester.SendTest(r.Context(), it, in.Email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// targetRule is the naming rule of an integration's vendor for blueprint
// targets (nil when the vendor is not registered: generic checks only).
func (s *Server) targetRule(catalogKey string) blueprint.TargetRule {
	if v, ok := s.catalog.Vendor(catalogKey); ok {
		return v.ValidateTarget
	}
	return nil
}
