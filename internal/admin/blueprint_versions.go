package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Blueprint safety: every save is a version (with its author), which can be
// listed and rolled back to; reset returns to the variant's default; PATCH
// changes one event; a save that turns off every default event says so.

// blueprintAnswer is what PUT and PATCH answer: the blueprint as saved and,
// beside its fields, what the save did that its author may not have meant.
type blueprintAnswer struct {
	signal.Blueprint
	Warnings []warning `json:"warnings,omitempty"`
}

// versionView is one item of GET …/blueprint/versions, and the answer of
// rollback and reset (the version they created).
type versionView struct {
	Version   int               `json:"version"`
	Blueprint signal.Blueprint  `json:"blueprint"`
	Author    signal.AuditActor `json:"author"`
	Summary   string            `json:"summary"`
	CreatedAt string            `json:"created_at"`
}

func toVersionView(v *signal.BlueprintVersion) versionView {
	return versionView{Version: v.Version, Blueprint: v.Blueprint, Author: v.Author, Summary: v.Summary,
		CreatedAt: v.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
}

// defaultBlueprint is the blueprint the integration's variant installs
// with (false when its vendor or variant is no longer in the catalog).
func (s *Server) defaultBlueprint(in *signal.Integration) (signal.Blueprint, bool) {
	v, ok := s.catalog.Vendor(in.CatalogKey)
	if !ok {
		return signal.Blueprint{}, false
	}
	variant, ok := v.Entry().Variant(in.Variant)
	if !ok {
		return signal.Blueprint{}, false
	}
	return variant.Blueprint, true
}

// defaultsWarnings warns when bp enables none of the events the variant's
// default enables: every event the integration was installed to send
// would be dropped, which is rarely meant.
func (s *Server) defaultsWarnings(in *signal.Integration, bp signal.Blueprint) []warning {
	def, ok := s.defaultBlueprint(in)
	if !ok {
		return nil
	}
	var names []string
	for name, ev := range def.Events {
		if !ev.Enabled {
			continue
		}
		if now, ok := bp.Events[name]; ok && now.Enabled {
			return nil
		}
		names = append(names, strconv.Quote(name))
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return []warning{{Code: "defaults_disabled", Message: "this blueprint sends none of the events the " + in.Variant +
		" variant sends by default (" + strings.Join(names, ", ") + "): they are now filtered as event_not_enabled; " +
		"POST …/blueprint/reset or roll back a version to send them again"}}
}

// saveBlueprint validates bp and saves it as the integration's next
// version, audited as summary.
func (s *Server) saveBlueprint(r *http.Request, in *signal.Integration, bp signal.Blueprint, summary string) (*signal.BlueprintVersion, error) {
	if err := blueprint.Validate(bp, s.targetRule(in.CatalogKey)); err != nil {
		return nil, err
	}
	v, err := s.store.SaveBlueprint(r.Context(), store.SaveBlueprintParams{IntegrationID: in.ID, Blueprint: bp, Author: actorOf(r),
		Summary: summary, Now: s.now()})
	if err != nil {
		return nil, err
	}
	s.changed(in.ID)
	s.audit(r, auditBlueprintUpdate, "integration", in.ID, summary+" (integration "+strconv.Quote(in.Name)+", version "+strconv.Itoa(v.Version)+")")
	return v, nil
}

func (s *Server) handleListBlueprintVersions(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	if _, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")}); err != nil {
		s.fail(w, r, err)
		return
	}
	vs, next, err := s.store.ListBlueprintVersions(r.Context(), store.ListBlueprintVersionsParams{IntegrationID: r.PathValue("id"), Cursor: cursor, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := page[versionView]{Data: make([]versionView, 0, len(vs)), NextCursor: next, HasMore: next != ""}
	for _, v := range vs {
		out.Data = append(out.Data, toVersionView(v))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRollbackBlueprint(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "the version must be a whole number from 1, as GET …/blueprint/versions lists them", "version")
		return
	}
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	old, err := s.store.GetBlueprintVersion(r.Context(), store.GetBlueprintVersionParams{IntegrationID: in.ID, Version: n})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.saveBlueprint(r, in, old.Blueprint, "Rolled the blueprint back to version "+strconv.Itoa(n))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toVersionView(v))
}

func (s *Server) handleResetBlueprint(w http.ResponseWriter, r *http.Request) {
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def, ok := s.defaultBlueprint(in)
	if !ok {
		writeError(w, http.StatusConflict, signal.ECONFLICT, "this integration's vendor or variant is no longer in the catalog: it has no default blueprint", "")
		return
	}
	v, err := s.saveBlueprint(r, in, def, "Reset the blueprint to the default of variant "+strconv.Quote(in.Variant))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toVersionView(v))
}

// handlePatchBlueprintEvent merges the body's fields into one event of the
// blueprint (a null removes a field). An event the blueprint does not have
// is created only when the body names its vendor_event_name: a typo in the
// name is otherwise a 404, not a new, silent event.
func (s *Server) handlePatchBlueprintEvent(w http.ResponseWriter, r *http.Request) {
	var patch map[string]json.RawMessage
	if err := decode(r, &patch); err != nil {
		writeErr(w, err)
		return
	}
	name := r.PathValue("name")
	in, err := s.store.GetIntegration(r.Context(), store.GetIntegrationParams{ID: r.PathValue("id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev, known := in.Blueprint.Events[name]
	if !known {
		if v, ok := patch["vendor_event_name"]; !ok || bytes.Equal(v, []byte("null")) {
			writeError(w, http.StatusNotFound, signal.ENOTFOUND, "the blueprint has no event "+strconv.Quote(name)+
				"; to add it, send its vendor_event_name", "vendor_event_name")
			return
		}
	}
	fields := map[string]json.RawMessage{}
	if known {
		b, _ := json.Marshal(ev)
		if err := json.Unmarshal(b, &fields); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(fields, k)
			continue
		}
		fields[k] = v
	}
	// The whole blueprint goes through the PUT's reader, so an unknown or
	// mistyped field is named by its full path (events.<name>.<field>).
	whole := map[string]any{"version": in.Blueprint.Version, "defaults": in.Blueprint.Defaults, "events": map[string]any{}}
	events := whole["events"].(map[string]any)
	for k, e := range in.Blueprint.Events {
		events[k] = e
	}
	events[name] = fields
	raw, err := json.Marshal(whole)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bp, err := readBlueprint(raw, "")
	if err != nil {
		writeErr(w, err)
		return
	}
	verb := "Changed"
	if !known {
		verb = "Added"
	}
	v, err := s.saveBlueprint(r, in, bp, verb+" blueprint event "+strconv.Quote(name))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, blueprintAnswer{Blueprint: v.Blueprint, Warnings: s.defaultsWarnings(in, v.Blueprint)})
}

// actorOf is the request's user as audit entries and versions name them.
func actorOf(r *http.Request) signal.AuditActor {
	if u, _ := r.Context().Value(userKey{}).(*signal.User); u != nil {
		return signal.AuditActor{ID: u.ID, Email: u.Email}
	}
	return signal.AuditActor{}
}
