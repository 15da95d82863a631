package blueprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/signalhq/signal/internal/signal"
)

// Version is the only blueprint version this package reads.
const Version = 2

// MaxTargetLen bounds any target, whatever the vendor's own rule.
const MaxTargetLen = 255

// TargetRule checks one mapping target against a vendor's naming rule (see
// integration.Vendor.ValidateTarget); its error's message is used, the
// field is the mapping's path.
type TargetRule func(name string) error

// sourceRoots are the message fields a mapping path may start with.
var sourceRoots = []string{
	"properties", "context", "traits", "userId", "anonymousId",
	"event", "name", "messageId", "timestamp", EventTimePath,
}

// contactRoots: contact mappings read the person's traits.
var contactRoots = []string{"traits"}

// Validate checks bp and returns the first problem found, as a
// *signal.Error with code signal.EINVALID whose Field names the bad spot
// (see the package documentation). Events are checked in key order, so the
// error is the same on every call. Targets must also pass rule, the
// integration's vendor's naming rule (nil: only the generic checks).
func Validate(bp signal.Blueprint, rule TargetRule) error {
	if bp.Version != Version {
		return signal.FieldErrorf(signal.EINVALID, "version", "must be %d", Version)
	}
	switch bp.Defaults.Action {
	case "", ActionDrop, ActionForward:
	default:
		return signal.FieldErrorf(signal.EINVALID, "defaults.action", "must be %q or %q", ActionDrop, ActionForward)
	}
	keys := make([]string, 0, len(bp.Events))
	for k := range bp.Events {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return signal.FieldErrorf(signal.EINVALID, "events", "an event key is empty; use \"page\" or a track event name")
		}
		if err := validateEvent("events."+k, bp.Events[k], rule); err != nil {
			return err
		}
	}
	return validateMappings("contact", bp.Contact, rule, contactRoots, 0)
}

func validateEvent(path string, ev signal.BlueprintEvent, rule TargetRule) error {
	if ev.Enabled && strings.TrimSpace(ev.VendorEventName) == "" {
		return signal.FieldErrorf(signal.EINVALID, path+".vendor_event_name", "is required when the event is enabled")
	}
	if strings.IndexFunc(ev.VendorEventName, unicode.IsControl) >= 0 || len(ev.VendorEventName) > 255 {
		return signal.FieldErrorf(signal.EINVALID, path+".vendor_event_name", "must be at most 255 characters with no control characters")
	}
	if _, ok := signal.PriorityValue(ev.Priority); !ok {
		return signal.FieldErrorf(signal.EINVALID, path+".priority", "must be high, normal or low")
	}
	if ev.MaxAge != "" {
		d, err := time.ParseDuration(ev.MaxAge)
		if err != nil {
			return signal.FieldErrorf(signal.EINVALID, path+".max_age", "must be a duration such as \"6h\" or \"30m\"")
		}
		if d <= 0 {
			return signal.FieldErrorf(signal.EINVALID, path+".max_age", "must be positive")
		}
	}
	if ev.EventVersion != nil {
		if v := *ev.EventVersion; len(v) > maxEventVersionLen || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return signal.FieldErrorf(signal.EINVALID, path+".event_version", "must be at most %d characters with no control characters", maxEventVersionLen)
		}
	}
	return validateMappings(path+".mappings", ev.Mappings, rule, sourceRoots, 0)
}

// maxEventVersionLen bounds an event version ("v2", "").
const maxEventVersionLen = 32

// maxItemsDepth bounds items inside items.
const maxItemsDepth = 3

// validateMappings checks a list of mappings at path ("events.<key>.mappings",
// "contact", "….items"). roots are the first segments a source may have
// (nil inside items: a path in the array element).
func validateMappings(path string, ms []signal.Mapping, rule TargetRule, roots []string, depth int) error {
	leaves := make(map[string]int, len(ms))
	containers := make(map[string]int, len(ms))
	for i, m := range ms {
		mp := fmt.Sprintf("%s[%d]", path, i)
		if err := validateMapping(mp, m, rule, roots, depth); err != nil {
			return err
		}
		steps, _ := parseTarget(m.Target)
		if err := claimTarget(mp+".target", i, steps, leaves, containers); err != nil {
			return err
		}
	}
	return nil
}

func validateMapping(mp string, m signal.Mapping, rule TargetRule, roots []string, depth int) error {
	switch {
	case m.Value != nil:
		if m.Source != "" || len(m.Else) > 0 || m.Default != nil || len(m.Items) > 0 {
			return signal.FieldErrorf(signal.EINVALID, mp+".value", "a constant value takes no source, else, default or items")
		}
		if err := validateConstant(mp+".value", m.Value); err != nil {
			return err
		}
	default:
		if err := validatePath(mp+".source", m.Source, roots); err != nil {
			return err
		}
		for j, p := range m.Else {
			if err := validatePath(fmt.Sprintf("%s.else[%d]", mp, j), p, roots); err != nil {
				return err
			}
		}
		if m.Default != nil {
			if err := validateConstant(mp+".default", m.Default); err != nil {
				return err
			}
		}
	}
	for j, name := range m.Transform {
		if !slices.Contains(transforms, name) {
			return signal.FieldErrorf(signal.EINVALID, fmt.Sprintf("%s.transform[%d]", mp, j), "must be one of %s", strings.Join(transforms, ", "))
		}
	}
	for k, raw := range m.Values {
		if err := validateConstant(mp+".values."+k, raw); err != nil {
			return err
		}
	}
	if err := validateTarget(mp+".target", m.Target, rule); err != nil {
		return err
	}
	if len(m.Items) > 0 {
		if len(m.Transform) > 0 || m.Values != nil || m.Default != nil {
			return signal.FieldErrorf(signal.EINVALID, mp+".items", "an array mapping takes no transform, values or default (put them on its items)")
		}
		if depth >= maxItemsDepth {
			return signal.FieldErrorf(signal.EINVALID, mp+".items", "items may be nested at most %d deep", maxItemsDepth)
		}
		return validateMappings(mp+".items", m.Items, rule, nil, depth+1)
	}
	return nil
}

// validateConstant checks a value, default or values entry: JSON, not null.
func validateConstant(field string, raw json.RawMessage) error {
	if !json.Valid(raw) {
		return signal.FieldErrorf(signal.EINVALID, field, "must be a JSON value")
	}
	if _, ok := constant(raw); !ok {
		return signal.FieldErrorf(signal.EINVALID, field, "must not be null")
	}
	return nil
}

// claimTarget records a target's path and refuses one already used, or
// one that would put a value where another target needs an object or an
// array ("product" beside "product.id").
func claimTarget(field string, i int, steps []step, leaves, containers map[string]int) error {
	var b strings.Builder
	for n, s := range steps {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
		} else {
			if n > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		}
		k := b.String()
		if n == len(steps)-1 {
			break
		}
		if first, clash := leaves[k]; clash {
			return signal.FieldErrorf(signal.EINVALID, field, "goes inside %q, which mappings[%d] sets to a value", k, first)
		}
		if _, seen := containers[k]; !seen {
			containers[k] = i
		}
	}
	k := b.String()
	if first, dup := leaves[k]; dup {
		return signal.FieldErrorf(signal.EINVALID, field, "%q is already the target of mappings[%d]", k, first)
	}
	if first, clash := containers[k]; clash {
		return signal.FieldErrorf(signal.EINVALID, field, "%q holds the target of mappings[%d]; it cannot also be a value", k, first)
	}
	leaves[k] = i
	return nil
}

// validatePath checks a dotted source path: non-empty segments, the first
// one of roots (any, when roots is nil).
func validatePath(field, p string, roots []string) error {
	if p == "" {
		return signal.FieldErrorf(signal.EINVALID, field, "is required")
	}
	if strings.TrimSpace(p) != p {
		return signal.FieldErrorf(signal.EINVALID, field, "must not start or end with spaces")
	}
	segs := strings.Split(p, ".")
	if slices.Contains(segs, "") {
		return signal.FieldErrorf(signal.EINVALID, field, "must be a dotted path without empty parts, e.g. \"properties.order_id\"")
	}
	if roots != nil && !slices.Contains(roots, segs[0]) {
		return signal.FieldErrorf(signal.EINVALID, field, "must start with one of %s", strings.Join(roots, ", "))
	}
	return nil
}

// validateTarget checks a target: present, at most MaxTargetLen bytes, no
// control characters, a path of names and indexes ("product.id",
// "discounts[0].code"), each name passing the vendor's rule.
func validateTarget(field, t string, rule TargetRule) error {
	if t == "" {
		return signal.FieldErrorf(signal.EINVALID, field, "is required")
	}
	if len(t) > MaxTargetLen || strings.IndexFunc(t, unicode.IsControl) >= 0 {
		return signal.FieldErrorf(signal.EINVALID, field, "must be at most %d characters with no control characters", MaxTargetLen)
	}
	steps, ok := parseTarget(t)
	if !ok {
		return signal.FieldErrorf(signal.EINVALID, field, "must be a name, or a path of names and indexes such as \"product.id\" or \"discounts[0].code\" (indexes 0 to %d)", maxTargetIndex)
	}
	if rule == nil {
		return nil
	}
	for _, s := range steps {
		if s.index >= 0 {
			continue
		}
		if err := rule(s.key); err != nil {
			msg := err.Error()
			var se *signal.Error
			if errors.As(err, &se) {
				msg = se.Message
			}
			return signal.FieldErrorf(signal.EINVALID, field, "%s", msg)
		}
	}
	return nil
}
