package sqlstore

import (
	"context"
	"fmt"

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
	return &signal.Pipeline{ID: p.ID, Name: p.Name, Key: p.Key, SigningSecret: p.SigningSecret, CreatedAt: FromMS(now), UpdatedAt: FromMS(now)}, nil
}

const pipelineCols = `id, name, key, signing_secret, created_at, updated_at`

func (s *Store) scanPipeline(scan func(dest ...any) error) (*signal.Pipeline, error) {
	var (
		p                signal.Pipeline
		sealed           []byte
		created, updated int64
	)
	if err := scan(&p.ID, &p.Name, &p.Key, &sealed, &created, &updated); err != nil {
		return nil, err
	}
	secret, err := s.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open signing secret of %s: %w", p.ID, err)
	}
	p.SigningSecret = string(secret)
	p.CreatedAt, p.UpdatedAt = FromMS(created), FromMS(updated)
	return &p, nil
}

// GetPipeline finds a pipeline by ID or key.
func (s *Store) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	q, arg, what := `SELECT `+pipelineCols+` FROM pipelines WHERE id = ?`, p.ID, p.ID
	if p.ID == "" {
		q, arg, what = `SELECT `+pipelineCols+` FROM pipelines WHERE key = ?`, p.Key, "with that key"
	}
	pl, err := s.scanPipeline(s.X.QueryRow(ctx, q, arg).Scan)
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
	out, err := queryAll(ctx, s.X, s.scanPipeline, `SELECT `+pipelineCols+` FROM pipelines WHERE id > ? ORDER BY id LIMIT ?`, p.After, Limit(p.Limit))
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
	pl, err := s.scanPipeline(s.X.WriteRow(ctx, `SELECT `+pipelineCols+` FROM pipelines WHERE id = ?`, p.ID).Scan)
	if NoRows(err) {
		return nil, NotFound("pipeline", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("update pipeline: %w", err)
	}
	return pl, nil
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
