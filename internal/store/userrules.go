package store

import (
	"math"
	"strconv"

	"github.com/signalhq/signal/internal/signal"
)

// Rules every backend shares for users and the audit log: the last-admin
// error and how audit rows are written, read and paged.

// LastAdminError is the error for a change that would leave no admin;
// field names the input at fault ("role" for a demotion, "" for a delete).
func LastAdminError(field string) error {
	return signal.FieldErrorf(signal.ECONFLICT, field, "this is the last admin: make another user admin first")
}

// AuditCols are the audit_log columns AuditArgs writes and ScanAudit reads
// (seq is assigned by the database and read only).
const AuditCols = "id, at, actor_id, actor_email, action, target_type, target_id, summary"

// AuditArgs are an entry's values for AuditCols.
func AuditArgs(e *signal.AuditEntry) []any {
	return []any{e.ID, unixMS(e.At), e.Actor.ID, e.Actor.Email, e.Action, e.Target.Type, e.Target.ID, e.Summary}
}

// AuditRows is what both backends' query results offer.
type AuditRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ParseAuditCursor reads a ListAudit cursor: the seq the next page starts
// below ("" is the newest entry).
func ParseAuditCursor(c string) (int64, error) {
	if c == "" {
		return math.MaxInt64, nil
	}
	seq, err := strconv.ParseInt(c, 10, 64)
	if err != nil || seq <= 0 {
		return 0, signal.FieldErrorf(signal.EINVALID, "cursor", "cursor %q is not one this API returned", c)
	}
	return seq, nil
}

// PageLimit is the page size of ListUsers and ListAudit (50 by default, at
// most 1000).
func PageLimit(n int) int {
	if n <= 0 || n > 1000 {
		return 50
	}
	return n
}

// ScanAuditPage reads rows of "seq, "+AuditCols, newest first, queried with
// PageLimit(limit)+1 rows: the extra row only tells that there is a next
// page, whose cursor it returns.
func ScanAuditPage(rows AuditRows, limit int) ([]*signal.AuditEntry, string, error) {
	limit = PageLimit(limit)
	var (
		out  []*signal.AuditEntry
		last int64
		next string
	)
	for rows.Next() {
		var (
			e   signal.AuditEntry
			seq int64
			at  int64
		)
		if err := rows.Scan(&seq, &e.ID, &at, &e.Actor.ID, &e.Actor.Email, &e.Action, &e.Target.Type, &e.Target.ID, &e.Summary); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			next = strconv.FormatInt(last, 10)
			break
		}
		e.At = fromUnixMS(at)
		out = append(out, &e)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return out, next, nil
}
