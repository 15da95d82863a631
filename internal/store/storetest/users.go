package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

func exerciseUsers(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
		user  *signal.User
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		bundle := &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
		bundle.user = &signal.User{ID: "usr_1", Email: "admin@shop.example", PasswordHash: "$argon2id$hash", Role: signal.RoleAdmin, CreatedAt: bundle.now}
		requireNoError(t, bundle.store.CreateUser(bundle.ctx, store.CreateUserParams{User: bundle.user}))
		return bundle
	}

	createToken := func(t *testing.T, bundle *testBundle, hash string, expiresAt time.Time) {
		t.Helper()
		requireNoError(t, bundle.store.CreateRefreshToken(bundle.ctx, store.CreateRefreshTokenParams{Token: signal.RefreshToken{Hash: hash, UserID: bundle.user.ID, ExpiresAt: expiresAt}}))
	}

	consume := func(bundle *testBundle, hash string, now time.Time) (*signal.RefreshToken, error) {
		return bundle.store.ConsumeRefreshToken(bundle.ctx, store.ConsumeRefreshTokenParams{Hash: hash, Now: now})
	}

	t.Run("CountUsers", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		n, err := bundle.store.CountUsers(bundle.ctx)
		requireNoError(t, err)
		if n != 1 {
			t.Fatalf("CountUsers = %d, want 1", n)
		}
		requireNoError(t, bundle.store.CreateUser(bundle.ctx, store.CreateUserParams{User: &signal.User{ID: "usr_2", Email: "b@shop.example", PasswordHash: "h", Role: signal.RoleAdmin, CreatedAt: bundle.now}}))
		if n, err = bundle.store.CountUsers(bundle.ctx); err != nil || n != 2 {
			t.Fatalf("CountUsers = %d, %v, want 2", n, err)
		}
	})

	t.Run("CountUsersEmpty", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)

		n, err := s.CountUsers(t.Context())
		requireNoError(t, err)
		if n != 0 {
			t.Fatalf("CountUsers of an empty store = %d, want 0", n)
		}
	})

	t.Run("GetUser", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		for _, p := range []store.GetUserParams{{ID: "usr_1"}, {Email: "admin@shop.example"}} {
			got, err := bundle.store.GetUser(bundle.ctx, p)
			requireNoError(t, err)
			want := bundle.user
			if got.ID != want.ID || got.Email != want.Email || got.PasswordHash != want.PasswordHash || got.Role != want.Role {
				t.Fatalf("GetUser(%+v) = %+v, want %+v", p, got, want)
			}
			requireTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
		}
	})

	t.Run("GetUserNotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		for _, p := range []store.GetUserParams{{ID: "usr_missing"}, {Email: "nobody@shop.example"}} {
			_, err := bundle.store.GetUser(bundle.ctx, p)
			requireCode(t, err, signal.ENOTFOUND)
		}
	})

	t.Run("CreateUserDuplicateEmail", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		err := bundle.store.CreateUser(bundle.ctx, store.CreateUserParams{User: &signal.User{ID: "usr_2", Email: bundle.user.Email, PasswordHash: "h", Role: signal.RoleAdmin, CreatedAt: bundle.now}})
		requireCode(t, err, signal.ECONFLICT)
	})

	t.Run("ConsumeRefreshToken", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		expires := bundle.now.Add(30 * 24 * time.Hour)
		createToken(t, bundle, "hash-1", expires)
		got, err := consume(bundle, "hash-1", bundle.now)
		requireNoError(t, err)
		if got.Hash != "hash-1" || got.UserID != bundle.user.ID {
			t.Fatalf("ConsumeRefreshToken = %+v", got)
		}
		requireTime(t, "ExpiresAt", got.ExpiresAt, expires)
	})

	t.Run("RefreshTokenKeepsSession", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		requireNoError(t, bundle.store.CreateRefreshToken(bundle.ctx, store.CreateRefreshTokenParams{Token: signal.RefreshToken{Hash: "hash-s", UserID: bundle.user.ID, SessionID: "ses_1", ExpiresAt: bundle.now.Add(time.Hour)}}))
		got, err := consume(bundle, "hash-s", bundle.now)
		requireNoError(t, err)
		if got.SessionID != "ses_1" {
			t.Fatalf("SessionID = %q, want ses_1", got.SessionID)
		}
	})

	t.Run("RevokeSession", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		revoked := func(id string, at time.Time) bool {
			t.Helper()
			ok, err := bundle.store.SessionRevoked(bundle.ctx, store.SessionRevokedParams{SessionID: id, Now: at})
			requireNoError(t, err)
			return ok
		}
		revoke := func(id string, until, at time.Time) {
			t.Helper()
			requireNoError(t, bundle.store.RevokeSession(bundle.ctx, store.RevokeSessionParams{SessionID: id, Until: until, Now: at}))
		}

		if revoked("ses_1", bundle.now) {
			t.Fatal("a session never signed out is revoked")
		}
		revoke("ses_1", bundle.now.Add(time.Hour), bundle.now)
		revoke("ses_1", bundle.now.Add(time.Minute), bundle.now) // again, earlier: the later end stays
		revoke("ses_2", bundle.now.Add(time.Minute), bundle.now)
		for _, tt := range []struct {
			id   string
			at   time.Time
			want bool
		}{
			{"ses_1", bundle.now, true},
			{"ses_1", bundle.now.Add(30 * time.Minute), true},
			{"ses_1", bundle.now.Add(time.Hour), false},
			{"ses_2", bundle.now.Add(30 * time.Second), true},
			{"ses_3", bundle.now, false},
		} {
			if got := revoked(tt.id, tt.at); got != tt.want {
				t.Errorf("SessionRevoked(%s, +%s) = %v, want %v", tt.id, tt.at.Sub(bundle.now), got, tt.want)
			}
		}
		// A later revocation forgets the expired ones; ses_1 is still held.
		revoke("ses_4", bundle.now.Add(3*time.Hour), bundle.now.Add(2*time.Minute))
		if !revoked("ses_1", bundle.now.Add(2*time.Minute)) || !revoked("ses_4", bundle.now.Add(2*time.Hour)) {
			t.Fatal("a revocation in force was forgotten")
		}
		requireCode(t, bundle.store.RevokeSession(bundle.ctx, store.RevokeSessionParams{Until: bundle.now.Add(time.Hour), Now: bundle.now}), signal.EINVALID)
	})

	t.Run("ConsumeRefreshTokenNotFound", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct {
			name    string
			prepare func(t *testing.T, bundle *testBundle)
			now     time.Duration // after bundle.now
		}{
			{name: "Unknown", prepare: func(t *testing.T, bundle *testBundle) {}},
			{name: "ConsumedTwice", prepare: func(t *testing.T, bundle *testBundle) {
				createToken(t, bundle, "hash-1", bundle.now.Add(time.Hour))
				_, err := consume(bundle, "hash-1", bundle.now)
				requireNoError(t, err)
			}},
			{name: "Expired", now: 2 * time.Hour, prepare: func(t *testing.T, bundle *testBundle) {
				createToken(t, bundle, "hash-1", bundle.now.Add(time.Hour))
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				tt.prepare(t, bundle)
				_, err := consume(bundle, "hash-1", bundle.now.Add(tt.now))
				requireCode(t, err, signal.ENOTFOUND)
			})
		}
	})

	t.Run("ConsumeRefreshTokenLeavesOthers", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		createToken(t, bundle, "hash-1", bundle.now.Add(time.Hour))
		createToken(t, bundle, "hash-2", bundle.now.Add(time.Hour))
		_, err := consume(bundle, "hash-1", bundle.now)
		requireNoError(t, err)
		got, err := consume(bundle, "hash-2", bundle.now)
		requireNoError(t, err)
		if got.Hash != "hash-2" {
			t.Fatalf("ConsumeRefreshToken(hash-2) = %+v", got)
		}
	})
}
