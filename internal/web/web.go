// Package web is the Management UI: server-rendered pages over the
// Management API. Every read and write goes through the API handler
// in-process (with the signed-in user's token), so the UI shares the API's
// validation, roles and audit log and holds no business logic of its own.
package web

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// csp is the Content-Security-Policy of every page: no inline script or
// style, nothing from another origin.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// Config configures the UI.
type Config struct {
	// GatewayURL is the ingestion gateway's base URL shown in snippets
	// ("http://signal.example.com:8080"). When empty, the snippets use the
	// host the browser asked for with GatewayPort.
	GatewayURL  string
	GatewayPort string
	// BackfillUploadMax bounds an uploaded history file (0: the API's
	// own bound plus the form's overhead).
	BackfillUploadMax int64
}

// Deps are the UI's collaborators.
type Deps struct {
	// API is the Management API handler (/v1/admin/...), called in-process.
	API http.Handler
	Log *slog.Logger
	Now func() time.Time
}

type server struct {
	cfg     Config
	api     http.Handler
	log     *slog.Logger
	now     func() time.Time
	pages   map[string]*template.Template
	static  *staticFiles
	mux     *http.ServeMux
	refresh refresher
}

// New returns the UI handler. It panics if the embedded templates do not
// parse, which a test catches before release.
func New(cfg Config, d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: cfg, api: d.API, log: d.Log, now: d.Now, pages: mustParsePages(), static: assets, mux: http.NewServeMux()}
	s.refresh.entries = map[string]refreshed{}
	s.routes()
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}
