package omnisend

import "testing"

// The IP of a consent record is a plain public-form address or nothing.
func TestValidIP(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"2001:db8::1", "2001:db8::1"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"fe80::1%eth0", ""},
		{"203.0.113.7:443", ""},
		{"not an ip", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := validIP(tc.in); got != tc.want {
			t.Errorf("validIP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
