package blueprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit, kept so that the same
// documents decode.
const maxDepth = 10000

// decodeObject decodes a JSON object into what encoding/json's Decoder,
// with UseNumber, makes of it for a map[string]any (objects as
// map[string]any, arrays as []any, numbers as json.Number, invalid UTF-8
// and lone surrogates as U+FFFD, the last of duplicate keys winning), and
// refuses whatever it refuses, data after the object included. The
// processor decodes every stored event; encoding/json's reflection and
// second validating scan cost it twice the time (BenchmarkDecode).
// FuzzDecodeSame holds the two equal. Errors give an offset, never the
// text (it may hold personal data).
func decodeObject(b []byte) (map[string]any, error) {
	d := decoder{b: b}
	d.space()
	if d.i < len(b) && b[d.i] == 'n' {
		if err := d.literal("null"); err != nil {
			return nil, err
		}
		if d.space(); d.i != len(b) {
			return nil, errors.New("data after the JSON object")
		}
		return nil, nil
	}
	if d.i >= len(b) || b[d.i] != '{' {
		if _, err := d.value(); err != nil {
			return nil, err
		}
		return nil, errors.New("not a JSON object")
	}
	v, err := d.object()
	if err != nil {
		return nil, err
	}
	if d.space(); d.i != len(b) {
		return nil, errors.New("data after the JSON object")
	}
	return v, nil
}

type decoder struct {
	b     []byte
	i     int
	depth int
}

func (d *decoder) fail(what string) error {
	if d.i >= len(d.b) {
		return fmt.Errorf("unexpected end of JSON input (%s)", what)
	}
	return fmt.Errorf("invalid character at offset %d (%s)", d.i, what)
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	d.space()
	if d.i >= len(d.b) {
		return nil, d.fail("looking for a value")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.string()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, d.fail("looking for a value")
}

func (d *decoder) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if d.i >= len(d.b) || d.b[d.i] != lit[j] {
			return d.fail("in literal")
		}
		d.i++
	}
	return nil
}

func (d *decoder) nest() error {
	if d.depth++; d.depth > maxDepth {
		return errors.New("exceeded max depth")
	}
	return nil
}

func (d *decoder) object() (map[string]any, error) {
	if err := d.nest(); err != nil {
		return nil, err
	}
	d.i++ // '{'
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		d.depth--
		return m, nil
	}
	for {
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.fail("looking for an object key")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, d.fail("after an object key")
		}
		d.i++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.space()
		if d.i >= len(d.b) {
			return nil, d.fail("after an object value")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return m, nil
		default:
			return nil, d.fail("after an object value")
		}
	}
}

func (d *decoder) array() ([]any, error) {
	if err := d.nest(); err != nil {
		return nil, err
	}
	d.i++ // '['
	a := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		d.depth--
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, d.fail("after an array element")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return a, nil
		default:
			return nil, d.fail("after an array element")
		}
	}
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() (json.Number, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.i = digits(d.b, d.i+1)
	default:
		return "", d.fail("in numeric literal")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if j := digits(d.b, d.i); j == d.i {
			return "", d.fail("after decimal point in numeric literal")
		} else {
			d.i = j
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if j := digits(d.b, d.i); j == d.i {
			return "", d.fail("in exponent of numeric literal")
		} else {
			d.i = j
		}
	}
	return json.Number(d.b[start:d.i]), nil
}

// string reads a JSON string at d.b[d.i] == '"'. A string without escapes
// or invalid UTF-8 is copied once; others are unquoted as encoding/json
// does.
func (d *decoder) string() (string, error) {
	d.i++ // '"'
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, nil
		case c == '\\':
			return d.unquote(start)
		case c < 0x20:
			return "", d.fail("in string literal")
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return d.unquote(start)
			}
			d.i += size
		}
	}
	return "", d.fail("in string literal")
}

// unquote reads on from d.i the rest of the string begun at start,
// decoding escapes and replacing invalid UTF-8 and lone surrogates.
func (d *decoder) unquote(start int) (string, error) {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), nil
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return "", d.fail("in string escape code")
			}
			e := d.b[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.fail("in \\u hexadecimal character escape")
				}
				if utf16.IsSurrogate(r) {
					// A second \uXXXX completing the pair is consumed
					// with it; anything else leaves the first one U+FFFD.
					if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						if r2, ok := d.hex4(); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								out = utf8.AppendRune(out, dec)
								continue
							}
						}
						d.i = save
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				d.i--
				return "", d.fail("in string escape code")
			}
		case c < 0x20:
			return "", d.fail("in string literal")
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, d.b[d.i:d.i+size]...)
			}
			d.i += size
		}
	}
	return "", d.fail("in string literal")
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}
