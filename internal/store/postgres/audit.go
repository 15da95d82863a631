package postgres

import (
	"context"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// AppendAudit stores an audit entry.
func (db *DB) AppendAudit(ctx context.Context, p store.AppendAuditParams) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO audit_log (`+store.AuditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		store.AuditArgs(p.Entry)...); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// ListAudit lists audit entries newest first.
func (db *DB) ListAudit(ctx context.Context, p store.ListAuditParams) ([]*signal.AuditEntry, string, error) {
	before, err := store.ParseAuditCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, `+store.AuditCols+` FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2`,
		before, store.PageLimit(p.Limit)+1)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	out, next, err := store.ScanAuditPage(rows, p.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return out, next, nil
}
