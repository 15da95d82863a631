package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// claimBatch is how many queued posts one claim leases: one, because the
// lease (twice the send timeout) covers one send; a claim of several sent
// one after another would let another node claim the last ones again once
// their lease ran out mid-round and post them twice. Alerts are few.
const claimBatch = 1

// sendLoop sends queued posts until ctx is done: at once when one is
// queued here, when a failed one is due again, and every Interval (posts a
// restart or another node left).
func (e *Evaluator) sendLoop(ctx context.Context) {
	for {
		next, err := e.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("alert: send queued posts", "err", err)
		}
		wait := e.cfg.Interval
		if !next.IsZero() {
			wait = max(min(wait, next.Sub(e.now())), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// SendDue sends every queued post that is due, each retried later (with
// back-off: FirstRetry, then twice as long each time, at most
// MaxRetryWait, for RetryFor after it was queued) while the webhook fails.
// It returns when the earliest of the failed ones is due again (zero: none
// failed). Without a webhook, posts wait.
func (e *Evaluator) SendDue(ctx context.Context) (time.Time, error) {
	settings, err := e.store.GetAlertSettings(ctx)
	if signal.ErrorCode(err) == signal.ENOTFOUND || (err == nil && settings.WebhookURL == "") {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	// Until ctx ends: a send cut off by shutdown gives its post back due at
	// once (for the next start), which this loop must not claim again.
	for ctx.Err() == nil {
		now := e.now()
		posts, err := e.store.ClaimAlertPosts(ctx, store.ClaimAlertPostsParams{Now: now, LeaseUntil: now.Add(2 * e.cfg.Timeout), Limit: claimBatch})
		if err != nil {
			return next, err
		}
		for _, p := range posts {
			due, err := e.sendOne(ctx, settings, p)
			if err != nil {
				return next, err
			}
			if !due.IsZero() && (next.IsZero() || due.Before(next)) {
				next = due
			}
		}
		if len(posts) < claimBatch {
			return next, nil
		}
	}
	return next, ctx.Err()
}

// sendOne posts p once and records the outcome: done, given up, or due
// again (returned).
func (e *Evaluator) sendOne(ctx context.Context, a *signal.AlertSettings, p store.AlertPost) (time.Time, error) {
	sendErr := e.send(ctx, a.WebhookURL, a.Secret, p.Body)
	// The outcome is recorded even when ctx ended the send (shutdown): the
	// post is then due at once for the next start, not after its lease.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.Timeout)
	defer cancel()
	finish := store.FinishAlertPostParams{ID: p.ID, Done: true}
	var due time.Time
	switch {
	case sendErr == nil:
		e.log.Info("alert: posted", "alert", p.Alert, "integration_id", p.IntegrationID, "attempts", p.Attempts+1)
	case ctx.Err() != nil:
		finish = store.FinishAlertPostParams{ID: p.ID, NextAt: e.now(), Attempts: p.Attempts}
	default:
		now, wait := e.now(), e.retryWait(p.Attempts+1)
		if now.Sub(p.CreatedAt)+wait > e.cfg.RetryFor {
			e.log.Error("alert: webhook failed for too long; alert dropped", "alert", p.Alert, "integration_id", p.IntegrationID, "attempts", p.Attempts+1, "err", sendErr)
			break
		}
		e.log.Warn("alert: webhook failed; retrying", "alert", p.Alert, "integration_id", p.IntegrationID, "attempt", p.Attempts+1, "retry_in", wait, "err", sendErr)
		due = now.Add(wait)
		finish = store.FinishAlertPostParams{ID: p.ID, NextAt: due, Attempts: p.Attempts + 1}
	}
	if err := e.store.FinishAlertPost(fctx, finish); err != nil {
		return time.Time{}, fmt.Errorf("alert: %w", err)
	}
	return due, nil
}

// retryWait is the wait after the failed-th failed send: FirstRetry,
// doubling, at most MaxRetryWait.
func (e *Evaluator) retryWait(failed int) time.Duration {
	wait := e.cfg.FirstRetry
	for i := 1; i < failed && wait < e.cfg.MaxRetryWait; i++ {
		wait *= 2
	}
	return min(wait, e.cfg.MaxRetryWait)
}

func (e *Evaluator) send(ctx context.Context, to, secret string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Signal-Alerts")
	if secret != "" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		req.Header.Set("X-Signal-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		// Not the *url.Error: its text holds the URL, and a Slack
		// webhook URL is a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	// Drained (a little) so the connection is reused for the next post.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}
