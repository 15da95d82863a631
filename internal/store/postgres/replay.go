package postgres

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/groupcommit"
)

func guard(r *store.ReplayGuard) *groupcommit.Guard {
	if r == nil {
		return nil
	}
	return &groupcommit.Guard{Key: r.Key, Expires: r.Expires}
}

// queueGuards records the signed requests of a group in its batch (one
// implicit transaction, under the event-log lock), after dropping the
// expired ones. A key already recorded, by this node or another, violates
// the primary key: the whole batch rolls back and replayed turns the error
// into store.ErrReplayed.
func queueGuards(b *pgx.Batch, guards []groupcommit.Guard) {
	if len(guards) == 0 {
		return
	}
	keys, expires := make([]string, len(guards)), make([]int64, len(guards))
	for i, g := range guards {
		keys[i], expires[i] = g.Key, ms(g.Expires)
	}
	b.Queue(`DELETE FROM signed_requests WHERE expires_at < $1`, ms(time.Now()))
	b.Queue(`INSERT INTO signed_requests (key, expires_at) SELECT * FROM unnest($1::text[], $2::bigint[])`, keys, expires)
}

// replayed maps a duplicate signed request to store.ErrReplayed.
func replayed(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" && (pg.TableName == "signed_requests" || pg.ConstraintName == "signed_requests_pkey") {
		return store.ErrReplayed
	}
	return err
}
