package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzMemberValue checks the allocation-free scan against encoding/json on
// valid documents: whenever the scan answers, it answers the same.
func FuzzMemberValue(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":{"c":[1,"x}"]},"a":2}`, `{}`, `{"k\"ey":1}`, `{ "p" : [ {"q":"\\"} ] }`} {
		f.Add([]byte(s), "a")
		f.Add([]byte(s), "b")
		f.Add([]byte(s), "p")
	}
	f.Fuzz(func(t *testing.T, doc []byte, key string) {
		var want map[string]json.RawMessage
		if json.Unmarshal(doc, &want) != nil {
			return
		}
		raw, found, ok := MemberValue(doc, key)
		if !ok {
			return
		}
		w, wfound := want[key]
		if found != wfound || (found && !bytes.Equal(bytes.TrimSpace(raw), bytes.TrimSpace(w))) {
			t.Fatalf("MemberValue(%q, %q) = %q %v, encoding/json says %q %v", doc, key, raw, found, w, wfound)
		}
	})
}

func TestMembersAndElements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		keys []string
		vals []string
		ok   bool
	}{
		{"empty", `{}`, nil, nil, true},
		{"spaced", " { \"a\" : 1 ,\n\"b\":\t[1, {\"c\":\"]}\"}] } ", []string{"a", "b"}, []string{"1", `[1, {"c":"]}"}]`}, true},
		{"escaped key kept raw", `{"a\"b":"x\\"}`, []string{`a\"b`}, []string{`"x\\"`}, true},
		{"not an object", `[1]`, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var keys, vals []string
			ok, err := Members([]byte(tt.doc), func(k []byte, _ bool, v []byte) error {
				keys, vals = append(keys, string(k)), append(vals, string(v))
				return nil
			})
			if ok != tt.ok || err != nil || !equal(keys, tt.keys) || !equal(vals, tt.vals) {
				t.Fatalf("Members(%s) = %v %v, keys %q vals %q", tt.doc, ok, err, keys, vals)
			}
		})
	}
	elems, ok := Elements([]byte(` [ {"a":[1,2]} , "s,]" ,3 ,null ] `))
	if !ok || len(elems) != 4 || string(elems[0]) != `{"a":[1,2]}` || string(elems[1]) != `"s,]"` || string(elems[3]) != "null" {
		t.Fatalf("Elements = %q %v", elems, ok)
	}
	if _, ok := Elements([]byte(`{}`)); ok {
		t.Fatal("Elements accepted an object")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzElements checks the scan cuts arrays as encoding/json does.
func FuzzElements(f *testing.F) {
	for _, s := range []string{`[]`, `[1,"a]",{"b":[2]}]`, ` [ null , true ] `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var want []json.RawMessage
		if json.Unmarshal(doc, &want) != nil || want == nil {
			return
		}
		got, ok := Elements(doc)
		if !ok || len(got) != len(want) {
			t.Fatalf("Elements(%q) = %q %v; encoding/json: %q", doc, got, ok, want)
		}
		for i := range got {
			if !bytes.Equal(bytes.TrimSpace(got[i]), bytes.TrimSpace(want[i])) {
				t.Fatalf("element %d: %q vs %q", i, got[i], want[i])
			}
		}
	})
}

// TestElementsUpTo: at most max elements are read; more says whether the
// array goes on.
func TestElementsUpTo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc      string
		max      int
		want     int
		more, ok bool
	}{
		{`[]`, 2, 0, false, true},
		{`[1,2]`, 2, 2, false, true},
		{`[1,2,3]`, 2, 2, true, true},
		{` [ 1 , 2 , {"a":[3]} ] `, 3, 3, false, true},
		{`[1,2,3`, 5, 0, false, false},
		{`[1,2,` + strings.Repeat("0,", 100000) + `0]`, 2, 2, true, true},
		{`[1,2,3]`, -1, 3, false, true},
		{`{"a":1}`, 2, 0, false, false},
	} {
		got, more, ok := ElementsUpTo([]byte(tt.doc), tt.max)
		if len(got) != tt.want || more != tt.more || ok != tt.ok {
			t.Errorf("ElementsUpTo(%.30q, %d) = %d elements, more %v, ok %v; want %d, %v, %v", tt.doc, tt.max, len(got), more, ok, tt.want, tt.more, tt.ok)
		}
	}
}
