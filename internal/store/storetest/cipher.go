package storetest

import (
	"sync"

	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/store"
)

// Cipher returns the production store.Cipher (crypt.Box, AES-256-GCM) for
// tests. Its key is random and fixed for the life of the process, so every
// store a test opens can read what another sealed, and sealed columns
// really are unreadable.
func Cipher() store.Cipher {
	return testCipherOnce()
}

var testCipherOnce = sync.OnceValue(func() store.Cipher {
	hexKey, err := crypt.NewKey()
	if err != nil {
		panic(err)
	}
	key, err := crypt.ParseKey(hexKey)
	if err != nil {
		panic(err)
	}
	box, err := crypt.NewBox(key)
	if err != nil {
		panic(err)
	}
	return box
})
