package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/signalhq/signal/internal/signal"
)

// jsonShape describes the JSON a blueprint is written in, so that an
// unknown or mistyped field deep in it is named by its full path
// ("events.Order Completed.mappings[1].target"), as blueprint.Validate names
// the problems it finds. encoding/json names only the last key of an unknown
// field and drops map keys and indexes from a type error's path.
type jsonShape struct {
	kind   string // object, map, array, string, bool, int, paths
	fields map[string]*jsonShape
	elem   *jsonShape
}

var (
	shapeString = &jsonShape{kind: "string"}
	shapeBool   = &jsonShape{kind: "bool"}
	shapeInt    = &jsonShape{kind: "int"}
	shapePaths  = &jsonShape{kind: "paths"}

	blueprintShape = &jsonShape{kind: "object", fields: map[string]*jsonShape{
		"version":  shapeInt,
		"defaults": {kind: "object", fields: map[string]*jsonShape{"action": shapeString}},
		"events": {kind: "map", elem: &jsonShape{kind: "object", fields: map[string]*jsonShape{
			"vendor_event_name": shapeString,
			"enabled":           shapeBool,
			"priority":          shapeString,
			"max_age":           shapeString,
			"mappings": {kind: "array", elem: &jsonShape{kind: "object", fields: map[string]*jsonShape{
				"source": shapeString, "else": shapePaths, "target": shapeString,
			}}},
		}}},
	}}
)

// decodeBlueprint reads a blueprint from the request body, naming the path
// of an unknown or mistyped field. It does not validate the values.
func decodeBlueprint(r *http.Request) (signal.Blueprint, error) {
	var raw json.RawMessage
	if err := decode(r, &raw); err != nil {
		return signal.Blueprint{}, err
	}
	return readBlueprint(raw, "")
}

// readBlueprint reads a blueprint's JSON found at path of a request body
// ("" for the whole body), naming the path of an unknown or mistyped field.
func readBlueprint(raw json.RawMessage, path string) (signal.Blueprint, error) {
	var bp signal.Blueprint
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return bp, signal.Errorf(signal.EINVALID, "request body is not valid JSON")
	}
	if _, ok := v.(map[string]any); !ok {
		return bp, signal.Errorf(signal.EINVALID, "request body must be a JSON object: a blueprint")
	}
	if err := checkShape(v, blueprintShape, path); err != nil {
		return bp, err
	}
	if err := json.Unmarshal(raw, &bp); err != nil {
		return bp, signal.Errorf(signal.EINVALID, "the blueprint could not be read: %v", err)
	}
	return bp, nil
}

func checkShape(v any, s *jsonShape, path string) error {
	if v == nil {
		return nil // null leaves the field at its zero value
	}
	bad := func(want string) error {
		return signal.FieldErrorf(signal.EINVALID, path, "%s must be %s", path, want)
	}
	switch s.kind {
	case "object", "map":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("a JSON object")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub, p := s.elem, k
			if path != "" {
				p = path + "." + k
			}
			if s.kind == "object" {
				if sub = s.fields[k]; sub == nil {
					return signal.FieldErrorf(signal.EINVALID, p, "unknown field %q", p)
				}
			}
			if err := checkShape(m[k], sub, p); err != nil {
				return err
			}
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return bad("a list")
		}
		for i, item := range list {
			if err := checkShape(item, s.elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "paths":
		if _, ok := v.(string); ok {
			return nil
		}
		if _, ok := v.([]any); !ok {
			return bad("a path or a list of paths")
		}
		return checkShape(v, &jsonShape{kind: "array", elem: shapeString}, path)
	case "string":
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			return bad("true or false")
		}
	case "int":
		n, ok := v.(json.Number)
		if !ok {
			return bad("a whole number")
		}
		if _, err := n.Int64(); err != nil {
			return bad("a whole number")
		}
	}
	return nil
}
