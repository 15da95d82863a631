// Package contact normalises the identifiers vendors match contacts on:
// email addresses (trimmed, lower-cased) and phone numbers (E.164).
//
// Errors never repeat the input: an address or a number is personal data
// and error messages end up in logs and on Live Events.
package contact

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrEmpty is wrapped by the errors of ParseEmail and NormalizePhone when
// the input is empty or only whitespace: the identifier is absent rather
// than unreadable.
var ErrEmpty = errors.New("empty")

// ErrInvalidEmail is wrapped by the errors of ParseEmail for an address that
// is present but unusable.
var ErrInvalidEmail = errors.New("invalid email")

// maxEmailLen is the longest address SMTP allows (RFC 5321 path limit).
const maxEmailLen = 254

// NormalizeEmail returns s trimmed and lower-cased, or "" when s is empty or
// not an address (see ParseEmail for why).
func NormalizeEmail(s string) string {
	e, err := ParseEmail(s)
	if err != nil {
		return ""
	}
	return e
}

// ParseEmail trims and lower-cases s and checks that it looks like an
// address: exactly one @ with a non-empty local part and domain, no
// whitespace or control characters, valid UTF-8, at most 254 bytes. It does
// not check that the domain exists. The error wraps ErrEmpty or
// ErrInvalidEmail and never contains s.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("email: %w", ErrEmpty)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("email: %w: not valid UTF-8", ErrInvalidEmail)
	}
	if len(s) > maxEmailLen {
		return "", fmt.Errorf("email: %w: longer than %d bytes", ErrInvalidEmail, maxEmailLen)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", fmt.Errorf("email: %w: contains whitespace or control characters", ErrInvalidEmail)
		}
	}
	switch n := strings.Count(s, "@"); {
	case n == 0:
		return "", fmt.Errorf("email: %w: no @", ErrInvalidEmail)
	case n > 1:
		return "", fmt.Errorf("email: %w: more than one @", ErrInvalidEmail)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" {
		return "", fmt.Errorf("email: %w: nothing before the @", ErrInvalidEmail)
	}
	if domain == "" {
		return "", fmt.Errorf("email: %w: nothing after the @", ErrInvalidEmail)
	}
	return strings.ToLower(s), nil
}
