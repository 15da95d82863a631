package blueprint

import (
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
	"event", "name", "messageId", "timestamp",
}

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
	return nil
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
	seen := make(map[string]int, len(ev.Mappings))
	for i, m := range ev.Mappings {
		mp := fmt.Sprintf("%s.mappings[%d]", path, i)
		if err := validatePath(mp+".source", m.Source); err != nil {
			return err
		}
		for j, p := range m.Else {
			if err := validatePath(fmt.Sprintf("%s.else[%d]", mp, j), p); err != nil {
				return err
			}
		}
		if err := validateTarget(mp+".target", m.Target, rule); err != nil {
			return err
		}
		if first, dup := seen[m.Target]; dup {
			return signal.FieldErrorf(signal.EINVALID, mp+".target", "%q is already the target of mappings[%d]", m.Target, first)
		}
		seen[m.Target] = i
	}
	return nil
}

// validatePath checks a dotted source path: non-empty segments, the first
// one a message field.
func validatePath(field, p string) error {
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
	if !slices.Contains(sourceRoots, segs[0]) {
		return signal.FieldErrorf(signal.EINVALID, field, "must start with one of %s", strings.Join(sourceRoots, ", "))
	}
	return nil
}

// validateTarget checks a vendor property name: present, at most
// MaxTargetLen bytes, no control characters, then the vendor's rule.
func validateTarget(field, t string, rule TargetRule) error {
	if t == "" {
		return signal.FieldErrorf(signal.EINVALID, field, "is required")
	}
	if len(t) > MaxTargetLen || strings.IndexFunc(t, unicode.IsControl) >= 0 {
		return signal.FieldErrorf(signal.EINVALID, field, "must be at most %d characters with no control characters", MaxTargetLen)
	}
	if rule == nil {
		return nil
	}
	if err := rule(t); err != nil {
		msg := err.Error()
		var se *signal.Error
		if errors.As(err, &se) {
			msg = se.Message
		}
		return signal.FieldErrorf(signal.EINVALID, field, "%s", msg)
	}
	return nil
}
