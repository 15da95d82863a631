package contact

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhone is wrapped by the errors of NormalizePhone for a number
// that is present but unusable.
var ErrInvalidPhone = errors.New("invalid phone")

const (
	// maxPhoneInput bounds the raw input (after trimming): the longest
	// formatted number, "+999 (999) 999-999-999-9" with spaces, fits
	// twice over; anything longer is garbage and is refused before parsing
	// or caching.
	maxPhoneInput = 32
	// minPhoneDigits: no dialable number, even a national one, has fewer.
	minPhoneDigits = 4
	// maxE164Digits is the longest E.164 number (ITU-T E.164 §6).
	maxE164Digits = 15
)

// NormalizePhone returns raw as an E.164 number ("+447700900123").
//
// A number starting with + is read on its own (region is ignored); a
// national number ("07700 900123", "(415) 555-2671") is read with region,
// an ISO 3166 alpha-2 code known to libphonenumber ("GB"; case does not
// matter). Spaces, dashes, dots, slashes and parentheses are allowed;
// letters (vanity numbers, "ext.") and other characters are not.
//
// A number is accepted when libphonenumber finds it valid or possible for
// its country (right length): numbering plans change faster than its
// metadata, and ranges reserved for examples, such as +44 7700 900xxx, are
// possible without being valid. Numbers only possible for local dialling
// (no area code) are refused, since they cannot be written in E.164.
//
// The error wraps ErrEmpty or ErrInvalidPhone and never contains raw.
func NormalizePhone(raw, region string) (string, error) {
	e164, _, err := ReadPhone(raw, region)
	return e164, err
}

// ReadPhone is NormalizePhone, also saying whether libphonenumber finds the
// number valid in its country, not only possible there: a French mobile
// number read as American ("06 12 34 56 78" in region US) is possible (ten
// digits) but not valid, so a caller that can choose among regions prefers
// one where it is valid.
func ReadPhone(raw, region string) (e164 string, valid bool, err error) {
	s := strings.TrimSpace(raw)
	if err := CheckPhoneShape(s); err != nil {
		return "", false, err
	}
	if s[0] == '+' {
		region = ""
	} else {
		region = strings.ToUpper(strings.TrimSpace(region))
		if region == "" {
			return "", false, fmt.Errorf("phone: %w: a national number needs a region", ErrInvalidPhone)
		}
		if !KnownRegion(region) {
			return "", false, fmt.Errorf("phone: %w: unknown region", ErrInvalidPhone)
		}
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		// libphonenumber's errors are fixed texts, without the number.
		return "", false, fmt.Errorf("phone: %w: %w", ErrInvalidPhone, err)
	}
	possible := phonenumbers.IsPossibleNumberWithReason(num)
	valid = phonenumbers.IsValidNumber(num)
	if possible != phonenumbers.IS_POSSIBLE && !valid {
		return "", false, fmt.Errorf("phone: %w: %s", ErrInvalidPhone, reasonText(possible))
	}
	e164 = phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) < 2 || e164[0] != '+' || len(e164)-1 > maxE164Digits {
		return "", false, fmt.Errorf("phone: %w: more than %d digits", ErrInvalidPhone, maxE164Digits)
	}
	// Read back, the result must name the same number: it does not for
	// degenerate inputs (all zeros after a trunk prefix).
	if back, err := phonenumbers.Parse(e164, ""); err != nil || phonenumbers.Format(back, phonenumbers.E164) != e164 {
		return "", false, fmt.Errorf("phone: %w: not a complete number", ErrInvalidPhone)
	}
	return e164, valid, nil
}

// CheckPhoneShape refuses, cheaply and before any parsing, what cannot be a
// phone number: empty, longer than 32 bytes after trimming, fewer than 4
// digits, letters (vanity numbers, "ext.") or characters other than digits,
// a leading +, spaces, dashes, dots, slashes and parentheses. Callers that
// cache normalisations check it first so that garbage is never a cache key.
// The error wraps ErrEmpty or ErrInvalidPhone and never contains raw.
func CheckPhoneShape(raw string) error {
	s := strings.TrimSpace(raw)
	if s == "" {
		return fmt.Errorf("phone: %w", ErrEmpty)
	}
	if len(s) > maxPhoneInput {
		return fmt.Errorf("phone: %w: longer than %d characters", ErrInvalidPhone, maxPhoneInput)
	}
	digits := 0
	for i, r := range s {
		switch {
		case r == '+' && i == 0:
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0':
		case unicode.IsLetter(r):
			return fmt.Errorf("phone: %w: contains letters", ErrInvalidPhone)
		default:
			return fmt.Errorf("phone: %w: contains characters that are not part of a phone number", ErrInvalidPhone)
		}
	}
	if digits < minPhoneDigits {
		return fmt.Errorf("phone: %w: fewer than %d digits", ErrInvalidPhone, minPhoneDigits)
	}
	return nil
}

func reasonText(r phonenumbers.ValidationResult) string {
	switch r {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "unknown country calling code"
	case phonenumbers.TOO_SHORT:
		return "too short"
	case phonenumbers.TOO_LONG:
		return "too long"
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "a local number without its area code"
	}
	return "wrong length for its country"
}

// KnownRegion reports whether region (case-insensitive) is an ISO 3166
// alpha-2 code libphonenumber has a numbering plan for.
func KnownRegion(region string) bool {
	if len(region) != 2 {
		return false
	}
	return phonenumbers.GetSupportedRegions()[strings.ToUpper(region)]
}

// RegionFromLocale returns the region of a BCP 47 or POSIX locale, upper-case:
// "en-GB", "en_GB", "en-gb" and "en_GB.UTF-8" give "GB", "zh-Hant-TW" gives
// "TW". It returns "" when the locale names no region ("fr"), names it with
// digits ("es-419") or names one libphonenumber does not know ("en-UK"), so
// that callers fall back to their default region.
func RegionFromLocale(locale string) string {
	locale = strings.TrimSpace(locale)
	if i := strings.IndexAny(locale, ".@"); i >= 0 { // POSIX: en_GB.UTF-8@euro
		locale = locale[:i]
	}
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) < 2 {
		return ""
	}
	// parts[0] is the language; then come extended languages (3 letters),
	// a script (4 letters), the region (2 letters or 3 digits), variants,
	// and extensions after a one-letter singleton.
	for _, p := range parts[1:] {
		if len(p) == 1 {
			break
		}
		if len(p) == 2 && isASCIILetter(p[0]) && isASCIILetter(p[1]) {
			region := strings.ToUpper(p)
			if KnownRegion(region) {
				return region
			}
			return ""
		}
		if len(p) == 3 && p[0] >= '0' && p[0] <= '9' {
			return "" // UN M.49 area, not a country
		}
	}
	return ""
}

func isASCIILetter(b byte) bool {
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}
