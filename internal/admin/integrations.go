package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/integration"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

type integrationView struct {
	ID           string         `json:"id"`
	CatalogKey   string         `json:"catalog_key"`
	Name         string         `json:"name"`
	Variant      string         `json:"variant"`
	DeliveryMode string         `json:"delivery_mode"`
	Config       map[string]any `json:"config"`
	Enabled      bool           `json:"enabled"`
	Status       string         `json:"status"`
	StatusReason signal.Reason  `json:"status_reason,omitempty"`
	StatusText   string         `json:"status_text,omitempty"`
	PipelineIDs  []string       `json:"pipeline_ids"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	// Warnings are the install's (key_check), omitted elsewhere.
	Warnings []warning `json:"warnings,omitempty"`
}

type warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// keyCheckClient sends install key checks: never follows a redirect (it
// would carry the key to another host).
var keyCheckClient = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// checkKey asks the vendor once whether the key is accepted (vendors that
// can): a refusal is returned; an answer that proves nothing is a warning.
// A dry-run install sends nothing, so it is not checked.
func checkKey(ctx context.Context, v integration.Vendor, cfg map[string]any) ([]warning, error) {
	kc, ok := v.(integration.KeyChecker)
	if !ok || (&signal.Integration{Config: cfg}).DryRun() {
		return nil, nil
	}
	err := kc.CheckKey(ctx, keyCheckClient, cfg)
	var se *signal.Error
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &se) && se.Field != "":
		return nil, err
	}
	return []warning{{Code: "key_check", Message: err.Error()}}, nil
}

// maskSecret shows at most the last 4 characters of a secret.
func maskSecret(v any) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return v
	}
	if len(s) < 12 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}

func (s *Server) view(in *signal.Integration) integrationView {
	cfg := make(map[string]any, len(in.Config))
	secret := s.secretFields(in.CatalogKey)
	for k, v := range in.Config {
		if secret(k) {
			v = maskSecret(v)
		}
		cfg[k] = v
	}
	pids := in.PipelineIDs
	if pids == nil {
		pids = []string{}
	}
	return integrationView{ID: in.ID, CatalogKey: in.CatalogKey, Name: in.Name, Variant: in.Variant, DeliveryMode: in.DeliveryMode,
		Config: cfg, Enabled: in.Enabled, Status: in.Status, StatusReason: in.StatusReason, StatusText: signal.ReasonText(in.StatusReason),
		PipelineIDs: pids, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
}

// secretFields says which config keys of a vendor are secrets. For a vendor
// no longer registered nothing is known, so every field counts as secret.
func (s *Server) secretFields(catalogKey string) func(key string) bool {
	v, ok := s.catalog.Vendor(catalogKey)
	if !ok {
		return func(string) bool { return true }
	}
	secret := map[string]bool{}
	for _, f := range v.Entry().ConfigFields {
		secret[f.Key] = f.Type == "secret"
	}
	return func(key string) bool { return secret[key] }
}

func (s *Server) handleListCatalog(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, page[integration.CatalogEntry]{Data: s.catalog.Entries()})
}

func (s *Server) handleGetCatalog(w http.ResponseWriter, r *http.Request) {
	v, ok := s.catalog.Vendor(r.PathValue("key"))
	if !ok {
		writeError(w, http.StatusNotFound, signal.ENOTFOUND, "no integration "+strconv.Quote(r.PathValue("key"))+" in the catalog", "")
		return
	}
	writeJSON(w, http.StatusOK, v.Entry())
}

func (s *Server) checkPipelines(r *http.Request, ids []string) error {
	for i, id := range ids {
		if _, err := s.store.GetPipeline(r.Context(), store.GetPipelineParams{ID: id}); err != nil {
			if signal.ErrorCode(err) == signal.ENOTFOUND {
				return signal.FieldErrorf(signal.EINVALID, "pipeline_ids["+strconv.Itoa(i)+"]", "pipeline %q does not exist", id)
			}
			return err
		}
	}
	return nil
}

func (s *Server) handleInstall(w http.ResponseWriter, r *http.Request) {
	v, ok := s.catalog.Vendor(r.PathValue("key"))
	if !ok {
		writeError(w, http.StatusNotFound, signal.ENOTFOUND, "no integration "+strconv.Quote(r.PathValue("key"))+" in the catalog", "")
		return
	}
	entry := v.Entry()
	var in struct {
		Name         string         `json:"name"`
		Variant      string         `json:"variant"`
		Config       map[string]any `json:"config"`
		DeliveryMode string         `json:"delivery_mode"`
		PipelineIDs  []string       `json:"pipeline_ids"`
		Enabled      *bool          `json:"enabled"`
		// ConfirmDuplicate installs even when another integration of
		// the vendor has the same key.
		ConfirmDuplicate bool `json:"confirm_duplicate"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.Name == "" {
		in.Name = entry.Name
	}
	name, err := validName(in.Name)
	if err != nil {
		writeErr(w, err)
		return
	}
	if in.Variant == "" {
		in.Variant = "default"
	}
	variant, ok := entry.Variant(in.Variant)
	if !ok {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "variant "+strconv.Quote(in.Variant)+" is not one of this integration's variants", "variant")
		return
	}
	if in.DeliveryMode == "" {
		in.DeliveryMode = entry.DeliveryModes[0]
	}
	if !contains(entry.DeliveryModes, in.DeliveryMode) {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "delivery_mode "+strconv.Quote(in.DeliveryMode)+" is not supported; use one of "+joinQuoted(entry.DeliveryModes), "delivery_mode")
		return
	}
	if in.Config == nil {
		in.Config = map[string]any{}
	}
	if err := v.ValidateConfig(in.Config); err != nil {
		writeErr(w, err)
		return
	}
	if err := s.checkPipelines(r, in.PipelineIDs); err != nil {
		s.fail(w, r, err)
		return
	}
	warnings, err := checkKey(r.Context(), v, in.Config)
	if err != nil {
		writeErr(w, err)
		return
	}
	duplicate := s.checkDuplicateKey(r.Context(), entry, in.Config)
	if duplicate != nil && !(in.ConfirmDuplicate && signal.ErrorCode(duplicate) == signal.ECONFLICT) {
		s.fail(w, r, duplicate)
		return
	}
	now := s.now().UTC().Truncate(time.Millisecond) // as stored
	it := &signal.Integration{
		ID: newID("int_", 16), CatalogKey: entry.Key, Name: name, Variant: variant.Key, DeliveryMode: in.DeliveryMode,
		Config: in.Config, Enabled: in.Enabled == nil || *in.Enabled, Status: signal.IntegrationActive,
		PipelineIDs: in.PipelineIDs, Blueprint: variant.Blueprint, CreatedAt: now, UpdatedAt: now,
	}
	if it.PipelineIDs == nil {
		it.PipelineIDs = []string{}
	}
	if err := s.store.CreateIntegration(r.Context(), store.CreateIntegrationParams{Integration: it}); err != nil {
		s.fail(w, r, err)
		return
	}
	// The installed blueprint is version 1, so a later change can be
	// rolled back to it. Not worth refusing the install over.
	if _, err := s.store.SaveBlueprint(r.Context(), store.SaveBlueprintParams{IntegrationID: it.ID, Blueprint: it.Blueprint,
		Author: actorOf(r), Summary: "Installed with the default blueprint of variant " + strconv.Quote(it.Variant), Now: now}); err != nil {
		s.log.Error("admin: first blueprint version not kept", "integration_id", it.ID, "err", err)
	}
	s.changed(it.ID)
	summary := "Installed " + strconv.Quote(it.Name) + " (" + it.CatalogKey + ", variant " + it.Variant + ")"
	if duplicate != nil {
		summary += ", with the key of another integration (confirmed)"
	}
	s.audit(r, auditIntegrationCreate, "integration", it.ID, summary)
	out := s.view(it)
	out.Warnings = warnings
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) changed(id string) {
	if s.notifier != nil {
		s.notifier.IntegrationChanged(id)
	}
}

func (s *Server) handleListIntegrations(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	ins, err := s.store.ListIntegrations(r.Context(), store.ListParams{After: cursor, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(ins, limit, func(in *signal.Integration) string { return in.ID }, s.view))
}

func (s *Server) handleGetIntegration(w http.ResponseWriter, r *http.Request) {
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(in))
}

func (s *Server) handleUpdateIntegration(w http.ResponseWriter, r *http.Request) {
	var patch struct {
		Name        *string        `json:"name"`
		Config      map[string]any `json:"config"`
		Enabled     *bool          `json:"enabled"`
		PipelineIDs *[]string      `json:"pipeline_ids"`
	}
	if err := decode(r, &patch); err != nil {
		writeErr(w, err)
		return
	}
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var changes []string // for the audit log: never a value of a secret
	if patch.Name != nil {
		if in.Name, err = validName(*patch.Name); err != nil {
			writeErr(w, err)
			return
		}
		changes = append(changes, "renamed to "+strconv.Quote(in.Name))
	}
	if patch.Config != nil {
		v, ok := s.catalog.Vendor(in.CatalogKey)
		if !ok {
			writeError(w, http.StatusConflict, signal.ECONFLICT, "this integration's vendor is no longer in the catalog", "")
			return
		}
		cfg := make(map[string]any, len(in.Config))
		for k, val := range in.Config {
			cfg[k] = val
		}
		secret := s.secretFields(in.CatalogKey)
		for k, val := range patch.Config {
			switch {
			case val == nil:
				delete(cfg, k)
			case secret(k) && reflect.DeepEqual(val, maskSecret(cfg[k])):
				// A form sending back the masked value it was shown
				// keeps the secret as it is.
			default:
				if !reflect.DeepEqual(cfg[k], val) {
					changes = append(changes, configChange(k, secret(k)))
				}
				cfg[k] = val
			}
		}
		if err := v.ValidateConfig(cfg); err != nil {
			writeErr(w, err)
			return
		}
		in.Config = cfg
		// A new config (a replaced key) lets held events flow again; if
		// the vendor still refuses, delivery pauses it again.
		if in.Status == signal.IntegrationPaused {
			in.Status, in.StatusReason = signal.IntegrationActive, ""
		}
	}
	if patch.Enabled != nil {
		if in.Enabled != *patch.Enabled {
			changes = append(changes, map[bool]string{true: "enabled", false: "disabled"}[*patch.Enabled])
		}
		in.Enabled = *patch.Enabled
	}
	if patch.PipelineIDs != nil {
		if err := s.checkPipelines(r, *patch.PipelineIDs); err != nil {
			s.fail(w, r, err)
			return
		}
		in.PipelineIDs = *patch.PipelineIDs
		changes = append(changes, "pipelines set to "+joinQuoted(in.PipelineIDs))
	}
	in.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.UpdateIntegration(r.Context(), store.UpdateIntegrationParams{Integration: in}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.changed(in.ID)
	if len(changes) > 0 {
		s.audit(r, auditIntegrationUpdate, "integration", in.ID, "Updated integration "+strconv.Quote(in.Name)+": "+strings.Join(changes, ", "))
	}
	writeJSON(w, http.StatusOK, s.view(in))
}

func (s *Server) handleDeleteIntegration(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteIntegration(r.Context(), store.DeleteIntegrationParams{ID: r.PathValue("id"), Now: s.now()}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.changed(r.PathValue("id"))
	s.audit(r, auditIntegrationDelete, "integration", r.PathValue("id"), "Deleted integration "+r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func joinQuoted(list []string) string {
	b, _ := json.Marshal(list)
	return string(b)
}
