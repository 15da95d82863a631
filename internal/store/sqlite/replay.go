package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
)

func guard(r *store.ReplayGuard) *groupcommit.Guard {
	if r == nil {
		return nil
	}
	return &groupcommit.Guard{Key: r.Key, Expires: r.Expires}
}

// recordGuards records the signed requests of a group in its transaction,
// after dropping the expired ones. A key already there fails the
// transaction with store.ErrReplayed: nothing of the group is stored, and
// the group commit retries its requests one by one.
func recordGuards(tx *sql.Tx, guards []groupcommit.Guard) error {
	if len(guards) == 0 {
		return nil
	}
	if _, err := tx.Exec(`DELETE FROM signed_requests WHERE expires_at < ?`, ms(time.Now())); err != nil {
		return fmt.Errorf("expire signed requests: %w", err)
	}
	for _, g := range guards {
		res, err := tx.Exec(`INSERT INTO signed_requests (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, g.Key, ms(g.Expires))
		if err != nil {
			return fmt.Errorf("record signed request: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record signed request: %w", err)
		}
		if n == 0 {
			return store.ErrReplayed
		}
	}
	return nil
}
