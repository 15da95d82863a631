package crypt

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestBox(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) *Box {
		t.Helper()
		k, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		key, err := ParseKey(k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, pt := range [][]byte{{}, []byte("jane@example.com"), bytes.Repeat([]byte("x"), 100000)} {
			s, err := b.Seal(pt)
			if err != nil {
				t.Fatal(err)
			}
			if len(pt) > 4 && bytes.Contains(s, pt) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := b.Open(s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, pt) {
				t.Fatalf("round trip changed the value")
			}
		}
	})

	t.Run("NoncesDiffer", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s1, _ := b.Seal([]byte("same"))
		s2, _ := b.Seal([]byte("same"))
		if bytes.Equal(s1, s2) {
			t.Fatal("two seals of one value are equal: nonce reused")
		}
	})

	t.Run("WrongKeyOrTampered", func(t *testing.T) {
		t.Parallel()
		b, other := setup(t), setup(t)
		s, _ := b.Seal([]byte("secret"))
		if _, err := other.Open(s); err != ErrOpen {
			t.Fatalf("open with another key: %v, want ErrOpen", err)
		}
		s[len(s)-1] ^= 1
		if _, err := b.Open(s); err != ErrOpen {
			t.Fatalf("open tampered: %v, want ErrOpen", err)
		}
		for _, short := range [][]byte{nil, {1}, {2, 3, 4}} {
			if _, err := b.Open(short); err != ErrOpen {
				t.Fatalf("open %v: %v, want ErrOpen", short, err)
			}
		}
	})

	t.Run("Hash", func(t *testing.T) {
		t.Parallel()
		b, other := setup(t), setup(t)
		if b.Hash("u:1") != b.Hash("u:1") {
			t.Fatal("hash is not deterministic")
		}
		if b.Hash("u:1") == b.Hash("u:2") || b.Hash("u:1") == other.Hash("u:1") {
			t.Fatal("hash collides across inputs or keys")
		}
	})
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"hex", strings.Repeat("07", 32), true},
		{"base64", base64.StdEncoding.EncodeToString(raw), true},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(raw), true},
		{"short hex", strings.Repeat("07", 16), false},
		{"passphrase", "correct horse battery staple", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseKey(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}
