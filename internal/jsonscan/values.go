package jsonscan

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is what BadValue found wrong with a value.
type Problem int

const (
	// NoProblem: every string is valid UTF-8 and every number fits a float64.
	NoProblem Problem = iota
	// BadUTF8: a string (or key) holds bytes that are not UTF-8, which
	// decoders silently replace.
	BadUTF8
	// BigNumber: a number too large for a float64 (1e999999), which
	// decoders turn into an error or infinity.
	BigNumber
)

// BadValue returns the offset of the first string with invalid UTF-8 or
// number that does not fit a float64 in doc, a document already known to be
// valid JSON. One byte scan, no allocation unless a number is near the
// float64 range (it is then parsed to be sure).
func BadValue(doc []byte) (off int, p Problem) {
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '"':
			end, ok := validString(doc, i)
			if !ok {
				return i, BadUTF8
			}
			i = end
		case c == '-' || ('0' <= c && c <= '9'):
			end := i + 1
			for end < len(doc) && isNumberByte(doc[end]) {
				end++
			}
			if !fitsFloat(doc[i:end]) {
				return i, BigNumber
			}
			i = end
		default:
			i++
		}
	}
	return 0, NoProblem
}

// validString returns the index past the string at b[i] == '"' and whether
// its bytes are valid UTF-8.
func validString(b []byte, i int) (int, bool) {
	for i++; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			i += 2
		case c == '"':
			return i + 1, true
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		}
	}
	return len(b), true
}

func isNumberByte(c byte) bool {
	return ('0' <= c && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// fitsFloat reports whether the JSON number n is within the float64 range.
// Its decimal magnitude (integer digits + exponent) decides without parsing
// unless it is near 10^308.
func fitsFloat(n []byte) bool {
	i := 0
	if i < len(n) && n[i] == '-' {
		i++
	}
	for i < len(n) && n[i] == '0' {
		i++ // leading zeros (JSON allows one) add no magnitude
	}
	digits := 0
	for i < len(n) && '0' <= n[i] && n[i] <= '9' {
		digits++
		i++
	}
	for i < len(n) && n[i] != 'e' && n[i] != 'E' {
		i++ // fraction
	}
	exp := 0
	if i < len(n) {
		i++
		neg := false
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			neg = n[i] == '-'
			i++
		}
		for ; i < len(n); i++ {
			if exp < 1e6 {
				exp = exp*10 + int(n[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	if digits+exp <= 308 {
		return true // below 10^308 < MaxFloat64
	}
	_, err := strconv.ParseFloat(string(n), 64)
	return err == nil
}

// PathTo names the value at offset off of doc (a valid JSON document) the
// way errors name fields: "properties.products[2].price". A key at off is
// named by itself. One forward scan up to off, keeping the member or
// element being read at each level: a value nested thousands of levels
// deep costs no more than its bytes (a hostile body sends such values to
// be refused). It allocates; it is meant for error paths.
func PathTo(doc []byte, off int) string {
	type level struct {
		arr    bool
		idx    int    // the element being read (arrays)
		key    string // the member being read (objects)
		hasKey bool
	}
	var (
		stack   []level
		wantKey bool
	)
	path := func() string {
		parts := make([]string, 0, len(stack))
		for _, l := range stack {
			switch {
			case l.arr:
				parts = append(parts, "["+strconv.Itoa(l.idx)+"]")
			case l.hasKey:
				parts = append(parts, l.key)
			}
		}
		return joinPath(parts)
	}
	for i := 0; i < len(doc) && i <= off; {
		switch c := doc[i]; c {
		case '{', '[':
			if i == off {
				return path()
			}
			stack = append(stack, level{arr: c == '['})
			wantKey = c == '{'
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			wantKey = false
			i++
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].arr {
					stack[n-1].idx++
				} else {
					wantKey = true
				}
			}
			i++
		case ':':
			wantKey = false
			i++
		case '"':
			end, ok := skipString(doc, i)
			if !ok {
				return path()
			}
			if n := len(stack); wantKey && n > 0 {
				stack[n-1].key, stack[n-1].hasKey = strings.ToValidUTF8(string(doc[i+1:end-1]), "\uFFFD"), true
				wantKey = false
			}
			if off < end {
				return path()
			}
			i = end
		default:
			i++
		}
	}
	return path()
}

func joinPath(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
