package admin

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/signal"
)

// previewView is POST /integrations/{id}/blueprint/preview: what the
// processor would do with the event.
type previewView struct {
	Status          string          `json:"status"`
	Reason          string          `json:"reason"`
	ReasonText      string          `json:"reason_text"`
	VendorEventName string          `json:"vendor_event_name"`
	Payload         json.RawMessage `json:"payload"`
}

// handlePreviewBlueprint builds the payload of a sample event with the
// integration's blueprint, or the unsaved one sent, by the processor's own
// code. It writes nothing.
func (s *Server) handlePreviewBlueprint(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Event     json.RawMessage `json:"event"`
		Blueprint json.RawMessage `json:"blueprint"`
	}
	if err := decode(r, &body); err != nil {
		writeErr(w, err)
		return
	}
	if len(bytes.TrimSpace(body.Event)) == 0 || bytes.Equal(bytes.TrimSpace(body.Event), []byte("null")) {
		writeError(w, http.StatusBadRequest, signal.EINVALID, "event is required: a Segment message to preview", "event")
		return
	}
	in, err := s.store.GetIntegration(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(body.Blueprint) > 0 && !bytes.Equal(bytes.TrimSpace(body.Blueprint), []byte("null")) {
		bp, err := readBlueprint(body.Blueprint, "blueprint")
		if err == nil {
			err = blueprint.Validate(bp)
		}
		if err != nil {
			writeErr(w, prefixField(err, "blueprint"))
			return
		}
		in.Blueprint = bp
	}
	vendor, ok := s.catalog.Vendor(in.CatalogKey)
	if !ok {
		writeError(w, http.StatusConflict, signal.ECONFLICT, "this integration's vendor is not available on this server", "")
		return
	}
	// A preview shows what would be sent even when the integration is
	// disabled or in dry run.
	in.Enabled = true
	delete(in.Config, "dry_run")
	d, err := pipeline.Preview(s.hasher, vendor, in, body.Event, s.now().UTC())
	if err != nil {
		writeErr(w, err)
		return
	}
	payload := d.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	writeJSON(w, http.StatusOK, previewView{Status: d.Status, Reason: d.Reason, ReasonText: signal.ReasonText(d.Reason),
		VendorEventName: d.VendorEventName, Payload: payload})
}

// prefixField names a field error's path from the request body's root.
func prefixField(err error, prefix string) error {
	f := signal.ErrorField(err)
	switch {
	case signal.ErrorCode(err) != signal.EINVALID:
		return err
	case f == "":
		return signal.FieldErrorf(signal.EINVALID, prefix, "%s", signal.ErrorMessage(err))
	case f == prefix || len(f) > len(prefix) && f[:len(prefix)+1] == prefix+".":
		return err
	}
	return signal.FieldErrorf(signal.EINVALID, prefix+"."+f, "%s: %s", prefix, signal.ErrorMessage(err))
}
