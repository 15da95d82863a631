package contact

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		region  string
		want    string
		wantErr error
	}{
		{name: "integration page example", raw: "+447700900123", want: "+447700900123"},
		{name: "page example ignores region", raw: "+447700900123", region: "US", want: "+447700900123"},
		{name: "GB national", raw: "07700 900123", region: "GB", want: "+447700900123"},
		{name: "GB national lower-case region", raw: "07700 900123", region: "gb", want: "+447700900123"},
		{name: "GB valid mobile", raw: "07400 123456", region: "GB", want: "+447400123456"},
		{name: "US national", raw: "(415) 555-2671", region: "US", want: "+14155552671"},
		{name: "US national with dots", raw: "415.555.2671", region: "US", want: "+14155552671"},
		{name: "international with spaces", raw: "+44 7700 900123", want: "+447700900123"},
		{name: "international with dashes", raw: "+1-415-555-2671", want: "+14155552671"},
		{name: "international with parentheses", raw: "+44 (0)7700 900123", want: "+447700900123"},
		{name: "surrounding whitespace", raw: "  +33 6 12 34 56 78\t", want: "+33612345678"},
		{name: "GB international prefix", raw: "00 44 7700 900123", region: "GB", want: "+447700900123"},
		{name: "empty", raw: "", wantErr: ErrEmpty},
		{name: "whitespace", raw: "   ", region: "GB", wantErr: ErrEmpty},
		{name: "national without region", raw: "07700 900123", wantErr: ErrInvalidPhone},
		{name: "unknown region", raw: "07700 900123", region: "XX", wantErr: ErrInvalidPhone},
		{name: "letters", raw: "call me maybe", region: "GB", wantErr: ErrInvalidPhone},
		{name: "vanity number", raw: "1-800-FLOWERS", region: "US", wantErr: ErrInvalidPhone},
		{name: "extension", raw: "+44 7700 900123 ext. 5", wantErr: ErrInvalidPhone},
		{name: "too short", raw: "+44 12", wantErr: ErrInvalidPhone},
		{name: "too short national", raw: "12", region: "GB", wantErr: ErrInvalidPhone},
		{name: "too long", raw: "+44 7700 900123 456789", wantErr: ErrInvalidPhone},
		{name: "very long input", raw: "+" + strings.Repeat("1", 100), wantErr: ErrInvalidPhone},
		{name: "unknown country code", raw: "+999 1234 5678", wantErr: ErrInvalidPhone},
		{name: "only punctuation", raw: "+() -", wantErr: ErrInvalidPhone},
		{name: "plus inside", raw: "44+7700900123", region: "GB", wantErr: ErrInvalidPhone},
		{name: "symbols", raw: "+44 7700 900123#", wantErr: ErrInvalidPhone},
		{name: "local only US", raw: "555-2671", region: "US", wantErr: ErrInvalidPhone},
	}
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.raw, tt.region)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("NormalizePhone() = %q, %v; want error %v", got, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("NormalizePhone() = %q on error, want empty", got)
				}
				assertNoNumber(t, err.Error(), tt.raw)
				return
			}
			if err != nil {
				t.Fatalf("NormalizePhone() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone() = %q, want %q", got, tt.want)
			}
			if !e164.MatchString(got) {
				t.Errorf("NormalizePhone() = %q, not E.164", got)
			}
		})
	}
}

// assertNoNumber fails if msg contains raw or its digit run.
func assertNoNumber(t *testing.T, msg, raw string) {
	t.Helper()
	raw = strings.TrimSpace(raw)
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, raw)
	if len(raw) >= 4 && strings.Contains(msg, raw) {
		t.Errorf("error %q repeats the input", msg)
	}
	if len(digits) >= 4 && strings.Contains(msg, digits) {
		t.Errorf("error %q repeats the number's digits", msg)
	}
}

func TestRegionFromLocale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		locale, want string
	}{
		{"en-GB", "GB"},
		{"en_GB", "GB"},
		{"en-gb", "GB"},
		{"en_GB.UTF-8", "GB"},
		{"de_DE@euro", "DE"},
		{"zh-Hant-TW", "TW"},
		{"zh-yue-HK", "HK"},
		{"sr-Latn-RS-u-nu-latn", "RS"},
		{"en-US-posix", "US"},
		{"fr", ""},
		{"", ""},
		{"  ", ""},
		{"es-419", ""},
		{"en-UK", ""},
		{"en-x-gb", ""},
		{"zh-Hant", ""},
		{"-GB", ""},
		{"GB", ""},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			t.Parallel()
			if got := RegionFromLocale(tt.locale); got != tt.want {
				t.Errorf("RegionFromLocale(%q) = %q, want %q", tt.locale, got, tt.want)
			}
		})
	}
}

func TestKnownRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region string
		want   bool
	}{
		{"GB", true}, {"gb", true}, {"US", true}, {"UK", false}, {"ZZ", false}, {"", false}, {"GBR", false},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			t.Parallel()
			if got := KnownRegion(tt.region); got != tt.want {
				t.Errorf("KnownRegion(%q) = %v, want %v", tt.region, got, tt.want)
			}
		})
	}
}

func FuzzNormalizePhone(f *testing.F) {
	seeds := []struct{ raw, region string }{
		{"+447700900123", ""}, {"07700 900123", "GB"}, {"(415) 555-2671", "US"},
		{"+1-415-555-2671", ""}, {"abc", "GB"}, {"", ""}, {"00 44 7700 900123", "gb"}, {"+", "ZZ"},
	}
	for _, s := range seeds {
		f.Add(s.raw, s.region)
	}
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizePhone(raw, region)
		if err != nil {
			if got != "" {
				t.Fatalf("non-empty result %q with error", got)
			}
			assertNoNumber(t, err.Error(), raw)
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q, %q) = %q, not E.164", raw, region, got)
		}
		if again, err := NormalizePhone(got, ""); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func FuzzRegionFromLocale(f *testing.F) {
	for _, s := range []string{"en-GB", "zh-Hant-TW", "fr", "en_GB.UTF-8", "es-419", "x-a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, locale string) {
		got := RegionFromLocale(locale)
		if got != "" && !KnownRegion(got) {
			t.Fatalf("RegionFromLocale(%q) = %q, not a known region", locale, got)
		}
		if got != strings.ToUpper(got) {
			t.Fatalf("RegionFromLocale(%q) = %q, not upper-case", locale, got)
		}
	})
}
