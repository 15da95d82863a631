package contact

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{name: "plain", in: "jane@example.com", want: "jane@example.com"},
		{name: "trim and lower", in: "  Jane.Doe@Example.COM \n", want: "jane.doe@example.com"},
		{name: "plus tag", in: "jane+shop@example.co.uk", want: "jane+shop@example.co.uk"},
		{name: "unicode lowered", in: "ÉLODIE@exemple.fr", want: "élodie@exemple.fr"},
		{name: "empty", in: "", wantErr: ErrEmpty},
		{name: "whitespace only", in: " \t\n", wantErr: ErrEmpty},
		{name: "no at", in: "jane.example.com", wantErr: ErrInvalidEmail},
		{name: "two ats", in: "jane@doe@example.com", wantErr: ErrInvalidEmail},
		{name: "no local part", in: "@example.com", wantErr: ErrInvalidEmail},
		{name: "no domain", in: "jane@", wantErr: ErrInvalidEmail},
		{name: "inner space", in: "jane doe@example.com", wantErr: ErrInvalidEmail},
		{name: "control char", in: "jane\x00@example.com", wantErr: ErrInvalidEmail},
		{name: "bad utf8", in: "jane\xff@example.com", wantErr: ErrInvalidEmail},
		{name: "too long", in: strings.Repeat("a", 250) + "@example.com", wantErr: ErrInvalidEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEmail(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseEmail() error = %v, want %v", err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("ParseEmail() = %q on error, want empty", got)
				}
				if in := strings.TrimSpace(tt.in); len(in) > 3 && strings.Contains(err.Error(), in) {
					t.Errorf("error %q repeats the address", err)
				}
				if NormalizeEmail(tt.in) != "" {
					t.Errorf("NormalizeEmail() = %q, want empty", NormalizeEmail(tt.in))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEmail() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseEmail() = %q, want %q", got, tt.want)
			}
			if n := NormalizeEmail(tt.in); n != tt.want {
				t.Errorf("NormalizeEmail() = %q, want %q", n, tt.want)
			}
		})
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"jane@example.com", " A@B ", "@", "a@@b", "", "\xff@x", "ü@ß.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEmail(s)
		if err != nil {
			if got != "" {
				t.Fatalf("non-empty result %q with error", got)
			}
			return
		}
		if strings.Count(got, "@") != 1 || strings.HasPrefix(got, "@") || strings.HasSuffix(got, "@") {
			t.Fatalf("accepted %q", got)
		}
		if again, err := ParseEmail(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}
