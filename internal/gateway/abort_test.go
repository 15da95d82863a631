package gateway

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// brokenBody yields some bytes, then fails as a client that went away or
// stalled past the read deadline does.
type brokenBody struct {
	r   io.Reader
	err error
}

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, b.err
	}
	return n, err
}

// TestAbortedBody: a body the client aborts answers 400 and a stalled one
// 408, never 5xx; a flood of them logs nothing at error level and few
// lines at all.
func TestAbortedBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"aborted", io.ErrUnexpectedEOF, 400, "BODY_INCOMPLETE"},
		{"connection reset", errors.New("read tcp 127.0.0.1:8080->127.0.0.1:5555: read: connection reset by peer"), 400, "BODY_INCOMPLETE"},
		{"stalled past the deadline", os.ErrDeadlineExceeded, 408, "REQUEST_TIMEOUT"},
		{"stalled, wrapped", &timeoutErr{}, 408, "REQUEST_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var logs bytes.Buffer
			b.srv.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			const requests = 200
			for i := 0; i < requests; i++ {
				hr := httptest.NewRequest(http.MethodPost, "/v1/t", &brokenBody{r: strings.NewReader(`{"event":"A","us`), err: tt.err})
				hr.Header.Set("Authorization", "Bearer "+testKey)
				w := httptest.NewRecorder()
				b.srv.ServeHTTP(w, hr)
				if w.Code != tt.status || decodeErr(t, w).Error.Code != tt.code {
					t.Fatalf("request %d: status %d %s, want %d %s", i, w.Code, w.Body, tt.status, tt.code)
				}
			}
			out := logs.String()
			if strings.Contains(out, "level=ERROR") {
				t.Fatalf("an aborted body logged at error level:\n%s", out)
			}
			if lines := strings.Count(out, "\n"); lines > 2 {
				t.Fatalf("%d aborted bodies logged %d lines; want them rate-limited:\n%s", requests, lines, out)
			}
			if len(b.store.stored()) != 0 {
				t.Fatalf("an aborted body stored events")
			}
		})
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "read tcp: i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }
