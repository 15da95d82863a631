package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func TestAlertSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		field      string
		want       alertsView
	}{
		{"Defaults", `{"webhook_url":"https://hooks.example.com/T/B/x"}`, 200, "", alertsView{WebhookURL: "https://hooks.example.com/T/B/x", BacklogAgeSeconds: 900}},
		{"LoopbackWithSecret", `{"webhook_url":"http://127.0.0.1:8080/hook","secret":"s3cret","backlog_age_seconds":120}`, 200, "", alertsView{WebhookURL: "http://127.0.0.1:8080/hook", SecretSet: true, BacklogAgeSeconds: 120}},
		{"Off", `{"webhook_url":""}`, 200, "", alertsView{BacklogAgeSeconds: 900}},
		{"MissingURL", `{}`, 400, "webhook_url", alertsView{}},
		{"NotHTTP", `{"webhook_url":"ftp://example.com/x"}`, 400, "webhook_url", alertsView{}},
		{"NoHost", `{"webhook_url":"https:///x"}`, 400, "webhook_url", alertsView{}},
		{"AgeTooSmall", `{"webhook_url":"https://e.com/x","backlog_age_seconds":5}`, 400, "backlog_age_seconds", alertsView{}},
		{"UnknownField", `{"webhook_url":"https://e.com/x","channel":"#ops"}`, 400, "channel", alertsView{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var got alertsView
			var e apiError
			out := any(&got)
			if tt.status != 200 {
				out = &e
			}
			if code := b.call(t, "PUT", "/v1/admin/alerts", tt.body, out); code != tt.status {
				t.Fatalf("PUT = %d (%+v), want %d", code, e.Error, tt.status)
			}
			if tt.status != 200 {
				if e.Error.Field != tt.field {
					t.Fatalf("error field = %q, want %q", e.Error.Field, tt.field)
				}
				return
			}
			var read alertsView
			if code := b.call(t, "GET", "/v1/admin/alerts", "", &read); code != 200 {
				t.Fatalf("GET = %d", code)
			}
			if got != tt.want || read != tt.want {
				t.Fatalf("PUT answered %+v, GET %+v; want %+v", got, read, tt.want)
			}
		})
	}
}

func TestAlertSettingsNeverShowTheSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if code := b.call(t, "PUT", "/v1/admin/alerts", `{"webhook_url":"https://e.com/x","secret":"topsecret-value"}`, nil); code != 200 {
		t.Fatalf("PUT = %d", code)
	}
	// Absent secret keeps the one set: the UI never has it to send back.
	if code := b.call(t, "PUT", "/v1/admin/alerts", `{"webhook_url":"https://e.com/y"}`, nil); code != 200 {
		t.Fatalf("second PUT = %d", code)
	}
	var raw map[string]any
	b.call(t, "GET", "/v1/admin/alerts", "", &raw)
	if raw["secret_set"] != true {
		t.Fatalf("GET = %v, want secret_set true", raw)
	}
	var audit struct{ Data []*signal.AuditEntry }
	b.call(t, "GET", "/v1/admin/audit-log", "", &audit)
	found := false
	for _, e := range audit.Data {
		if strings.Contains(e.Summary, "topsecret") || strings.Contains(e.Summary, "e.com") {
			t.Fatalf("audit summary %q names the secret or URL", e.Summary)
		}
		found = found || e.Action == "alerts.update"
	}
	if !found {
		t.Fatal("no alerts.update audit entry")
	}
	stored, err := b.db.GetAlertSettings(t.Context())
	if err != nil || stored.Secret != "topsecret-value" {
		t.Fatalf("stored secret = %v, %v", stored, err)
	}
}

func TestRotatePipeline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		field      string
		overlap    time.Duration
	}{
		{"DefaultOverlap", `{}`, 200, "", 24 * time.Hour},
		{"GivenOverlap", `{"overlap_seconds":600}`, 200, "", 10 * time.Minute},
		{"NoOverlap", `{"overlap_seconds":0}`, 200, "", 0},
		{"NegativeOverlap", `{"overlap_seconds":-1}`, 400, "overlap_seconds", 0},
		{"TooLong", `{"overlap_seconds":99999999}`, 400, "overlap_seconds", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var created pipelineView
			b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, &created)
			var got pipelineView
			var e apiError
			out := any(&got)
			if tt.status != 200 {
				out = &e
			}
			if code := b.call(t, "POST", "/v1/admin/pipelines/"+created.ID+"/rotate", tt.body, out); code != tt.status {
				t.Fatalf("rotate = %d (%+v), want %d", code, e.Error, tt.status)
			}
			if tt.status != 200 {
				if e.Error.Field != tt.field {
					t.Fatalf("error field = %q, want %q", e.Error.Field, tt.field)
				}
				return
			}
			if got.Key == created.Key || got.SigningSecret == "" || got.SigningSecret == created.SigningSecret {
				t.Fatalf("rotate answered key %q secret set %v; want a new key and secret", got.Key, got.SigningSecret != "")
			}
			stored, err := b.db.GetPipeline(t.Context(), store.GetPipelineParams{ID: created.ID})
			if err != nil {
				t.Fatal(err)
			}
			if stored.PreviousKey != created.Key || stored.PreviousSigningSecret != created.SigningSecret || !stored.PreviousUntil.Equal(b.now.Add(tt.overlap)) {
				t.Fatalf("previous key %q until %v, want the old key until now+%v", stored.PreviousKey, stored.PreviousUntil, tt.overlap)
			}
			var read map[string]any
			b.call(t, "GET", "/v1/admin/pipelines/"+created.ID, "", &read)
			if _, shown := read["signing_secret"]; shown {
				t.Fatal("GET shows the signing secret after a rotation")
			}
			if _, shown := read["previous_key_until"]; shown != (tt.overlap > 0) {
				t.Fatalf("previous_key_until shown = %v with overlap %v", shown, tt.overlap)
			}
		})
	}
}

func TestSignedOnlyEventsSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		field      string
		want       []string
	}{
		{"Set", `{"signed_only_events":["Order Completed"," Signed Up ","Order Completed"]}`, 200, "", []string{"Order Completed", "Signed Up"}},
		{"Clear", `{"signed_only_events":[]}`, 200, "", []string{}},
		{"EmptyName", `{"signed_only_events":["ok",""]}`, 400, "signed_only_events[1]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var created pipelineView
			b.call(t, "POST", "/v1/admin/pipelines", `{"name":"Shop"}`, &created)
			var got pipelineView
			var e apiError
			if code := b.call(t, "PATCH", "/v1/admin/pipelines/"+created.ID, tt.body, map[bool]any{true: &got, false: &e}[tt.status == 200]); code != tt.status {
				t.Fatalf("PATCH = %d (%+v), want %d", code, e.Error, tt.status)
			}
			if tt.status != 200 {
				if e.Error.Field != tt.field {
					t.Fatalf("error field = %q, want %q", e.Error.Field, tt.field)
				}
				return
			}
			if strings.Join(got.SignedOnlyEvents, "|") != strings.Join(tt.want, "|") || got.SignedOnlyEvents == nil {
				t.Fatalf("signed_only_events = %q, want %q", got.SignedOnlyEvents, tt.want)
			}
		})
	}
}
