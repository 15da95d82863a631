package sqlite

import (
	"context"
	"fmt"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// AppendAudit stores an audit entry.
func (db *DB) AppendAudit(ctx context.Context, p store.AppendAuditParams) error {
	if _, err := db.write.ExecContext(ctx, `INSERT INTO audit_log (`+store.AuditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
	rows, err := db.read.QueryContext(ctx, `SELECT seq, `+store.AuditCols+` FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
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
