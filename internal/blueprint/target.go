package blueprint

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// maxTargetIndex bounds an index in a target path ("discounts[0]"): the
// object-array form names the first few elements, never a large array.
const maxTargetIndex = 99

// step is one part of a target path: an object key, or an array index.
type step struct {
	key   string
	index int // -1 for a key
}

// parseTarget splits "a.b[0].c" into steps. A target without '.' or '['
// is one key, exactly as blueprints before nested targets wrote it. ok is
// false for an empty key, an unclosed or bad index, or a path that starts
// with an index.
func parseTarget(t string) ([]step, bool) {
	if !strings.ContainsAny(t, ".[") {
		return []step{{key: t, index: -1}}, t != ""
	}
	var steps []step
	for part := range strings.SplitSeq(t, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" {
			return nil, false
		}
		steps = append(steps, step{key: key, index: -1})
		if rest == "" && !strings.Contains(part, "[") {
			continue
		}
		rest = "[" + rest
		for rest != "" {
			if rest[0] != '[' {
				return nil, false
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, false
			}
			digits := rest[1:end]
			i, err := strconv.Atoi(digits)
			if err != nil || i < 0 || i > maxTargetIndex || digits != strconv.Itoa(i) {
				return nil, false
			}
			steps = append(steps, step{index: i})
			rest = rest[end+1:]
		}
	}
	return steps, true
}

// Object is a JSON object that keeps its keys in the order they were set:
// a nested target's value ("product.id" makes "product" an Object). It
// marshals without HTML escaping when its encoder has none.
type Object struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// Keys returns the keys in order.
func (o *Object) Keys() []string { return o.keys }

// Get returns a member.
func (o *Object) Get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Len is the number of members.
func (o *Object) Len() int { return len(o.keys) }

func (o *Object) set(k string, v any) {
	if _, dup := o.vals[k]; !dup {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// MarshalJSON writes the members in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
		buf.WriteByte(':')
		if err := enc.Encode(o.vals[k]); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// put sets v at steps inside o, making objects and arrays on the way. An
// index may name an existing element or the next one; a later index, or a
// spot already holding another kind of value, leaves v out (false).
func put(o *Object, steps []step, v any) bool {
	k := steps[0].key
	if len(steps) == 1 {
		o.set(k, v)
		return true
	}
	cur := o.vals[k]
	next, ok := putIn(cur, steps[1:], v)
	if ok {
		o.set(k, next)
	}
	return ok
}

// putIn sets v at steps inside the container cur (nil: a new one) and
// returns the container.
func putIn(cur any, steps []step, v any) (any, bool) {
	s := steps[0]
	if s.index < 0 {
		obj, isObj := cur.(*Object)
		if cur == nil {
			obj, isObj = newObject(2), true
		}
		if !isObj {
			return cur, false
		}
		return obj, put(obj, steps, v)
	}
	arr, isArr := cur.([]any)
	if cur != nil && !isArr {
		return cur, false
	}
	if s.index > len(arr) {
		return cur, false
	}
	if len(steps) == 1 {
		if s.index == len(arr) {
			return append(arr, v), true
		}
		arr[s.index] = v
		return arr, true
	}
	var elem any
	if s.index < len(arr) {
		elem = arr[s.index]
	}
	elem, ok := putIn(elem, steps[1:], v)
	if !ok {
		return cur, false
	}
	if s.index == len(arr) {
		return append(arr, elem), true
	}
	arr[s.index] = elem
	return arr, true
}
