package storetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"sync"

	"github.com/signalhq/signal/internal/store"
)

// Cipher returns an AES-256-GCM store.Cipher for tests. Its key is random
// and fixed for the life of the process, so every store a test opens can
// read what another sealed, and sealed columns really are unreadable.
func Cipher() store.Cipher {
	return testCipherOnce()
}

var testCipherOnce = sync.OnceValue(func() store.Cipher {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &gcmCipher{aead: aead}
})

type gcmCipher struct {
	aead cipher.AEAD
}

// Seal returns nonce || ciphertext.
func (c *gcmCipher) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return c.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open reverses Seal.
func (c *gcmCipher) Open(sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("storetest: sealed value too short")
	}
	return c.aead.Open(nil, sealed[:n], sealed[n:], nil)
}
