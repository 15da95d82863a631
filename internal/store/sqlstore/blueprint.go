package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

const blueprintVersionCols = `integration_id, version, blueprint, author_id, author_email, summary, created_at`

// SaveBlueprint sets an integration's blueprint and adds it as the next
// version. The integration's row is updated first: on PostgreSQL that
// locks it, so a concurrent save waits and then numbers after this one
// (SQLite has one writer).
func (s *Store) SaveBlueprint(ctx context.Context, p store.SaveBlueprintParams) (*signal.BlueprintVersion, error) {
	bp, err := json.Marshal(p.Blueprint)
	if err != nil {
		return nil, fmt.Errorf("save blueprint: %w", err)
	}
	now := p.Now.UTC().Truncate(time.Millisecond)
	v := &signal.BlueprintVersion{IntegrationID: p.IntegrationID, Blueprint: p.Blueprint, Author: p.Author, Summary: p.Summary, CreatedAt: now}
	err = s.X.InTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `UPDATE integrations SET blueprint = `+s.X.d.JSONParam+`, updated_at = ? WHERE id = ?`, string(bp), MS(now), p.IntegrationID)
		if err != nil {
			return err
		}
		if n == 0 {
			return NotFound("integration", p.IntegrationID)
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM blueprint_versions WHERE integration_id = ?`, p.IntegrationID).Scan(&v.Version); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO blueprint_versions (`+blueprintVersionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.IntegrationID, v.Version, string(bp), p.Author.ID, p.Author.Email, p.Summary, MS(now))
		return err
	})
	if signal.ErrorCode(err) == signal.ENOTFOUND {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("save blueprint: %w", err)
	}
	return v, nil
}

func scanBlueprintVersion(scan func(dest ...any) error) (*signal.BlueprintVersion, error) {
	var (
		v       signal.BlueprintVersion
		bp      string
		created int64
	)
	if err := scan(&v.IntegrationID, &v.Version, &bp, &v.Author.ID, &v.Author.Email, &v.Summary, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(bp), &v.Blueprint); err != nil {
		return nil, fmt.Errorf("blueprint version %d of %s: %w", v.Version, v.IntegrationID, err)
	}
	v.CreatedAt = FromMS(created)
	return &v, nil
}

// ListBlueprintVersions lists an integration's versions newest first; the
// cursor is the version the next page starts below.
func (s *Store) ListBlueprintVersions(ctx context.Context, p store.ListBlueprintVersionsParams) ([]*signal.BlueprintVersion, string, error) {
	before := math.MaxInt32
	if p.Cursor != "" {
		n, err := strconv.Atoi(p.Cursor)
		if err != nil || n <= 0 {
			return nil, "", signal.FieldErrorf(signal.EINVALID, "cursor", "cursor %q is not one this API returned", p.Cursor)
		}
		before = n
	}
	limit := Limit(p.Limit)
	out, err := queryAll(ctx, s.X, scanBlueprintVersion, `SELECT `+blueprintVersionCols+` FROM blueprint_versions
		WHERE integration_id = ? AND version < ? ORDER BY version DESC LIMIT ?`, p.IntegrationID, before, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list blueprint versions: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.Itoa(out[limit-1].Version)
	}
	return out, next, nil
}

// GetBlueprintVersion returns one version of an integration's blueprint.
func (s *Store) GetBlueprintVersion(ctx context.Context, p store.GetBlueprintVersionParams) (*signal.BlueprintVersion, error) {
	v, err := scanBlueprintVersion(s.X.QueryRow(ctx, `SELECT `+blueprintVersionCols+` FROM blueprint_versions
		WHERE integration_id = ? AND version = ?`, p.IntegrationID, p.Version).Scan)
	if NoRows(err) {
		return nil, signal.Errorf(signal.ENOTFOUND, "integration %q has no blueprint version %d", p.IntegrationID, p.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("get blueprint version: %w", err)
	}
	return v, nil
}

// RememberPropertyTypes keeps the first type seen of each property and
// returns the stored types of the given ones (one insert and one read per
// chunk of properties; callers cache what they learn, since a stored type
// never changes).
func (s *Store) RememberPropertyTypes(ctx context.Context, p store.RememberPropertyTypesParams) (map[store.PropertyKey]string, error) {
	out := make(map[store.PropertyKey]string, len(p.Types))
	if len(p.Types) == 0 {
		return out, nil
	}
	now := MS(p.Now)
	err := s.X.InTx(ctx, func(tx *Tx) error {
		for k, typ := range p.Types {
			if _, err := tx.Exec(ctx, `INSERT INTO property_types (integration_id, vendor_event_name, property, json_type, created_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (integration_id, vendor_event_name, property) DO NOTHING`,
				k.IntegrationID, k.VendorEventName, k.Property, typ, now); err != nil {
				return err
			}
			var stored string
			if err := tx.QueryRow(ctx, `SELECT json_type FROM property_types WHERE integration_id = ? AND vendor_event_name = ? AND property = ?`,
				k.IntegrationID, k.VendorEventName, k.Property).Scan(&stored); err != nil {
				return err
			}
			out[k] = stored
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remember property types: %w", err)
	}
	return out, nil
}

// PropertyTypes returns the stored property types of an integration.
func (s *Store) PropertyTypes(ctx context.Context, p store.PropertyTypesParams) (map[store.PropertyKey]string, error) {
	rows, err := s.X.Query(ctx, `SELECT vendor_event_name, property, json_type FROM property_types WHERE integration_id = ?`, p.IntegrationID)
	if err != nil {
		return nil, fmt.Errorf("property types: %w", err)
	}
	defer rows.Close()
	out := map[store.PropertyKey]string{}
	for rows.Next() {
		k, typ := store.PropertyKey{IntegrationID: p.IntegrationID}, ""
		if err := rows.Scan(&k.VendorEventName, &k.Property, &typ); err != nil {
			return nil, fmt.Errorf("property types: %w", err)
		}
		out[k] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("property types: %w", err)
	}
	return out, nil
}
