// Package jsonscan walks JSON documents already known to be valid (checked
// with json.Valid, or decoded once) without decoding them: byte scans that
// allocate nothing, for the hot paths (the gateway's decode, the blueprint's
// verbatim copies). They give up (ok false) on anything unexpected; callers
// then fall back to encoding/json.
package jsonscan

import (
	"bytes"
	"unicode/utf8"
)

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// SkipValue returns the index just past the value starting at b[i].
func SkipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	// A number, true, false or null: up to the next delimiter.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, true
		}
	}
	return i, true
}

// MemberValue returns the raw value of key in the object obj, the last one
// when the key repeats (as decoding does). A key written with escapes or
// invalid UTF-8 (which decoding would rewrite) is not matched: ok is false
// and the caller falls back.
func MemberValue(obj []byte, key string) (raw []byte, found, ok bool) {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, false
	}
	i = SkipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false, true
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, false, false
		}
		end, okStr := skipString(obj, i)
		if !okStr {
			return nil, false, false
		}
		k := obj[i+1 : end-1]
		if bytes.IndexByte(k, '\\') >= 0 || !utf8.Valid(k) {
			return nil, false, false
		}
		i = SkipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, false
		}
		i = SkipSpace(obj, i+1)
		vend, okVal := SkipValue(obj, i)
		if !okVal {
			return nil, false, false
		}
		if string(k) == key {
			raw, found = obj[i:vend], true
		}
		i = SkipSpace(obj, vend)
		if i >= len(obj) {
			return nil, false, false
		}
		if obj[i] == '}' {
			return raw, found, true
		}
		if obj[i] != ',' {
			return nil, false, false
		}
		i = SkipSpace(obj, i+1)
	}
	return nil, false, false
}

// Members calls fn with each member of the object obj, in document order:
// the key's raw bytes without quotes (escaped reports whether they hold
// escapes, left as written) and the value's raw bytes. It stops at the first
// error fn returns. ok is false if obj is not an object as expected.
func Members(obj []byte, fn func(key []byte, escaped bool, value []byte) error) (ok bool, err error) {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false, nil
	}
	i = SkipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true, nil
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return false, nil
		}
		end, okStr := skipString(obj, i)
		if !okStr {
			return false, nil
		}
		k := obj[i+1 : end-1]
		i = SkipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return false, nil
		}
		i = SkipSpace(obj, i+1)
		vend, okVal := SkipValue(obj, i)
		if !okVal {
			return false, nil
		}
		if err := fn(k, bytes.IndexByte(k, '\\') >= 0, obj[i:vend]); err != nil {
			return true, err
		}
		i = SkipSpace(obj, vend)
		if i >= len(obj) {
			return false, nil
		}
		if obj[i] == '}' {
			return true, nil
		}
		if obj[i] != ',' {
			return false, nil
		}
		i = SkipSpace(obj, i+1)
	}
	return false, nil
}

// Elements returns the raw elements of the array arr. ok is false if arr is
// not an array as expected.
func Elements(arr []byte) (elems [][]byte, ok bool) {
	elems, _, ok = ElementsUpTo(arr, -1)
	return elems, ok
}

// ElementsUpTo is Elements reading at most max elements (max < 0: all):
// more says the array holds another one, which is not read, nor is the
// rest of the array checked. A caller that refuses long arrays so reads
// and keeps no more than it accepts.
func ElementsUpTo(arr []byte, max int) (elems [][]byte, more, ok bool) {
	i := SkipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil, false, false
	}
	i = SkipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return [][]byte{}, false, true
	}
	for i < len(arr) {
		if len(elems) == max {
			return elems, true, true
		}
		end, okVal := SkipValue(arr, i)
		if !okVal {
			return nil, false, false
		}
		elems = append(elems, arr[i:end])
		i = SkipSpace(arr, end)
		if i >= len(arr) {
			return nil, false, false
		}
		if arr[i] == ']' {
			return elems, false, true
		}
		if arr[i] != ',' {
			return nil, false, false
		}
		i = SkipSpace(arr, i+1)
	}
	return nil, false, false
}
