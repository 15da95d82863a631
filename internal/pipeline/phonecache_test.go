package pipeline

import (
	"fmt"
	"strings"
	"testing"
)

// TestPhoneCacheRefusesImplausible: what cannot be a phone is refused
// before parsing and never becomes a cache key.
func TestPhoneCacheRefusesImplausible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		raw    string
		want   string
		cached int
	}{
		{name: "a 31 KB phone", raw: strings.Repeat("1", 31<<10)},
		{name: "33 bytes of digits", raw: strings.Repeat("1", 33)},
		{name: "too few digits", raw: "+1 2"},
		{name: "letters", raw: "+1 800 FLOWERS"},
		{name: "spaces around a real number are trimmed", raw: "  +44 7700 900123  ", want: "+447700900123", cached: 1},
		{name: "a national number with its region", raw: "07700 900123", want: "+447700900123", cached: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c phoneCache
			r := c.read(tt.raw, "GB")
			got, err := r.e164, r.err
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Fatalf("normalize = %q, %v; want %q", got, err, tt.want)
			}
			if len(c.m) != tt.cached || c.bytes > 64 {
				t.Fatalf("cache holds %d entries, %d bytes; want %d entries", len(c.m), c.bytes, tt.cached)
			}
		})
	}
}

// TestPhoneCacheBounded floods distinct plausible phones: the cache stays
// within its count and byte bounds.
func TestPhoneCacheBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		phone func(i int) string
		n     int
	}{
		{name: "short valid numbers past the count", phone: func(i int) string { return fmt.Sprintf("+1415555%04d", i%10000) + fmt.Sprint(i/10000) }, n: phoneCacheSize + 100},
		{name: "32-byte numbers reach the byte bound first", phone: func(i int) string { return fmt.Sprintf("+44 (0) 7700-900-%015d", i) }, n: phoneCacheBytes/34 + 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c phoneCache
			for i := range tt.n {
				c.read(tt.phone(i), "GB")
				if len(c.m) > phoneCacheSize || c.bytes > phoneCacheBytes {
					t.Fatalf("after %d phones: %d entries, %d bytes; bounds %d, %d", i+1, len(c.m), c.bytes, phoneCacheSize, phoneCacheBytes)
				}
			}
			if len(c.m) == 0 || len(c.m) >= tt.n {
				t.Fatalf("%d entries after %d phones: want a cache that started over", len(c.m), tt.n)
			}
		})
	}
}
