package blueprint

import "bytes"

// The functions here find values inside a JSON document already known to be
// valid (Decode checked it) without decoding it: a scan that allocates
// nothing. They give up (ok false) on anything unexpected, and callers then
// fall back to encoding/json.

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
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

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
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

// memberValue returns the raw value of key in the object obj, the last one
// when the key repeats (as decoding does). A key written with escapes is not
// matched: ok is false and the caller falls back.
func memberValue(obj []byte, key string) (raw []byte, found, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, false
	}
	i = skipSpace(obj, i+1)
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
		if bytes.IndexByte(k, '\\') >= 0 {
			return nil, false, false
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, false
		}
		i = skipSpace(obj, i+1)
		vend, okVal := skipValue(obj, i)
		if !okVal {
			return nil, false, false
		}
		if string(k) == key {
			raw, found = obj[i:vend], true
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) {
			return nil, false, false
		}
		if obj[i] == '}' {
			return raw, found, true
		}
		if obj[i] != ',' {
			return nil, false, false
		}
		i = skipSpace(obj, i+1)
	}
	return nil, false, false
}
