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
// named by itself. It allocates; it is meant for error paths.
func PathTo(doc []byte, off int) string {
	var path []string
	v := doc[SkipSpace(doc, 0):]
	for {
		switch {
		case len(v) > 0 && v[0] == '{':
			found := false
			Members(v, func(k []byte, _ bool, val []byte) error {
				ko := offsetIn(doc, k) - 1
				vo := offsetIn(doc, val)
				key := strings.ToValidUTF8(string(k), "\uFFFD")
				if off >= ko && off < ko+len(k)+2 {
					path, found = append(path, key), false
					v = nil
					return errStop
				}
				if off >= vo && off < vo+len(val) {
					path, found = append(path, key), true
					v = val
					return errStop
				}
				return nil
			})
			if !found {
				return joinPath(path)
			}
		case len(v) > 0 && v[0] == '[':
			elems, _ := Elements(v)
			found := false
			for idx, e := range elems {
				eo := offsetIn(doc, e)
				if off >= eo && off < eo+len(e) {
					path = append(path, "["+strconv.Itoa(idx)+"]")
					v, found = e, true
					break
				}
			}
			if !found {
				return joinPath(path)
			}
		default:
			return joinPath(path)
		}
	}
}

type stopError struct{}

func (stopError) Error() string { return "stop" }

var errStop error = stopError{}

// offsetIn is the offset of sub, a slice of doc, within doc.
func offsetIn(doc, sub []byte) int { return cap(doc) - cap(sub) }

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
