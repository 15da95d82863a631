// Package alert tells an operator when an integration needs attention: it
// evaluates every integration every few seconds and posts to the alert
// webhook once when an incident opens (paused, backlog stale, delivery
// failing) and once when it recovers. Open incidents are kept in the store,
// so a restart, or a second node, never posts an open incident again; each
// post is queued in the store with the change it announces and retried from
// there, so a restart while the webhook is down does not lose it either.
package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// Alert names, as posted in "alert".
const (
	Paused           = "integration_paused"
	Resumed          = "integration_resumed"
	BacklogStale     = "backlog_stale"
	BacklogRecovered = "backlog_recovered"
	Failing          = "delivery_failing"
	FailingRecovered = "delivery_recovered"
)

// recoveryOf names each incident kind's recovery alert.
var recoveryOf = map[string]string{Paused: Resumed, BacklogStale: BacklogRecovered, Failing: FailingRecovered}

// recentAttempts is how many of an integration's last attempts
// delivery_failing looks at.
const recentAttempts = 50

// Store is what the evaluator reads and writes.
type Store interface {
	ListIntegrations(ctx context.Context, p store.ListParams) ([]*signal.Integration, error)
	IntegrationBacklog(ctx context.Context, p store.IntegrationBacklogParams) (*store.IntegrationBacklog, error)
	store.AlertStore
}

// Config tunes the evaluator; zero fields take the defaults.
type Config struct {
	// Interval is how often integrations are evaluated (10 s).
	Interval time.Duration
	// FirstRetry is the wait before the first retry of a failed post (2 s);
	// waits double up to MaxRetryWait (5 min), for RetryFor (24 h).
	FirstRetry   time.Duration
	MaxRetryWait time.Duration
	RetryFor     time.Duration
	// Timeout bounds one post (10 s); a post being sent is leased for
	// twice as long (a node that died sending it leaves it to the others).
	Timeout time.Duration
}

// Deps are the evaluator's collaborators; Client, Log and Now may be nil.
type Deps struct {
	Store  Store
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
}

// Evaluator evaluates incidents and posts alerts.
type Evaluator struct {
	cfg    Config
	store  Store
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	// kick wakes the sender when a post was queued.
	kick chan struct{}
}

// New returns an evaluator.
func New(cfg Config, d Deps) *Evaluator {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.FirstRetry <= 0 {
		cfg.FirstRetry = 2 * time.Second
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = 5 * time.Minute
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 24 * time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if d.Client == nil {
		d.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Evaluator{cfg: cfg, store: d.Store, client: d.Client, log: d.Log, now: d.Now, kick: make(chan struct{}, 1)}
}

// Run evaluates every Interval and sends the queued posts until ctx is
// done, then waits for the post in flight to give up.
func (e *Evaluator) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	var sender sync.WaitGroup
	sender.Go(func() { e.sendLoop(ctx) })
	defer sender.Wait()
	for {
		if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("alert: evaluate", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// condition is one incident kind's state for an integration.
type condition struct {
	kind       string
	on         bool
	reason     string
	reasonText string
}

// Evaluate runs one pass: it opens and closes incidents and starts a post
// for each change it made. Without a webhook nothing is evaluated (an
// incident opened then would never be posted).
func (e *Evaluator) Evaluate(ctx context.Context) error {
	settings, err := e.store.GetAlertSettings(ctx)
	if signal.ErrorCode(err) == signal.ENOTFOUND || (err == nil && settings.WebhookURL == "") {
		return nil
	}
	if err != nil {
		return err
	}
	open, err := e.store.ListAlertIncidents(ctx)
	if err != nil {
		return err
	}
	isOpen := map[[2]string]bool{}
	for _, in := range open {
		isOpen[[2]string{in.IntegrationID, in.Kind}] = true
	}
	now := e.now().UTC()
	seen := map[string]bool{}
	after := ""
	for {
		ins, err := e.store.ListIntegrations(ctx, store.ListParams{After: after, Limit: 200})
		if err != nil {
			return err
		}
		for _, in := range ins {
			seen[in.ID] = true
			conds, err := e.conditions(ctx, in, settings, now)
			if err != nil {
				return err
			}
			for _, c := range conds {
				if err := e.apply(ctx, in, c, isOpen[[2]string{in.ID, c.kind}], now); err != nil {
					return err
				}
			}
		}
		if len(ins) < 200 {
			break
		}
		after = ins[len(ins)-1].ID
	}
	// A deleted integration's incidents close without a post: it is gone,
	// not recovered.
	for _, in := range open {
		if !seen[in.IntegrationID] {
			if _, err := e.store.CloseAlertIncident(ctx, in); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Evaluator) conditions(ctx context.Context, in *signal.Integration, a *signal.AlertSettings, now time.Time) ([]condition, error) {
	paused := in.Status == string(signal.StatusPaused)
	conds := []condition{{kind: Paused, on: paused, reason: string(in.StatusReason), reasonText: signal.ReasonText(in.StatusReason)}}
	h, err := e.store.IntegrationBacklog(ctx, store.IntegrationBacklogParams{IntegrationID: in.ID})
	if err != nil {
		return nil, fmt.Errorf("alert: backlog of %s: %w", in.ID, err)
	}
	age := now.Sub(h.OldestPending)
	limit := time.Duration(a.BacklogAgeSeconds) * time.Second
	// A paused or disabled integration's backlog waits by design: its
	// pause is the incident, not the age of what waits behind it.
	stale := !h.OldestPending.IsZero() && age > limit && !paused && in.Enabled
	conds = append(conds, condition{kind: BacklogStale, on: stale, reason: "backlog_age",
		reasonText: fmt.Sprintf("The oldest of %d waiting events is %s old, more than the %s allowed.", h.Backlog, age.Round(time.Second), limit)})
	total, failed, err := e.store.RecentAttempts(ctx, store.RecentAttemptsParams{IntegrationID: in.ID, Limit: recentAttempts})
	if err != nil {
		return nil, fmt.Errorf("alert: attempts of %s: %w", in.ID, err)
	}
	// While paused, the attempts that paused it (a 401) are the pause's
	// incident, not a second one.
	conds = append(conds, condition{kind: Failing, on: total > 0 && 2*failed > total && !paused && in.Enabled, reason: "attempts_failing",
		reasonText: fmt.Sprintf("%d of the last %d attempts to send to the vendor failed.", failed, total)})
	return conds, nil
}

// apply opens or closes one incident and queues its post in the same
// transaction; the store decides which node posts.
func (e *Evaluator) apply(ctx context.Context, in *signal.Integration, c condition, open bool, now time.Time) error {
	name := c.kind
	switch {
	case c.on && !open:
	case !c.on && open:
		name = recoveryOf[c.kind]
		c.reason, c.reasonText = "", recoveredText[name]
	default:
		return nil
	}
	body, err := json.Marshal(newMessage(name, in, c, now))
	if err != nil {
		return fmt.Errorf("alert: encode: %w", err)
	}
	inc := store.AlertIncident{IntegrationID: in.ID, Kind: c.kind, OpenedAt: now,
		Post: &store.AlertPost{Alert: name, IntegrationID: in.ID, Body: body, CreatedAt: now}}
	change := e.store.OpenAlertIncident
	if !c.on {
		change = e.store.CloseAlertIncident
	}
	changed, err := change(ctx, inc)
	if err != nil || !changed {
		return err
	}
	e.log.Info("alert: queued", "alert", name, "integration_id", in.ID)
	select {
	case e.kick <- struct{}{}:
	default:
	}
	return nil
}

var recoveredText = map[string]string{
	Resumed:          "The integration is active again and sends its waiting events.",
	BacklogRecovered: "The oldest waiting event is younger than the limit again.",
	FailingRecovered: "Most recent attempts to send to the vendor succeed again.",
}

// message is the webhook's JSON; it names the integration, never a
// contact, a key or a vendor response.
type message struct {
	Alert       string      `json:"alert"`
	Integration integration `json:"integration"`
	Reason      string      `json:"reason"`
	ReasonText  string      `json:"reason_text"`
	At          time.Time   `json:"at"`
	Text        string      `json:"text"`
}

type integration struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CatalogKey string `json:"catalog_key"`
}

var headline = map[string]string{
	Paused:           "is paused",
	Resumed:          "is flowing again",
	BacklogStale:     "has a stale backlog",
	BacklogRecovered: "has caught up with its backlog",
	Failing:          "is failing to deliver",
	FailingRecovered: "delivers again",
}

func newMessage(name string, in *signal.Integration, c condition, now time.Time) message {
	detail := strings.TrimSuffix(c.reasonText, ".")
	if detail != "" {
		detail = ": " + strings.ToLower(detail[:1]) + detail[1:]
	}
	// One sentence, so a Slack incoming webhook shows it as is.
	text := fmt.Sprintf("Signal: the %s integration %q %s%s.", in.CatalogKey, in.Name, headline[name], strings.ReplaceAll(detail, ". ", "; "))
	return message{Alert: name, Integration: integration{ID: in.ID, Name: in.Name, CatalogKey: in.CatalogKey},
		Reason: c.reason, ReasonText: c.reasonText, At: now, Text: text}
}
