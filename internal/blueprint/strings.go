package blueprint

// EachString calls fn with every string value of the message, at any depth
// (object keys are not values).
func EachString(src Source, fn func(string)) {
	eachString(src.root, fn)
}

func eachString(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		for _, e := range x {
			eachString(e, fn)
		}
	case []any:
		for _, e := range x {
			eachString(e, fn)
		}
	}
}
