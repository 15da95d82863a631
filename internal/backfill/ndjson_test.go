package backfill

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

const order = `{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1","timestamp":"2026-03-01T10:00:00Z","properties":{"order_id":"o1"}}`

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestDecode(t *testing.T) {
	t.Parallel()
	small := Limits{MaxBytes: 1 << 20, MaxLine: 512, MaxLines: 10}
	tests := []struct {
		name     string
		body     []byte
		lim      Limits
		accepted []int // lines
		rejected map[int]string
		tooLarge bool
		invalid  bool
	}{
		{name: "plain", body: []byte(order + "\n" + order), lim: small, accepted: []int{1, 2}},
		{name: "gzip", body: gz(order + "\n\n" + order + "\n"), lim: small, accepted: []int{1, 3}},
		{name: "crlf and blank lines", body: []byte(order + "\r\n\r\n" + order), lim: small, accepted: []int{1, 3}},
		{name: "bad lines refused alone", lim: small, body: []byte(strings.Join([]string{
			order,
			`not json`,
			`{"type":"track","userId":"u1","timestamp":"2026-03-01T10:00:00Z"}`,
			`{"type":"track","event":"x","timestamp":"2026-03-01T10:00:00Z"}`,
			`{"type":"track","event":"x","userId":"u1"}`,
			`{"type":"track","event":"x","userId":"u1","timestamp":"yesterday"}`,
			`{"type":"alias","userId":"u1","timestamp":"2026-03-01T10:00:00Z"}`,
			`[1,2]`,
			`{"type":"identify","userId":"u1","timestamp":"2026-03-01T10:00:00Z","traits":{"email":"a@example.com"}}`,
		}, "\n")), accepted: []int{1, 9}, rejected: map[int]string{2: "JSON object", 3: "event name", 4: "userId or anonymousId", 5: "timestamp is required",
			6: "RFC 3339", 7: "cannot be backfilled", 8: "JSON object"}},
		{name: "long line refused alone", lim: Limits{MaxBytes: 1 << 20, MaxLine: 200, MaxLines: 10},
			body: []byte(order + "\n" + `{"type":"track","event":"` + strings.Repeat("x", 300) + `"}` + "\n" + order), accepted: []int{1, 3}, rejected: map[int]string{2: "longer than 200"}},
		{name: "long last line", lim: Limits{MaxBytes: 1 << 20, MaxLine: 200, MaxLines: 10},
			body: []byte(order + "\n" + strings.Repeat("y", 300)), accepted: []int{1}, rejected: map[int]string{2: "longer than 200"}},
		{name: "too many bytes", lim: Limits{MaxBytes: 100, MaxLine: 512, MaxLines: 10}, body: []byte(order), tooLarge: true},
		{name: "gzip bomb bounded by decompressed size", lim: Limits{MaxBytes: 1000, MaxLine: 512, MaxLines: 1000},
			body: gz(strings.Repeat("\n", 5000)), tooLarge: true},
		{name: "too many lines", lim: Limits{MaxBytes: 1 << 20, MaxLine: 512, MaxLines: 2}, body: []byte(order + "\n" + order + "\nx"), tooLarge: true},
		{name: "broken gzip", lim: small, body: append([]byte{0x1f, 0x8b}, "garbage"...), invalid: true},
		{name: "truncated gzip", lim: small, body: gz(order + "\n" + order)[:40], invalid: true},
		{name: "empty", lim: small, body: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items, rej, err := Decode(bytes.NewReader(tt.body), tt.lim)
			switch {
			case tt.tooLarge:
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			case tt.invalid:
				if err == nil || errors.Is(err, ErrTooLarge) {
					t.Fatalf("err = %v, want an invalid body", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			var lines []int
			for _, it := range items {
				lines = append(lines, it.Line)
				if it.Timestamp.IsZero() || len(it.Message) == 0 {
					t.Errorf("item %+v lacks its time or message", it)
				}
			}
			if len(lines) != len(tt.accepted) {
				t.Fatalf("accepted lines %v, want %v (rejected %+v)", lines, tt.accepted, rej)
			}
			for i := range lines {
				if lines[i] != tt.accepted[i] {
					t.Fatalf("accepted lines %v, want %v", lines, tt.accepted)
				}
			}
			if len(rej) != len(tt.rejected) {
				t.Fatalf("rejected %+v, want lines %v", rej, tt.rejected)
			}
			for _, r := range rej {
				if want, ok := tt.rejected[r.Line]; !ok || !strings.Contains(r.Message, want) || r.Code != "INVALID_PAYLOAD" {
					t.Errorf("rejected %+v, want line %d to say %q", r, r.Line, want)
				}
			}
		})
	}
	items, _, _ := Decode(strings.NewReader(order), DefaultLimits)
	if it := items[0]; it.MessageID != "m1" || it.Event != "Order Completed" || it.Timestamp.Format("2006-01-02T15") != "2026-03-01T10" {
		t.Fatalf("item = %+v", it)
	}
}

// FuzzDecode: any body either fails as a whole or accounts for every line
// it read (accepted or rejected), each accepted line a JSON object with a
// time, within the limits.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(order + "\n" + order))
	f.Add(gz(order + "\nnot json\n"))
	f.Add([]byte("\n\n\r\n"))
	f.Add([]byte(`{"type":"page","anonymousId":1,"name":"Home","timestamp":"2026-01-01T00:00:00.5+02:00"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lim := Limits{MaxBytes: 4096, MaxLine: 256, MaxLines: 64}
		items, rej, err := Decode(bytes.NewReader(body), lim)
		if err != nil {
			if items != nil || rej != nil {
				t.Fatal("an error with results")
			}
			return
		}
		if len(items)+len(rej) > lim.MaxLines {
			t.Fatalf("%d lines over the limit", len(items)+len(rej))
		}
		seen := map[int]bool{}
		for _, it := range items {
			if seen[it.Line] || it.Line < 1 || it.Timestamp.IsZero() || len(it.Message) > lim.MaxLine || it.Message[0] != '{' {
				t.Fatalf("bad item %+v", it)
			}
			seen[it.Line] = true
		}
		for _, r := range rej {
			if seen[r.Line] || r.Line < 1 || r.Message == "" {
				t.Fatalf("bad rejection %+v", r)
			}
			seen[r.Line] = true
		}
	})
}
