package sqlstore

import (
	"context"
	"fmt"
	"math/bits"
	"regexp"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/store"
)

// A key's shared rate budget is one row of rate_budgets, changed by one
// statement per call (an upsert, so a key needs no setup): concurrent
// calls from several nodes queue on the row's lock and each sees the
// row as the one before left it. The rules are those of one node's
// limiter (delivery's keyLimiter), written as CASE expressions over the
// row's old values; the statements are spelled with named terms (:now,
// R, G…) expanded below, so that each rule is written once.

// budgetTerms are the recurring expressions of the budget statements,
// over the row t as it stands before the statement.
var budgetTerms = []string{
	// NEXTW: the window has a known length and now is in the one after
	// the known window.
	"NEXTW", "(t.lim > 0 AND t.window_ms > 0 AND :now < t.window_end + t.window_ms)",
	// R: what the current window has left at now, rolled over.
	"R", "(CASE WHEN t.window_end > :now THEN t.remaining WHEN NEXTW THEN t.lim ELSE -1 END)",
	// G: what a take of :n at now grants.
	"G", "(CASE WHEN :now < t.blocked_until THEN 0 WHEN R < 0 THEN :n ELSE LEAST(:n, R) END)",
	// HALF: half the window's length, which tells windows apart.
	"HALF", "(GREATEST(t.window_ms, :window) / 2)",
	// NEW: the vendor's answer describes a window after the known one.
	"NEW", "(t.remaining < 0 OR :sent >= t.window_end OR :end - t.window_end >= HALF OR (t.assumed = 1 AND :end - t.window_end > -HALF))",
	// SAME: … the known window itself.
	"SAME", "(:end - t.window_end > -HALF)",
}

const budgetCols = `lim, window_ms, remaining, window_end, assumed, granted, nodes, prev_nodes, blocked_until`

const takeBudgetSQL = `INSERT INTO rate_budgets AS t (key_hash, granted, nodes, updated_at) VALUES (:key, :n, :bit, :now)
ON CONFLICT (key_hash) DO UPDATE SET
	remaining = CASE WHEN R < 0 THEN -1 ELSE R - G END,
	window_end = CASE WHEN t.window_end <= :now AND NEXTW THEN t.window_end + t.window_ms ELSE t.window_end END,
	assumed = CASE WHEN t.window_end > :now THEN t.assumed WHEN NEXTW THEN 1 ELSE 0 END,
	prev_nodes = CASE WHEN t.window_end > :now THEN t.prev_nodes WHEN NEXTW THEN t.nodes ELSE 0 END,
	nodes = CASE WHEN t.window_end > :now THEN t.nodes | :bit ELSE :bit END,
	granted = G,
	updated_at = :now
RETURNING ` + budgetCols

const observeBudgetSQL = `INSERT INTO rate_budgets AS t (key_hash, lim, window_ms, remaining, window_end, blocked_until, updated_at)
VALUES (:key, :lim, :window, :irem, :end, :block, :now)
ON CONFLICT (key_hash) DO UPDATE SET
	lim = CASE WHEN :lim > 0 THEN :lim ELSE t.lim END,
	window_ms = GREATEST(t.window_ms, :window),
	remaining = CASE WHEN :end = 0 THEN t.remaining
		WHEN NEW THEN (CASE WHEN t.assumed = 1 AND t.remaining >= 0 THEN LEAST(t.remaining, :rem) ELSE :rem END)
		WHEN SAME THEN LEAST(t.remaining, :rem) ELSE t.remaining END,
	window_end = CASE WHEN :end = 0 THEN t.window_end WHEN NEW THEN :end WHEN SAME THEN LEAST(t.window_end, :end) ELSE t.window_end END,
	assumed = CASE WHEN :end <> 0 AND NEW THEN 0 ELSE t.assumed END,
	prev_nodes = CASE WHEN :end <> 0 AND NEW AND t.assumed = 0 THEN t.nodes ELSE t.prev_nodes END,
	nodes = CASE WHEN :end <> 0 AND NEW AND t.assumed = 0 THEN 0 ELSE t.nodes END,
	blocked_until = GREATEST(t.blocked_until, :block),
	updated_at = :now
RETURNING ` + budgetCols

const giveBackBudgetSQL = `UPDATE rate_budgets SET
	remaining = CASE WHEN lim > 0 THEN LEAST(remaining + :n, lim) ELSE remaining + :n END,
	updated_at = :now
WHERE key_hash = :key AND remaining >= 0 AND window_end > :now AND window_end < :before`

var (
	budgetParam = regexp.MustCompile(`:[a-z]+`)
	budgetTerm  = regexp.MustCompile(`\b(NEXTW|R|G|HALF|NEW|SAME)\b`)
)

// budgetSQL expands a budget statement's terms and dialect functions and
// turns its :names into placeholders with their arguments. Numbers are
// cast to BIGINT: PostgreSQL would otherwise type a parameter compared
// with 0 as a 32-bit integer, too small for a time in milliseconds.
func (x *Executor) budgetSQL(q string, args map[string]any) (string, []any) {
	terms := map[string]string{}
	for i := 0; i < len(budgetTerms); i += 2 {
		terms[budgetTerms[i]] = budgetTerms[i+1]
	}
	for budgetTerm.MatchString(q) { // terms use terms: R uses NEXTW
		q = budgetTerm.ReplaceAllStringFunc(q, func(t string) string { return terms[t] })
	}
	q = strings.NewReplacer("GREATEST(", x.d.Greatest+"(", "LEAST(", x.d.Least+"(").Replace(q)
	var out []any
	q = budgetParam.ReplaceAllStringFunc(q, func(name string) string {
		v, ok := args[name[1:]]
		if !ok {
			panic("sqlstore: budget statement without argument " + name)
		}
		out = append(out, v)
		if _, isText := v.(string); isText {
			return "?"
		}
		return "CAST(? AS BIGINT)"
	})
	return q, out
}

func (x *Executor) budgetRow(ctx context.Context, q string, args map[string]any) (*store.RateBudget, error) {
	q, a := x.budgetSQL(q, args)
	var (
		b                    store.RateBudget
		window, end, blocked int64
		assumed              int
		nodes, prevNodes     int64
	)
	if err := x.WriteRow(ctx, q, a...).Scan(&b.Limit, &window, &b.Remaining, &end, &assumed, &b.Granted, &nodes, &prevNodes, &blocked); err != nil {
		return nil, err
	}
	b.Window, b.WindowEnd, b.Assumed, b.BlockedUntil = time.Duration(window)*time.Millisecond, FromMS(end), assumed == 1, FromMS(blocked)
	b.Nodes = bits.OnesCount64(uint64(nodes | prevNodes))
	return &b, nil
}

// TakeRateBudget takes up to N slots of a key's shared budget.
func (s *Store) TakeRateBudget(ctx context.Context, p store.TakeRateBudgetParams) (*store.RateBudget, error) {
	if p.Node < 0 || p.Node > 62 {
		return nil, fmt.Errorf("take rate budget: node %d is not in 0–62", p.Node)
	}
	b, err := s.X.budgetRow(ctx, takeBudgetSQL, map[string]any{"key": p.Key, "n": int64(max(p.N, 0)), "bit": int64(1) << p.Node, "now": MS(p.Now)})
	if err != nil {
		return nil, fmt.Errorf("take rate budget: %w", err)
	}
	return b, nil
}

// GiveBackRateBudget returns slots taken and not used.
func (s *Store) GiveBackRateBudget(ctx context.Context, p store.GiveBackRateBudgetParams) error {
	if p.N <= 0 {
		return nil
	}
	q, a := s.X.budgetSQL(giveBackBudgetSQL, map[string]any{"key": p.Key, "n": int64(p.N), "now": MS(p.Now), "before": MS(p.Before)})
	if _, err := s.X.Exec(ctx, q, a...); err != nil {
		return fmt.Errorf("give back rate budget: %w", err)
	}
	return nil
}

// ObserveRateBudget records a vendor's answer about a key's window.
func (s *Store) ObserveRateBudget(ctx context.Context, p store.ObserveRateBudgetParams) (*store.RateBudget, error) {
	end, rem := MS(p.End), int64(p.Remaining)
	irem := rem
	if end == 0 {
		irem = -1
	}
	b, err := s.X.budgetRow(ctx, observeBudgetSQL, map[string]any{
		"key": p.Key, "lim": int64(p.Limit), "window": p.Window.Milliseconds(), "rem": rem, "irem": irem,
		"end": end, "sent": MS(p.Sent), "block": MS(p.BlockUntil), "now": MS(p.Now),
	})
	if err != nil {
		return nil, fmt.Errorf("observe rate budget: %w", err)
	}
	return b, nil
}
