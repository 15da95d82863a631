package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// exerciseUserManagement pins listing, updating and deleting users, and the
// rule that the last admin is neither demoted nor deleted.
func exerciseUserManagement(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx   context.Context
		now   time.Time
		store store.Store
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{ctx: t.Context(), now: testNow(), store: newStore(t)}
	}

	createUser := func(t *testing.T, bundle *testBundle, id, email, role string) {
		t.Helper()
		requireNoError(t, bundle.store.CreateUser(bundle.ctx, store.CreateUserParams{User: &signal.User{ID: id, Email: email, PasswordHash: "hash-" + id, Role: role, CreatedAt: bundle.now}}))
	}

	ptr := func(s string) *string { return &s }

	// A new password signs the user out everywhere but the session kept:
	// the others are revoked and their refresh tokens gone; a role change
	// alone signs no one out.
	t.Run("NewPasswordEndsOtherSessions", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		createUser(t, bundle, "usr_1", "ana@shop.example", signal.RoleAdmin)
		createUser(t, bundle, "usr_2", "bo@shop.example", signal.RoleEditor)
		tokens := map[string]signal.RefreshToken{
			"kept":  {Hash: "h-kept", UserID: "usr_1", SessionID: "ses_kept", ExpiresAt: bundle.now.Add(time.Hour)},
			"other": {Hash: "h-other", UserID: "usr_1", SessionID: "ses_other", ExpiresAt: bundle.now.Add(2 * time.Hour)},
			"bo":    {Hash: "h-bo", UserID: "usr_2", SessionID: "ses_bo", ExpiresAt: bundle.now.Add(time.Hour)},
		}
		for _, tok := range tokens {
			requireNoError(t, bundle.store.CreateRefreshToken(bundle.ctx, store.CreateRefreshTokenParams{Token: tok}))
		}
		_, err := bundle.store.UpdateUser(bundle.ctx, store.UpdateUserParams{ID: "usr_2", Role: ptr(signal.RoleViewer)})
		requireNoError(t, err)
		_, err = bundle.store.UpdateUser(bundle.ctx, store.UpdateUserParams{ID: "usr_1", PasswordHash: ptr("new-hash"), KeepSessionID: "ses_kept"})
		requireNoError(t, err)
		for name, want := range map[string]bool{"kept": false, "other": true, "bo": false} {
			tok := tokens[name]
			revoked, err := bundle.store.SessionRevoked(bundle.ctx, store.SessionRevokedParams{SessionID: tok.SessionID, Now: bundle.now.Add(90 * time.Minute)})
			requireNoError(t, err)
			got, err := bundle.store.ConsumeRefreshToken(bundle.ctx, store.ConsumeRefreshTokenParams{Hash: tok.Hash, Now: bundle.now})
			if revoked != want || (err == nil) == want {
				t.Errorf("session %s: revoked %v, refresh %+v %v; want revoked %v and its refresh token gone with it", name, revoked, got, err, want)
			}
		}
	})

	t.Run("CreateUserEmailConflictIgnoresCase", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		createUser(t, bundle, "usr_1", "ana@shop.example", signal.RoleAdmin)
		err := bundle.store.CreateUser(bundle.ctx, store.CreateUserParams{User: &signal.User{ID: "usr_2", Email: "ANA@Shop.Example", PasswordHash: "h", Role: signal.RoleViewer, CreatedAt: bundle.now}})
		requireCode(t, err, signal.ECONFLICT)
		if f := signal.ErrorField(err); f != "email" {
			t.Fatalf("conflict field = %q, want email", f)
		}
		got, err := bundle.store.GetUser(bundle.ctx, store.GetUserParams{Email: "Ana@SHOP.example"})
		requireNoError(t, err)
		if got.ID != "usr_1" {
			t.Fatalf("GetUser by email in other case = %s, want usr_1", got.ID)
		}
	})

	t.Run("ListUsers", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		for _, id := range []string{"usr_c", "usr_a", "usr_b"} {
			createUser(t, bundle, id, id+"@shop.example", signal.RoleEditor)
		}
		first, err := bundle.store.ListUsers(bundle.ctx, store.ListParams{Limit: 2})
		requireNoError(t, err)
		requireStrings(t, "first page", userIDs(first), []string{"usr_a", "usr_b"})
		if first[0].Email != "usr_a@shop.example" || first[0].Role != signal.RoleEditor || first[0].PasswordHash != "hash-usr_a" {
			t.Fatalf("ListUsers row = %+v", first[0])
		}
		requireTime(t, "CreatedAt", first[0].CreatedAt, bundle.now)
		rest, err := bundle.store.ListUsers(bundle.ctx, store.ListParams{After: "usr_b", Limit: 2})
		requireNoError(t, err)
		requireStrings(t, "second page", userIDs(rest), []string{"usr_c"})
	})

	t.Run("UpdateUser", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct {
			name     string
			p        store.UpdateUserParams
			wantRole string
			wantHash string
		}{
			{name: "Role", p: store.UpdateUserParams{ID: "usr_2", Role: ptr(signal.RoleViewer)}, wantRole: signal.RoleViewer, wantHash: "hash-usr_2"},
			{name: "Password", p: store.UpdateUserParams{ID: "usr_2", PasswordHash: ptr("new-hash")}, wantRole: signal.RoleEditor, wantHash: "new-hash"},
			{name: "Both", p: store.UpdateUserParams{ID: "usr_2", Role: ptr(signal.RoleAdmin), PasswordHash: ptr("new-hash")}, wantRole: signal.RoleAdmin, wantHash: "new-hash"},
			{name: "DemoteAdminWhileAnotherRemains", p: store.UpdateUserParams{ID: "usr_1", Role: ptr(signal.RoleEditor)}, wantRole: signal.RoleEditor, wantHash: "hash-usr_1"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				createUser(t, bundle, "usr_1", "a@shop.example", signal.RoleAdmin)
				createUser(t, bundle, "usr_2", "b@shop.example", signal.RoleEditor)
				if tt.name == "DemoteAdminWhileAnotherRemains" {
					createUser(t, bundle, "usr_3", "c@shop.example", signal.RoleAdmin)
				}
				got, err := bundle.store.UpdateUser(bundle.ctx, tt.p)
				requireNoError(t, err)
				stored, err := bundle.store.GetUser(bundle.ctx, store.GetUserParams{ID: tt.p.ID})
				requireNoError(t, err)
				for _, u := range []*signal.User{got, stored} {
					if u.ID != tt.p.ID || u.Role != tt.wantRole || u.PasswordHash != tt.wantHash {
						t.Fatalf("user after update = %+v, want role %s hash %s", u, tt.wantRole, tt.wantHash)
					}
				}
			})
		}
	})

	t.Run("UpdateUserNotFound", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, err := bundle.store.UpdateUser(bundle.ctx, store.UpdateUserParams{ID: "usr_missing", Role: ptr(signal.RoleViewer)})
		requireCode(t, err, signal.ENOTFOUND)
	})

	t.Run("LastAdmin", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct {
			name   string
			change func(bundle *testBundle) error
		}{
			{name: "Demote", change: func(bundle *testBundle) error {
				_, err := bundle.store.UpdateUser(bundle.ctx, store.UpdateUserParams{ID: "usr_1", Role: ptr(signal.RoleViewer)})
				return err
			}},
			{name: "Delete", change: func(bundle *testBundle) error {
				return bundle.store.DeleteUser(bundle.ctx, store.DeleteUserParams{ID: "usr_1"})
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				createUser(t, bundle, "usr_1", "a@shop.example", signal.RoleAdmin)
				createUser(t, bundle, "usr_2", "b@shop.example", signal.RoleEditor)
				requireCode(t, tt.change(bundle), signal.ECONFLICT)
				u, err := bundle.store.GetUser(bundle.ctx, store.GetUserParams{ID: "usr_1"})
				requireNoError(t, err)
				if u.Role != signal.RoleAdmin {
					t.Fatalf("last admin's role = %s after a refused change", u.Role)
				}
			})
		}
	})

	t.Run("LastAdminConcurrent", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		createUser(t, bundle, "usr_1", "a@shop.example", signal.RoleAdmin)
		createUser(t, bundle, "usr_2", "b@shop.example", signal.RoleAdmin)
		// One admin deletes the other while that one demotes the first:
		// whichever commits second must find no other admin left.
		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { errs[0] = bundle.store.DeleteUser(bundle.ctx, store.DeleteUserParams{ID: "usr_1"}) })
		wg.Go(func() {
			_, errs[1] = bundle.store.UpdateUser(bundle.ctx, store.UpdateUserParams{ID: "usr_2", Role: ptr(signal.RoleViewer)})
		})
		wg.Wait()
		var conflicts int
		for _, err := range errs {
			if signal.ErrorCode(err) == signal.ECONFLICT {
				conflicts++
			} else {
				requireNoError(t, err)
			}
		}
		if conflicts != 1 {
			t.Fatalf("errors = %v, want exactly one CONFLICT", errs)
		}
		users, err := bundle.store.ListUsers(bundle.ctx, store.ListParams{})
		requireNoError(t, err)
		var admins int
		for _, u := range users {
			if u.Role == signal.RoleAdmin {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("admins left = %d, want 1", admins)
		}
	})

	t.Run("DeleteUser", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		createUser(t, bundle, "usr_1", "a@shop.example", signal.RoleAdmin)
		createUser(t, bundle, "usr_2", "b@shop.example", signal.RoleViewer)
		for _, id := range []string{"usr_1", "usr_2"} {
			requireNoError(t, bundle.store.CreateRefreshToken(bundle.ctx, store.CreateRefreshTokenParams{Token: signal.RefreshToken{Hash: "rt-" + id, UserID: id, ExpiresAt: bundle.now.Add(time.Hour)}}))
		}
		requireNoError(t, bundle.store.DeleteUser(bundle.ctx, store.DeleteUserParams{ID: "usr_2"}))

		_, err := bundle.store.GetUser(bundle.ctx, store.GetUserParams{ID: "usr_2"})
		requireCode(t, err, signal.ENOTFOUND)
		_, err = bundle.store.ConsumeRefreshToken(bundle.ctx, store.ConsumeRefreshTokenParams{Hash: "rt-usr_2", Now: bundle.now})
		requireCode(t, err, signal.ENOTFOUND)
		_, err = bundle.store.ConsumeRefreshToken(bundle.ctx, store.ConsumeRefreshTokenParams{Hash: "rt-usr_1", Now: bundle.now})
		requireNoError(t, err)
		requireCode(t, bundle.store.DeleteUser(bundle.ctx, store.DeleteUserParams{ID: "usr_2"}), signal.ENOTFOUND)
	})
}

func userIDs(us []*signal.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}
