package token

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestSigner(t *testing.T) {
	t.Parallel()
	type testBundle struct {
		s   *Signer
		now *time.Time
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		b := &testBundle{now: &now}
		s, err := NewSigner(bytes.Repeat([]byte("k"), 32), func() time.Time { return *b.now })
		if err != nil {
			t.Fatal(err)
		}
		b.s = s
		return b
	}

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tok, err := b.s.Issue(IssueParams{Subject: "usr_1", Role: "admin", SessionID: "ses_1", TTL: 15 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.s.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "usr_1" || c.Role != "admin" || c.SessionID != "ses_1" {
			t.Fatalf("claims = %+v", c)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tok, _ := b.s.Issue(IssueParams{Subject: "usr_1", Role: "admin", SessionID: "ses_1", TTL: 15 * time.Minute})
		*b.now = b.now.Add(15 * time.Minute)
		if _, err := b.s.Verify(tok); err != ErrInvalid {
			t.Fatalf("expired token: err = %v", err)
		}
	})

	t.Run("Forged", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tok, _ := b.s.Issue(IssueParams{Subject: "usr_1", Role: "admin", TTL: time.Hour})
		other, _ := NewSigner(bytes.Repeat([]byte("x"), 32), nil)
		parts := strings.Split(tok, ".")
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		for name, bad := range map[string]string{
			"other key":   mustIssue(t, other),
			"alg none":    none + "." + parts[1] + ".",
			"swapped sig": parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA",
			"garbage":     "not-a-token",
			"empty":       "",
		} {
			if _, err := b.s.Verify(bad); err != ErrInvalid {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
	})

	t.Run("ShortSecret", func(t *testing.T) {
		t.Parallel()
		if _, err := NewSigner([]byte("short"), nil); err == nil {
			t.Fatal("a 5-byte secret was accepted")
		}
	})
}

func mustIssue(t *testing.T, s *Signer) string {
	t.Helper()
	tok, err := s.Issue(IssueParams{Subject: "usr_1", Role: "admin", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
