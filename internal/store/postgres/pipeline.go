package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// CreatePipeline stores a new pipeline; its signing secret is sealed.
func (db *DB) CreatePipeline(ctx context.Context, p store.CreatePipelineParams) (*signal.Pipeline, error) {
	sealed, err := db.seal([]byte(p.SigningSecret))
	if err != nil {
		return nil, fmt.Errorf("create pipeline: %w", err)
	}
	now := ms(p.Now)
	_, err = db.pool.Exec(ctx, `INSERT INTO pipelines (id, name, key, signing_secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.ID, p.Name, p.Key, sealed, now, now)
	if isUnique(err) {
		return nil, signal.Errorf(signal.ECONFLICT, "pipeline %q already exists", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("create pipeline: %w", err)
	}
	return &signal.Pipeline{ID: p.ID, Name: p.Name, Key: p.Key, SigningSecret: p.SigningSecret, CreatedAt: fromMS(now), UpdatedAt: fromMS(now)}, nil
}

const pipelineCols = `id, name, key, signing_secret, created_at, updated_at`

func (db *DB) scanPipeline(row pgx.Row) (*signal.Pipeline, error) {
	var (
		p                signal.Pipeline
		sealed           []byte
		created, updated int64
	)
	if err := row.Scan(&p.ID, &p.Name, &p.Key, &sealed, &created, &updated); err != nil {
		return nil, err
	}
	secret, err := db.open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open signing secret of %s: %w", p.ID, err)
	}
	p.SigningSecret = string(secret)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// GetPipeline finds a pipeline by ID or key.
func (db *DB) GetPipeline(ctx context.Context, p store.GetPipelineParams) (*signal.Pipeline, error) {
	q, arg, what := `SELECT `+pipelineCols+` FROM pipelines WHERE id = $1`, p.ID, p.ID
	if p.ID == "" {
		q, arg, what = `SELECT `+pipelineCols+` FROM pipelines WHERE key = $1`, p.Key, "with that key"
	}
	pl, err := db.scanPipeline(db.pool.QueryRow(ctx, q, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, signal.Errorf(signal.ENOTFOUND, "pipeline %s not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("get pipeline: %w", err)
	}
	return pl, nil
}

// ListPipelines pages pipelines in ID order.
func (db *DB) ListPipelines(ctx context.Context, p store.ListParams) ([]*signal.Pipeline, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+pipelineCols+` FROM pipelines WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("list pipelines: %w", err)
	}
	defer rows.Close()
	var out []*signal.Pipeline
	for rows.Next() {
		pl, err := db.scanPipeline(rows)
		if err != nil {
			return nil, fmt.Errorf("list pipelines: %w", err)
		}
		out = append(out, pl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pipelines: %w", err)
	}
	return out, nil
}

// UpdatePipeline changes a pipeline's name.
func (db *DB) UpdatePipeline(ctx context.Context, p store.UpdatePipelineParams) (*signal.Pipeline, error) {
	q, args := `SELECT `+pipelineCols+` FROM pipelines WHERE id = $1`, []any{p.ID}
	if p.Name != nil {
		q, args = `UPDATE pipelines SET name = $2, updated_at = $3 WHERE id = $1 RETURNING `+pipelineCols, []any{p.ID, *p.Name, ms(p.Now)}
	}
	pl, err := db.scanPipeline(db.pool.QueryRow(ctx, q, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("pipeline", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("update pipeline: %w", err)
	}
	return pl, nil
}

// DeletePipeline removes a pipeline; its events stay in the log.
func (db *DB) DeletePipeline(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM pipelines WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete pipeline: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("pipeline", id)
	}
	return nil
}
