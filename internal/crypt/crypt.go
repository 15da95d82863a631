// Package crypt seals data at rest with AES-256-GCM and hashes identifiers
// with a keyed HMAC, both from the deployment's ENCRYPTION_KEY.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an encryption key in bytes.
const KeySize = 32

// ParseKey reads a 32-byte key written as 64 hex characters or as base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, errors.New("the key must be 32 bytes written as 64 hex characters or as base64 (generate one with: openssl rand -hex 32)")
}

// NewKey returns a random key in hex.
func NewKey() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Box seals and opens data with AES-256-GCM. A sealed value is a version
// byte, a random 12-byte nonce and the ciphertext.
type Box struct {
	aead  cipher.AEAD
	hmacK []byte
}

const version1 = 1

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("crypt: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	// A separate key for hashing ids, derived so that the two uses never
	// share a key.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("signal/id-hash/v1"))
	return &Box{aead: aead, hmacK: m.Sum(nil)}, nil
}

// Seal encrypts plaintext.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return b.aead.Seal(out, out[1:1+ns], plaintext, nil), nil
}

// ErrOpen means a sealed value could not be opened: the wrong
// ENCRYPTION_KEY, or corrupted data.
var ErrOpen = errors.New("cannot decrypt: wrong ENCRYPTION_KEY or corrupted data")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != version1 {
		return nil, ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Hash returns a keyed hash of s (hex), to store in place of an identifier.
func (b *Box) Hash(s string) string {
	m := hmac.New(sha256.New, b.hmacK)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:20])
}
