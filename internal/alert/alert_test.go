package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// fakeStore holds integrations, their health and attempts, settings and
// incidents in memory, as the SQL stores do.
type fakeStore struct {
	mu        sync.Mutex
	ins       []*signal.Integration
	oldest    map[string]time.Time
	attempts  map[string][2]int // total, failed
	settings  *signal.AlertSettings
	incidents map[[2]string]bool
	posts     []*fakePost
	lastPost  int64
}

type fakePost struct {
	store.AlertPost
	next time.Time
}

func (f *fakeStore) ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*signal.Integration
	for _, in := range f.ins {
		if in.ID > p.After {
			c := *in
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeStore) IntegrationBacklog(ctx context.Context, p store.IntegrationBacklogParams) (*store.IntegrationBacklog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &store.IntegrationBacklog{OldestPending: f.oldest[p.IntegrationID], Backlog: 3}, nil
}

func (f *fakeStore) GetAlertSettings(ctx context.Context) (*signal.AlertSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.settings == nil {
		return nil, signal.Errorf(signal.ENOTFOUND, "none")
	}
	c := *f.settings
	return &c, nil
}

func (f *fakeStore) PutAlertSettings(ctx context.Context, p store.PutAlertSettingsParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settings = &p.Settings
	return nil
}

func (f *fakeStore) ListAlertIncidents(ctx context.Context) ([]store.AlertIncident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AlertIncident
	for k := range f.incidents {
		out = append(out, store.AlertIncident{IntegrationID: k[0], Kind: k[1]})
	}
	return out, nil
}

func (f *fakeStore) OpenAlertIncident(ctx context.Context, p store.AlertIncident) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{p.IntegrationID, p.Kind}
	if f.incidents[k] {
		return false, nil
	}
	f.incidents[k] = true
	f.queue(p)
	return true, nil
}

func (f *fakeStore) CloseAlertIncident(ctx context.Context, p store.AlertIncident) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{p.IntegrationID, p.Kind}
	if !f.incidents[k] {
		return false, nil
	}
	delete(f.incidents, k)
	f.queue(p)
	return true, nil
}

func (f *fakeStore) queue(p store.AlertIncident) {
	if p.Post != nil {
		f.lastPost++
		post := *p.Post
		post.ID = f.lastPost
		f.posts = append(f.posts, &fakePost{AlertPost: post, next: post.CreatedAt})
	}
}

func (f *fakeStore) ClaimAlertPosts(ctx context.Context, p store.ClaimAlertPostsParams) ([]store.AlertPost, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AlertPost
	for _, fp := range f.posts {
		if !fp.next.After(p.Now) && len(out) < p.Limit {
			fp.next = p.LeaseUntil
			out = append(out, fp.AlertPost)
		}
	}
	return out, nil
}

func (f *fakeStore) FinishAlertPost(ctx context.Context, p store.FinishAlertPostParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fp := range f.posts {
		if fp.ID == p.ID {
			if p.Done {
				f.posts = append(f.posts[:i], f.posts[i+1:]...)
			} else {
				fp.next, fp.Attempts = p.NextAt, p.Attempts
			}
		}
	}
	return nil
}

func (f *fakeStore) RecentAttempts(ctx context.Context, p store.RecentAttemptsParams) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.attempts[p.IntegrationID]
	return a[0], a[1], nil
}

func (f *fakeStore) set(fn func(in *signal.Integration)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.ins[0])
}

// hook is the webhook: it records posts and answers fail 500s first.
type hook struct {
	mu sync.Mutex
	// onCall, if set, runs as each post arrives.
	onCall func()
	fail   int
	posts  []posted
	calls  int
}

type posted struct {
	body []byte
	sig  string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onCall != nil {
		h.onCall()
	}
	h.calls++
	if h.fail > 0 {
		h.fail--
		w.WriteHeader(500)
		return
	}
	h.posts = append(h.posts, posted{b, r.Header.Get("X-Signal-Signature")})
}

func (h *hook) got() ([]posted, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]posted(nil), h.posts...), h.calls
}

type testBundle struct {
	store *fakeStore
	hook  *hook
	eval  *Evaluator
	now   time.Time
	clock *clock
	newEv func() *Evaluator
}

// clock is the evaluators' time: it moves only when a test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

const (
	testSecret = "alert-secret"
	apiKey     = "omni-api-key-123"
	email      = "jane@example.com"
)

func setup(t *testing.T) *testBundle {
	t.Helper()
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	st := &fakeStore{
		ins: []*signal.Integration{{ID: "int_1", Name: "Shop Omnisend", CatalogKey: "omnisend", Enabled: true, Status: "active",
			Config: map[string]any{"api_key": apiKey, "from": email}}},
		oldest: map[string]time.Time{}, attempts: map[string][2]int{}, incidents: map[[2]string]bool{},
		settings: &signal.AlertSettings{WebhookURL: srv.URL, Secret: testSecret, BacklogAgeSeconds: 900},
	}
	b := &testBundle{store: st, hook: h, now: now, clock: &clock{t: now}}
	b.newEv = func() *Evaluator {
		return New(Config{FirstRetry: 10 * time.Millisecond, MaxRetryWait: 20 * time.Millisecond}, Deps{Store: st, Now: b.clock.now})
	}
	b.eval = b.newEv()
	return b
}

// evaluate runs one evaluation, then sends what it queued, moving the
// clock to each retry until nothing is left to retry.
func (b *testBundle) evaluate(t *testing.T) {
	t.Helper()
	if err := b.eval.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.sendAll(t, b.eval)
}

func (b *testBundle) sendAll(t *testing.T, e *Evaluator) {
	t.Helper()
	for range 100 {
		next, err := e.SendDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			return
		}
		b.clock.set(next)
	}
	t.Fatal("posts still retried after 100 rounds")
}

func (b *testBundle) posted(t *testing.T) []posted {
	t.Helper()
	ps, _ := b.hook.got()
	return ps
}

func decodePost(t *testing.T, p posted) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(p.body, &m); err != nil {
		t.Fatalf("body %s: %v", p.body, err)
	}
	return m
}

func TestIncidentPostedOnceWithItsRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		cause, recover  func(b *testBundle)
		alert, recovery string
	}{
		{"Paused", func(b *testBundle) {
			b.store.set(func(in *signal.Integration) { in.Status, in.StatusReason = "paused", signal.ReasonAuthFailed })
		}, func(b *testBundle) {
			b.store.set(func(in *signal.Integration) { in.Status, in.StatusReason = "active", "" })
		}, Paused, Resumed},
		{"BacklogStale", func(b *testBundle) { b.store.oldest["int_1"] = b.now.Add(-16 * time.Minute) },
			func(b *testBundle) { b.store.oldest["int_1"] = b.now.Add(-time.Minute) }, BacklogStale, BacklogRecovered},
		{"DeliveryFailing", func(b *testBundle) { b.store.attempts["int_1"] = [2]int{50, 26} },
			func(b *testBundle) { b.store.attempts["int_1"] = [2]int{50, 25} }, Failing, FailingRecovered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.evaluate(t)
			tt.cause(b)
			for range 3 {
				b.evaluate(t)
			}
			// A restart keeps the open incident: not posted again.
			b.eval = b.newEv()
			b.evaluate(t)
			tt.recover(b)
			for range 3 {
				b.evaluate(t)
			}
			ps := b.posted(t)
			if len(ps) != 2 {
				t.Fatalf("%d posts, want 2 (the incident, then its recovery)", len(ps))
			}
			for i, want := range []string{tt.alert, tt.recovery} {
				m := decodePost(t, ps[i])
				if m.Alert != want || m.Integration.ID != "int_1" || m.Integration.Name != "Shop Omnisend" || m.Integration.CatalogKey != "omnisend" || !m.At.Equal(b.now) {
					t.Fatalf("post %d = %+v, want %s about int_1", i, m, want)
				}
				if m.Text == "" || strings.Count(strings.TrimSuffix(m.Text, "."), ". ") != 0 || !strings.HasSuffix(m.Text, ".") {
					t.Fatalf("text %q, want one sentence", m.Text)
				}
			}
			if m := decodePost(t, ps[0]); m.ReasonText == "" || (tt.alert == Paused && m.Reason != string(signal.ReasonAuthFailed)) {
				t.Fatalf("incident post = %+v, want its reason", m)
			}
		})
	}
}

func TestPostSignedWithoutPersonalData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.set(func(in *signal.Integration) { in.Status, in.StatusReason = "paused", signal.ReasonAuthFailed })
	b.evaluate(t)
	ps := b.posted(t)
	if len(ps) != 1 {
		t.Fatalf("%d posts, want 1", len(ps))
	}
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(ps[0].body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); ps[0].sig != want {
		t.Fatalf("X-Signal-Signature = %q, want %q", ps[0].sig, want)
	}
	for _, secret := range []string{apiKey, email, testSecret} {
		if strings.Contains(string(ps[0].body), secret) {
			t.Fatalf("body %s holds %q", ps[0].body, secret)
		}
	}
}

func TestUnsignedWithoutSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.settings.Secret = ""
	b.store.set(func(in *signal.Integration) { in.Status = "paused" })
	b.evaluate(t)
	if ps := b.posted(t); len(ps) != 1 || ps[0].sig != "" {
		t.Fatalf("posts = %d, signature %q; want one unsigned post", len(ps), ps[0].sig)
	}
}

func TestRetriedWhileWebhookFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.hook.fail = 3
	b.store.set(func(in *signal.Integration) { in.Status = "paused" })
	b.evaluate(t)
	ps, calls := b.hook.got()
	if len(ps) != 1 || calls != 4 {
		t.Fatalf("%d posts in %d calls, want 1 after 3 answers of 500", len(ps), calls)
	}
	if decodePost(t, ps[0]).Alert != Paused {
		t.Fatalf("post = %s", ps[0].body)
	}
}

// A pause whose attempts failed (the 401 that paused it) is one incident,
// not also delivery_failing or backlog_stale.
func TestPauseIsOneIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.attempts["int_1"] = [2]int{1, 1}
	b.store.oldest["int_1"] = b.now.Add(-time.Hour)
	b.store.set(func(in *signal.Integration) { in.Status, in.StatusReason = "paused", signal.ReasonAuthFailed })
	b.evaluate(t)
	ps, calls := b.hook.got()
	if len(ps) != 1 || decodePost(t, ps[0]).Alert != Paused || len(b.store.incidents) != 1 {
		// The posts and the webhook's calls say which way it went wrong
		// (another alert, or one alert posted twice), seen once in CI.
		var alerts []string
		for _, p := range ps {
			alerts = append(alerts, decodePost(t, p).Alert)
		}
		t.Fatalf("%d posts %v in %d calls, incidents %v; want only integration_paused", len(ps), alerts, calls, b.store.incidents)
	}
}

func TestNothingWithoutWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.settings.WebhookURL = ""
	b.store.set(func(in *signal.Integration) { in.Status = "paused" })
	b.evaluate(t)
	if len(b.store.incidents) != 0 {
		t.Fatalf("incidents %v opened without a webhook: they would never be posted", b.store.incidents)
	}
}

func TestFirstRetryWithinFiveSeconds(t *testing.T) {
	t.Parallel()
	if e := New(Config{}, Deps{}); e.cfg.FirstRetry > 5*time.Second || e.cfg.RetryFor != 24*time.Hour || e.cfg.Interval > 10*time.Second {
		t.Fatalf("defaults %+v: the contract wants the first retry within 5 s, retries for 24 h, evaluation every 10 s at most", e.cfg)
	}
}
