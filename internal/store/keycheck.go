package store

import (
	"bytes"
	"errors"
)

// KeyCheckValue is sealed with the deployment's key and kept in the
// database, so that opening it with another key is refused at once.
var KeyCheckValue = []byte("signal key check v1")

// ErrWrongKey means the database was written with another ENCRYPTION_KEY.
var ErrWrongKey = errors.New("ENCRYPTION_KEY is not the key this database was written with: " +
	"set the original key (nothing can be read without it)")

// CheckKey compares a stored key check with c: sealed is what the database
// holds (nil when it holds none yet, then the returned value is to be
// stored).
func CheckKey(c Cipher, sealed []byte) (toStore []byte, err error) {
	if sealed == nil {
		return c.Seal(KeyCheckValue)
	}
	plain, err := c.Open(sealed)
	if err != nil || !bytes.Equal(plain, KeyCheckValue) {
		return nil, ErrWrongKey
	}
	return nil, nil
}
