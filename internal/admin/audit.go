package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Audit actions.
const (
	auditPipelineCreate    = "pipeline.create"
	auditPipelineUpdate    = "pipeline.update"
	auditPipelineDelete    = "pipeline.delete"
	auditIntegrationCreate = "integration.install"
	auditIntegrationUpdate = "integration.update"
	auditIntegrationDelete = "integration.delete"
	auditIntegrationReplay = "integration.replay"
	// auditIntegrationBackfill: a backfill was accepted (its id and counts;
	// never a line's content).
	auditIntegrationBackfill = "integration.backfill"
	auditBlueprintUpdate     = "blueprint.update"
	auditUserCreate          = "user.create"
	auditUserUpdate          = "user.update"
	auditUserDelete          = "user.delete"
	auditAlertsUpdate        = "alerts.update"
	auditPipelineRotate      = "pipeline.rotate"
	auditContactExport       = "contact.export"
	auditContactErase        = "contact.erase"
)

// audit records a change the request made, after it succeeded. summary is
// a sentence for people and must never carry a secret. A failure to write
// it is logged, not answered: the change itself is done.
func (s *Server) audit(r *http.Request, action, targetType, targetID, summary string) {
	actor, _ := r.Context().Value(userKey{}).(*signal.User)
	if actor == nil {
		return // only authed routes audit; nothing to attribute otherwise
	}
	e := &signal.AuditEntry{
		ID:      newID("aud_", 16),
		At:      s.now().UTC().Truncate(time.Millisecond), // as stored
		Actor:   signal.AuditActor{ID: actor.ID, Email: actor.Email},
		Action:  action,
		Target:  signal.AuditTarget{Type: targetType, ID: targetID},
		Summary: summary,
	}
	// The change is made: record it even if the client has gone.
	if err := s.store.AppendAudit(context.WithoutCancel(r.Context()), store.AppendAuditParams{Entry: e}); err != nil {
		s.log.Error("admin: audit entry not written", "action", action, "target_id", targetID, "err", err)
	}
}

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	es, next, err := s.store.ListAudit(r.Context(), store.ListAuditParams{Cursor: cursor, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := page[*signal.AuditEntry]{Data: es, NextCursor: next, HasMore: next != ""}
	if out.Data == nil {
		out.Data = []*signal.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, out)
}
