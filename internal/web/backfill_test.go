package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// multipartPost sends a form with one file (name "file") and the CSRF
// token, as the browser does for the backfill upload.
func (br *browser) multipartPost(path, csrf, filename, content string) page {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write([]byte(content))
	}
	mw.Close()
	// page.do sends url-encoded forms only; build the request here.
	return br.doBody(http.MethodPost, path, &body, mw.FormDataContentType())
}

func TestBackfillUpload(t *testing.T) {
	t.Parallel()
	lines := `{"type":"track","event":"Order Completed","userId":"u1","timestamp":"2026-01-02T03:04:05Z"}` + "\n" +
		`{"type":"track","event":"Order Completed","userId":"u2","timestamp":"2026-01-03T03:04:05Z"}` + "\n" + `{"type":"track"}` + "\n"
	tests := []struct {
		name       string
		role       string
		file       string
		badCSRF    bool
		wantStatus int
		wantFlash  string
		wantWrites int
	}{
		{name: "editor uploads a file", role: "editor", file: "history.ndjson", wantStatus: http.StatusSeeOther,
			wantFlash: "Backfill bf_new started: 2 events accepted. 1 lines refused; the first, line 3: timestamp is required", wantWrites: 1},
		{name: "no file chosen", role: "editor", wantStatus: http.StatusBadRequest, wantFlash: "Choose an NDJSON file"},
		{name: "form from elsewhere", role: "editor", file: "history.ndjson", badCSRF: true, wantStatus: http.StatusForbidden, wantFlash: "Request refused"},
		{name: "viewer", role: "viewer", file: "history.ndjson", wantStatus: http.StatusForbidden, wantFlash: "may not do this"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			br := b.signIn(t, tt.role)
			csrf := br.csrf()
			if tt.badCSRF {
				csrf = "forged"
			}
			p := br.multipartPost("/integrations/int_1/backfill", csrf, tt.file, lines)
			if p.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", p.status, tt.wantStatus, p.body)
			}
			if p.status == http.StatusSeeOther {
				p = br.get("/integrations/int_1")
			}
			if !strings.Contains(p.body, tt.wantFlash) {
				t.Fatalf("page does not say %q: %s", tt.wantFlash, p.body)
			}
			var writes int
			for _, w := range b.api.writeLog() {
				if w.Path == "/v1/admin/integrations/int_1/backfill" {
					writes++
					if w.Body["userId"] != "u1" {
						t.Errorf("API got %v, want the file's first line", w.Body)
					}
				}
			}
			if writes != tt.wantWrites {
				t.Fatalf("%d backfill posts reached the API, want %d", writes, tt.wantWrites)
			}
		})
	}
	// The form is on the page for editors, not for viewers.
	if p := setup(t).signIn(t, "editor").get("/integrations/int_1"); !strings.Contains(p.body, `enctype="multipart/form-data"`) || !strings.Contains(p.body, "Start backfill</button>") {
		t.Fatal("no upload form for an editor")
	}
	if p := setup(t).signIn(t, "viewer").get("/integrations/int_1"); strings.Contains(p.body, "Start backfill") {
		t.Fatal("upload form shown to a viewer")
	}
}

// An upload over the file bound is answered 413 with what to do, not as
// an expired form.
func TestBackfillUploadTooLarge(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 11, 30, 10, 30, 0, 0, time.UTC)}
	api := newFakeAPI(clk.now)
	b := &testBundle{api: api, h: New(Config{GatewayPort: "8080", BackfillUploadMax: 4 << 10}, Deps{API: api, Now: clk.now}), clk: clk}
	br := b.signIn(t, "editor")
	p := br.multipartPost("/integrations/int_1/backfill", br.csrf(), "history.ndjson", strings.Repeat("x", 8<<10))
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "several files") {
		t.Fatalf("oversized upload = %d: %s; want 413 saying to split the file", p.status, p.body)
	}
}
