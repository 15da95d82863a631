package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CreatePipeline stores a new pipeline; its signing secret is sealed.
func (s *Store) CreatePipeline(ctx context.Context, p store.CreatePipelineParams) (*signal.Pipeline, error) {
	sealed, err := s.Seal([]byte(p.SigningSecret))
	if err != nil {
		return nil, fmt.Errorf("create pipeline: %w", err)
	}
	now := MS(p.Now)
	_, err = s.X.Exec(ctx, `INSERT INTO pipelines (`+pipelineCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Key, sealed, now, now)
	if s.X.d.IsUnique(err) {
		return nil, signal.Errorf(signal.ECONFLICT, "pipeline %q already exists", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("create pipeline: %w", err)
	}
	return &signal.Pipeline{ID: p.ID, Name: p.Name, Key: p.Key, SigningSecret: p.SigningSecret, SignedOnlyEvents: []string{}, CreatedAt: FromMS(now), UpdatedAt: FromMS(now)}, nil
}

const pipelineCols = `id, name, key, signing_secret, created_at, updated_at`

const pipelineReadCols = pipelineCols + `, signed_only_events, previous_key, previous_signing_secret, previous_until`

func (s *Store) scanPipeline(scan func(dest ...any) error) (*signal.Pipeline, error) {
	var (
		p                     signal.Pipeline
		sealed, prevSealed    []byte
		created, updated, end int64
		signedOnly            string
		prevKey               sql.NullString
	)
	if err := scan(&p.ID, &p.Name, &p.Key, &sealed, &created, &updated, &signedOnly, &prevKey, &prevSealed, &end); err != nil {
		return nil, err
	}
	secret, err := s.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open signing secret of %s: %w", p.ID, err)
	}
	p.SigningSecret = string(secret)
	p.CreatedAt, p.UpdatedAt = FromMS(created), FromMS(updated)
	if err := json.Unmarshal([]byte(signedOnly), &p.SignedOnlyEvents); err != nil {
		return nil, fmt.Errorf("signed-only events of %s: %w", p.ID, err)
	}
	if p.SignedOnlyEvents == nil {
		p.SignedOnlyEvents = []string{}
	}
	if prevKey.Valid {
		prev, err := s.Open(prevSealed)
		if err != nil {
			return nil, fmt.Errorf("open previous signing secret of %s: %w", p.ID, err)
		}
		p.PreviousKey, p.PreviousSigningSecret, p.PreviousUntil = prevKey.String, string(prev), FromMS(end)
	}
	return &p, nil
}

// GetPipeline finds a pipeline by ID or key.
func (s *Store) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	q, arg, what := `SELECT `+pipelineReadCols+` FROM pipelines WHERE id = ?`, []any{p.ID}, p.ID
	if p.ID == "" {
		// A rotated-out key is found until its overlap ends; callers check
		// PreviousUntil against their own clock too (caches).
		now := p.Now
		if now.IsZero() {
			now = time.Now()
		}
		q, arg, what = `SELECT `+pipelineReadCols+` FROM pipelines WHERE key = ? OR (previous_key = ? AND previous_until > ?)`,
			[]any{p.Key, p.Key, MS(now)}, "with that key"
	}
	pl, err := s.scanPipeline(s.X.QueryRow(ctx, q, arg...).Scan)
	if NoRows(err) {
		return nil, signal.Errorf(signal.ENOTFOUND, "pipeline %s not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("get pipeline: %w", err)
	}
	return pl, nil
}

// ListPipelines pages pipelines in ID order.
func (s *Store) ListPipelines(ctx context.Context, p store.ListParams) ([]*signal.Pipeline, error) {
	out, err := queryAll(ctx, s.X, s.scanPipeline, `SELECT `+pipelineReadCols+` FROM pipelines WHERE id > ? ORDER BY id LIMIT ?`, p.After, Limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("list pipelines: %w", err)
	}
	return out, nil
}

// UpdatePipeline changes a pipeline's name.
func (s *Store) UpdatePipeline(ctx context.Context, p store.UpdatePipelineParams) (*signal.Pipeline, error) {
	if p.Name != nil {
		n, err := s.X.Exec(ctx, `UPDATE pipelines SET name = ?, updated_at = ? WHERE id = ?`, *p.Name, MS(p.Now), p.ID)
		if err != nil {
			return nil, fmt.Errorf("update pipeline: %w", err)
		}
		if n == 0 {
			return nil, NotFound("pipeline", p.ID)
		}
	}
	if p.SignedOnlyEvents != nil {
		names := *p.SignedOnlyEvents
		if names == nil {
			names = []string{}
		}
		b, err := json.Marshal(names)
		if err != nil {
			return nil, fmt.Errorf("update pipeline: %w", err)
		}
		n, err := s.X.Exec(ctx, `UPDATE pipelines SET signed_only_events = ?, updated_at = ? WHERE id = ?`, string(b), MS(p.Now), p.ID)
		if err != nil {
			return nil, fmt.Errorf("update pipeline: %w", err)
		}
		if n == 0 {
			return nil, NotFound("pipeline", p.ID)
		}
	}
	return s.pipelineOnWriter(ctx, p.ID, "update pipeline")
}

func (s *Store) pipelineOnWriter(ctx context.Context, id, what string) (*signal.Pipeline, error) {
	pl, err := s.scanPipeline(s.X.WriteRow(ctx, `SELECT `+pipelineReadCols+` FROM pipelines WHERE id = ?`, id).Scan)
	if NoRows(err) {
		return nil, NotFound("pipeline", id)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return pl, nil
}

// RotatePipeline moves the current key and secret to previous_* (the
// older previous ones end now) and sets the new ones.
func (s *Store) RotatePipeline(ctx context.Context, p store.RotatePipelineParams) (*signal.Pipeline, error) {
	sealed, err := s.Seal([]byte(p.SigningSecret))
	if err != nil {
		return nil, fmt.Errorf("rotate pipeline: %w", err)
	}
	n, err := s.X.Exec(ctx, `UPDATE pipelines SET previous_key = key, previous_signing_secret = signing_secret, previous_until = ?,
		key = ?, signing_secret = ?, updated_at = ? WHERE id = ?`, MS(p.PreviousUntil), p.Key, sealed, MS(p.Now), p.ID)
	if s.X.d.IsUnique(err) {
		return nil, signal.Errorf(signal.ECONFLICT, "the new key of pipeline %q is already used", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("rotate pipeline: %w", err)
	}
	if n == 0 {
		return nil, NotFound("pipeline", p.ID)
	}
	return s.pipelineOnWriter(ctx, p.ID, "rotate pipeline")
}

// DeletePipeline removes a pipeline; its events stay in the log.
func (s *Store) DeletePipeline(ctx context.Context, p store.DeletePipelineParams) error {
	n, err := s.X.Exec(ctx, `DELETE FROM pipelines WHERE id = ?`, p.ID)
	if err != nil {
		return fmt.Errorf("delete pipeline: %w", err)
	}
	if n == 0 {
		return NotFound("pipeline", p.ID)
	}
	return nil
}
