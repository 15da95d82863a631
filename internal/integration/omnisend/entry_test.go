package omnisend

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/integration"
)

func TestEntry(t *testing.T) {
	t.Parallel()
	e := New(Options{}).Entry()
	checks := []struct {
		name      string
		got, want any
	}{
		{"key", e.Key, "omnisend"},
		{"name", e.Name, "Omnisend"},
		{"category", e.Category, "marketing_automation"},
		{"category label", e.CategoryLabel, "Marketing Automation"},
		{"status", e.Status, "alpha"},
		{"delivery modes", strings.Join(e.DeliveryModes, ","), "server_side"},
		{"rate limit", e.RateLimitPerMinute, 400},
		{"description", e.Description, "Ecommerce-focused email and SMS marketing platform with automation workflows, segmentation, and product-aware campaigns."},
		{"field count", len(e.ConfigFields), 5},
		{"variant count", len(e.Variants), 2},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		})
	}
	t.Run("config fields", func(t *testing.T) {
		t.Parallel()
		want := []integration.ConfigField{
			{Key: "api_key", Label: "API key", Type: "secret", Required: true},
			{Key: "default_phone_region", Type: "string"},
			{Key: "dry_run", Type: "boolean"},
			{Key: "api_version", Type: "string"},
			{Key: "sync_consent", Type: "boolean"},
		}
		for i, w := range want {
			f := e.ConfigFields[i]
			if f.Key != w.Key || f.Type != w.Type || f.Required != w.Required || f.HelpText == "" || f.Label == "" {
				t.Errorf("config_fields[%d] = %+v, want %+v with label and help text", i, f, w)
			}
		}
		if e.ConfigFields[0].Label != "API key" || !strings.Contains(e.ConfigFields[0].HelpText, "X-API-KEY") {
			t.Errorf("api_key field = %+v", e.ConfigFields[0])
		}
	})
	t.Run("default variant", func(t *testing.T) {
		t.Parallel()
		v, ok := e.Variant("default")
		if !ok || v.Name != "Ecommerce (default)" || v.Description == "" {
			t.Fatalf("variant default = %+v, %v", v, ok)
		}
		if err := blueprint.Validate(v.Blueprint, New(Options{}).ValidateTarget); err != nil {
			t.Fatalf("default blueprint invalid: %v", err)
		}
		got, _ := json.Marshal(v.Blueprint)
		want, _ := json.Marshal(blueprint.Default())
		if string(got) != string(want) {
			t.Error("variant blueprint is not blueprint.Default()")
		}
	})
	t.Run("json shape", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		keys := topKeys(t, b)
		for _, k := range []string{"key", "name", "description", "category", "category_label", "status", "config_fields", "variants", "delivery_modes"} {
			if !slices.Contains(keys, k) {
				t.Errorf("entry JSON lacks %q: %s", k, b)
			}
		}
		if !strings.Contains(string(b), `"default_blueprint":{"version":2`) {
			t.Error("variant JSON lacks default_blueprint")
		}
	})
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := integration.NewRegistry()
	r.Register(New(Options{}))
	if _, ok := r.Vendor("omnisend"); !ok {
		t.Fatal("omnisend not registered under its key")
	}
}

// TestRecommendedVariant: the variant validates against Omnisend's naming
// rule and sends each recommended event with its documented eventVersion.
func TestRecommendedVariant(t *testing.T) {
	t.Parallel()
	v := New(Options{})
	rv, ok := v.Entry().Variant(VariantRecommended)
	if !ok || rv.Name == "" || rv.Description == "" {
		t.Fatalf("variant recommended = %+v, %v", rv, ok)
	}
	if err := blueprint.Validate(rv.Blueprint, v.ValidateTarget); err != nil {
		t.Fatalf("recommended blueprint: %v", err)
	}
	want := map[string][2]string{
		"Order Completed": {"placed order", "v2"}, "Order Refunded": {"order refunded", "v2"}, "Order Cancelled": {"order canceled", "v2"},
		"Order Paid": {"paid for order", "v2"}, "Order Fulfilled": {"order fulfilled", "v2"}, "Product Ordered": {"ordered product", "v2"},
		"Checkout Started": {"started checkout", ""}, "Product Added": {"added product to cart", ""}, "Product Viewed": {"viewed product", "v4"},
	}
	for key, w := range want {
		ev := rv.Blueprint.Events[key]
		if !ev.Enabled || ev.VendorEventName != w[0] || ev.EventVersion == nil || *ev.EventVersion != w[1] {
			t.Errorf("%s = %+v, want %q with eventVersion %q", key, ev, w[0], w[1])
		}
	}
	if len(rv.Blueprint.Contact) == 0 {
		t.Error("no contact mappings")
	}
}
