package signal

import (
	"encoding/json"
	"time"
)

// Integration statuses.
const (
	IntegrationActive = "active"
	IntegrationPaused = "paused"
)

// Integration is an installed catalog entry: a vendor account that receives
// the events of some or all pipelines.
type Integration struct {
	ID           string
	CatalogKey   string
	Name         string
	Variant      string
	DeliveryMode string
	// Config holds the vendor settings, secrets included. The store keeps it
	// encrypted; API answers mask secret fields.
	Config  map[string]any
	Enabled bool
	// Status is active or paused; StatusReason says why it is paused.
	Status       string
	StatusReason Reason
	// PipelineIDs limits the integration to those pipelines; empty means all.
	PipelineIDs []string
	Blueprint   Blueprint
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ConfigDryRun is where an integration's dry run is kept: a setting of
// the integration, whatever its vendor, stored beside the vendor's config
// so installs and scripts that set config.dry_run keep working.
const ConfigDryRun = "dry_run"

// ConfigCoercePropertyTypes, when true, makes the type guard convert a
// property whose JSON type changed back to its first type where nothing is
// lost (a setting of the integration, whatever its vendor).
const ConfigCoercePropertyTypes = "coerce_property_types"

// DryRun reports whether the integration builds payloads (shown on Live
// Events) without sending them. Vendors neither read nor declare it.
func (i *Integration) DryRun() bool { return i.ConfigBool(ConfigDryRun) }

// ConfigString returns a string config value, or "".
func (i *Integration) ConfigString(key string) string {
	s, _ := i.Config[key].(string)
	return s
}

// ConfigBool returns a boolean config value (false when absent).
func (i *Integration) ConfigBool(key string) bool {
	b, _ := i.Config[key].(bool)
	return b
}

// ReceivesPipeline reports whether events of pipelineID go to i.
func (i *Integration) ReceivesPipeline(pipelineID string) bool {
	if len(i.PipelineIDs) == 0 {
		return true
	}
	for _, id := range i.PipelineIDs {
		if id == pipelineID {
			return true
		}
	}
	return false
}

// Blueprint says which events an integration forwards and how their
// properties are mapped.
type Blueprint struct {
	Version  int                       `json:"version"`
	Defaults BlueprintDefaults         `json:"defaults"`
	Events   map[string]BlueprintEvent `json:"events"`
	// Contact maps the profile's traits (sources "traits.…") into the
	// vendor's contact fields (address, birthdate, customProperties.…),
	// for vendors that keep them.
	Contact []Mapping `json:"contact,omitempty"`
}

// BlueprintDefaults applies to events the blueprint does not name.
type BlueprintDefaults struct {
	// Action is "drop" (the default) or "forward" (send unnamed track
	// events under their own name with their properties unchanged).
	Action string `json:"action"`
}

// BlueprintEvent maps one source event (key "page", or a track event name).
type BlueprintEvent struct {
	VendorEventName string    `json:"vendor_event_name"`
	Enabled         bool      `json:"enabled"`
	Mappings        []Mapping `json:"mappings,omitempty"`
	// Priority is high, normal or low: when a backlog builds, higher goes first.
	Priority string `json:"priority,omitempty"`
	// MaxAge, a Go duration ("6h"), after which an undelivered event is
	// filtered as expired.
	MaxAge string `json:"max_age,omitempty"`
	// EventVersion is sent as the vendor's event version when set; nil
	// sends none, and "" is sent as "" (some vendors document it so).
	EventVersion *string `json:"event_version,omitempty"`
}

// Mapping copies one value from the source event into a vendor property.
// See the README's "Blueprint format" for how the fields combine.
type Mapping struct {
	// Source is a dotted path into the event ("properties.order_id",
	// "context.page.url"); inside Items, a path into the array element.
	Source string `json:"source,omitempty"`
	// Else lists fallback paths, tried in order when Source is absent.
	Else Paths `json:"else,omitempty"`
	// Value is a constant sent instead of a source (then Source is empty).
	Value json.RawMessage `json:"value,omitempty"`
	// Default is sent when Source and every Else path are absent.
	Default json.RawMessage `json:"default,omitempty"`
	// Transform lists per-value transforms applied in order
	// ("upper-case", "to-number"…); one string or an array.
	Transform Paths `json:"transform,omitempty"`
	// Values translates the (transformed) value: a string found as a key
	// is replaced by its value; one not found is left out.
	Values map[string]json.RawMessage `json:"values,omitempty"`
	// Items maps each element of the source array (objects) into an
	// element of the target array; their sources are paths in the element.
	Items []Mapping `json:"items,omitempty"`
	// Target is the vendor property name, or a path of names and indexes
	// ("product.id", "discounts[0].code").
	Target string `json:"target"`
}

// Paths is a list of dotted paths, written as one string or an array.
type Paths []string

// UnmarshalJSON accepts "a.b" or ["a.b", "c.d"].
func (p *Paths) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*p = Paths{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*p = many
	return nil
}

// Priorities of a delivery: higher is delivered first.
const (
	PriorityLow    = 1
	PriorityNormal = 2
	PriorityHigh   = 3
)

// PriorityValue turns a blueprint priority name into its rank; "" is normal.
func PriorityValue(name string) (int, bool) {
	switch name {
	case "low":
		return PriorityLow, true
	case "", "normal":
		return PriorityNormal, true
	case "high":
		return PriorityHigh, true
	}
	return 0, false
}

// BlueprintVersion is one saved blueprint of an integration: every save
// (install, PUT, PATCH of an event, rollback, reset) adds the next version.
type BlueprintVersion struct {
	IntegrationID string     `json:"integration_id"`
	Version       int        `json:"version"`
	Blueprint     Blueprint  `json:"blueprint"`
	Author        AuditActor `json:"author"`
	// Summary says what the save was ("rolled back to version 3").
	Summary   string    `json:"summary"`
	CreatedAt time.Time `json:"created_at"`
}
