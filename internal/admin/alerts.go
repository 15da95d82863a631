package admin

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// maxBacklogAgeSeconds bounds backlog_age_seconds: a week, past which the
// retention has long started to expire events.
const maxBacklogAgeSeconds = 7 * 24 * 3600

// alertsView is the alert settings as the API shows them: never the
// secret, only whether one is set.
type alertsView struct {
	WebhookURL        string `json:"webhook_url"`
	SecretSet         bool   `json:"secret_set"`
	BacklogAgeSeconds int    `json:"backlog_age_seconds"`
}

func viewAlerts(a *signal.AlertSettings) alertsView {
	return alertsView{WebhookURL: a.WebhookURL, SecretSet: a.Secret != "", BacklogAgeSeconds: a.BacklogAgeSeconds}
}

// alertSettings reads the settings, the defaults when never set.
func (s *Server) alertSettings(r *http.Request) (*signal.AlertSettings, error) {
	a, err := s.store.GetAlertSettings(r.Context())
	if signal.ErrorCode(err) == signal.ENOTFOUND {
		return &signal.AlertSettings{BacklogAgeSeconds: signal.DefaultBacklogAgeSeconds}, nil
	}
	return a, err
}

func (s *Server) handleGetAlerts(w http.ResponseWriter, r *http.Request) {
	a, err := s.alertSettings(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAlerts(a))
}

// handlePutAlerts replaces the settings. An absent secret keeps the one
// set (the UI never has it to send back); "" removes it. An empty
// webhook_url turns alerts off.
func (s *Server) handlePutAlerts(w http.ResponseWriter, r *http.Request) {
	var in struct {
		WebhookURL        *string `json:"webhook_url"`
		Secret            *string `json:"secret"`
		BacklogAgeSeconds *int    `json:"backlog_age_seconds"`
	}
	if err := decode(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.WebhookURL == nil {
		writeErr(w, signal.FieldErrorf(signal.EINVALID, "webhook_url", "webhook_url is required (an http or https URL; empty turns alerts off)"))
		return
	}
	if err := validWebhookURL(*in.WebhookURL); err != nil {
		writeErr(w, err)
		return
	}
	age := signal.DefaultBacklogAgeSeconds
	if in.BacklogAgeSeconds != nil {
		age = *in.BacklogAgeSeconds
		if age < 60 || age > maxBacklogAgeSeconds {
			writeErr(w, signal.FieldErrorf(signal.EINVALID, "backlog_age_seconds", "backlog_age_seconds must be between 60 and %d", maxBacklogAgeSeconds))
			return
		}
	}
	old, err := s.alertSettings(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := signal.AlertSettings{WebhookURL: *in.WebhookURL, Secret: old.Secret, BacklogAgeSeconds: age}
	if in.Secret != nil {
		if len(*in.Secret) > 200 {
			writeErr(w, signal.FieldErrorf(signal.EINVALID, "secret", "secret is longer than 200 characters"))
			return
		}
		a.Secret = *in.Secret
	}
	if err := s.store.PutAlertSettings(r.Context(), store.PutAlertSettingsParams{Settings: a, Now: s.now().UTC()}); err != nil {
		s.fail(w, r, err)
		return
	}
	// The summary names neither the URL (a Slack webhook URL is a
	// credential) nor the secret.
	summary := "Turned alerts off"
	if a.WebhookURL != "" {
		summary = "Set the alert webhook (backlog age " + strconv.Itoa(age) + " s, signed: " + strconv.FormatBool(a.Secret != "") + ")"
	}
	s.audit(r, auditAlertsUpdate, "alerts", "alerts", summary)
	writeJSON(w, http.StatusOK, viewAlerts(&a))
}

func validWebhookURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return signal.FieldErrorf(signal.EINVALID, "webhook_url", "webhook_url must be an http or https URL (loopback included), at most 2000 characters")
	}
	return nil
}
