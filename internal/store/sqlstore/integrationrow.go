package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// IntegrationColumns are an integration row's columns, in the order of
// IntegrationArgs and ScanIntegration. Every backend stores integrations
// the same way: config sealed, pipeline ids and blueprint as JSON text,
// times as Unix milliseconds.
const IntegrationColumns = `id, catalog_key, name, variant, delivery_mode, config, enabled, status, status_reason, pipeline_ids, blueprint, created_at, updated_at`

// IntegrationArgs are in's column values, in IntegrationColumns order.
func IntegrationArgs(c store.Cipher, in *signal.Integration) ([]any, error) {
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return nil, err
	}
	sealed, err := c.Seal(cfg)
	if err != nil {
		return nil, err
	}
	pids := in.PipelineIDs
	if pids == nil {
		pids = []string{}
	}
	pj, err := json.Marshal(pids)
	if err != nil {
		return nil, err
	}
	bp, err := json.Marshal(in.Blueprint)
	if err != nil {
		return nil, err
	}
	return []any{in.ID, in.CatalogKey, in.Name, in.Variant, in.DeliveryMode, sealed, in.Enabled, in.Status, in.StatusReason,
		string(pj), string(bp), MS(in.CreatedAt), MS(in.UpdatedAt)}, nil
}

// ScanIntegration reads a row selected as IntegrationColumns (JSON columns
// as text) and opens its config.
func ScanIntegration(c store.Cipher, scan func(dest ...any) error) (*signal.Integration, error) {
	var (
		in               signal.Integration
		sealed           []byte
		pids, bp         string
		created, updated int64
	)
	if err := scan(&in.ID, &in.CatalogKey, &in.Name, &in.Variant, &in.DeliveryMode, &sealed, &in.Enabled, &in.Status,
		&in.StatusReason, &pids, &bp, &created, &updated); err != nil {
		return nil, err
	}
	cfg, err := c.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open config of %s: %w", in.ID, err)
	}
	if err := json.Unmarshal(cfg, &in.Config); err != nil {
		return nil, fmt.Errorf("config of %s: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(pids), &in.PipelineIDs); err != nil {
		return nil, fmt.Errorf("pipeline ids of %s: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(bp), &in.Blueprint); err != nil {
		return nil, fmt.Errorf("blueprint of %s: %w", in.ID, err)
	}
	in.CreatedAt, in.UpdatedAt = FromMS(created), FromMS(updated)
	return &in, nil
}
