package admin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/signalhq/signal/internal/blueprint"
	"github.com/signalhq/signal/internal/signal"
)

type blueprintAnswerView struct {
	signal.Blueprint
	Warnings []warning `json:"warnings"`
}

// versions lists an integration's blueprint versions, newest first.
func (b *testBundle) versions(t *testing.T, id, query string) page[versionView] {
	t.Helper()
	var p page[versionView]
	if code := b.call(t, "GET", "/v1/admin/integrations/"+id+"/blueprint/versions"+query, "", &p); code != 200 {
		t.Fatalf("GET versions: %d", code)
	}
	return p
}

func TestBlueprintVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, editor := b.addUser(t, "ed@example.com", "editor")
	v := b.install(t, pageInstallBody)
	base := "/v1/admin/integrations/" + v.ID + "/blueprint"

	if code := b.callAs(t, editor.AccessToken, "PUT", base, contractBlueprint, nil); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	p := b.versions(t, v.ID, "")
	if len(p.Data) != 2 || p.Data[0].Version != 2 || p.Data[1].Version != 1 {
		t.Fatalf("versions after install and PUT = %+v, want 2 then 1", p.Data)
	}
	if p.Data[0].Author.Email != "ed@example.com" || p.Data[0].Author.ID == "" || p.Data[1].Author.Email != "admin@example.com" {
		t.Fatalf("authors = %+v, %+v", p.Data[0].Author, p.Data[1].Author)
	}
	if p.Data[0].CreatedAt != "2026-11-27T10:00:00.000Z" {
		t.Fatalf("created_at = %q", p.Data[0].CreatedAt)
	}
	if page1 := b.versions(t, v.ID, "?limit=1"); !page1.HasMore || len(page1.Data) != 1 {
		t.Fatalf("limit=1 page = %+v, want one item and more", page1)
	} else if page2 := b.versions(t, v.ID, "?limit=1&cursor="+page1.NextCursor); page2.HasMore || len(page2.Data) != 1 || page2.Data[0].Version != 1 {
		t.Fatalf("second page = %+v, want version 1 and no more", page2)
	}

	var rolled versionView
	if code := b.call(t, "POST", base+"/versions/1/rollback", "", &rolled); code != 200 || rolled.Version != 3 {
		t.Fatalf("rollback: %d %+v, want version 3", code, rolled)
	}
	var got signal.Blueprint
	if b.call(t, "GET", base, "", &got); !reflect.DeepEqual(got, blueprint.Default()) {
		t.Fatalf("blueprint after rolling back to version 1 = %+v, want the default", got)
	}

	if code := b.call(t, "PUT", base, contractBlueprint, nil); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	var reset versionView
	if code := b.call(t, "POST", base+"/reset", "", &reset); code != 200 || reset.Version != 5 || !reflect.DeepEqual(reset.Blueprint, blueprint.Default()) {
		t.Fatalf("reset: %d version %d", code, reset.Version)
	}

	var audit page[signal.AuditEntry]
	b.call(t, "GET", "/v1/admin/audit-log?limit=10", "", &audit)
	var summaries []string
	for _, e := range audit.Data {
		if e.Action == auditBlueprintUpdate && e.Target.ID == v.ID {
			summaries = append(summaries, e.Summary)
		}
	}
	want := []string{"Reset the blueprint to the default", "Replaced the blueprint", "Rolled the blueprint back to version 1", "Replaced the blueprint"}
	if len(summaries) != len(want) {
		t.Fatalf("blueprint.update entries = %q, want %d", summaries, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(summaries[i], want[i]) {
			t.Fatalf("entry %d = %q, want it to start %q", i, summaries[i], want[i])
		}
	}
}

func TestBlueprintVersionErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.install(t, pageInstallBody)
	base := "/v1/admin/integrations/" + v.ID + "/blueprint"
	tests := []struct {
		name, method, path string
		status             int
		field              string
	}{
		{"RollbackToUnknownVersion", "POST", base + "/versions/9/rollback", 404, ""},
		{"RollbackToNotANumber", "POST", base + "/versions/one/rollback", 400, "version"},
		{"RollbackOfUnknownIntegration", "POST", "/v1/admin/integrations/int_missing/blueprint/versions/1/rollback", 404, ""},
		{"ResetOfUnknownIntegration", "POST", "/v1/admin/integrations/int_missing/blueprint/reset", 404, ""},
		{"VersionsOfUnknownIntegration", "GET", "/v1/admin/integrations/int_missing/blueprint/versions", 404, ""},
		{"BadCursor", "GET", base + "/versions?cursor=x", 400, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e apiError
			if code := b.call(t, tt.method, tt.path, "", &e); code != tt.status || e.Error.Field != tt.field {
				t.Fatalf("%s %s = %d field %q, want %d field %q", tt.method, tt.path, code, e.Error.Field, tt.status, tt.field)
			}
		})
	}
}

func TestPatchBlueprintEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, body string
		status            int
		field             string
		check             func(t *testing.T, bp signal.Blueprint)
	}{
		{"DisableOneEventKeepsTheRest", "Product Viewed", `{"enabled":false}`, 200, "", func(t *testing.T, bp signal.Blueprint) {
			pv, oc := bp.Events["Product Viewed"], bp.Events["Order Completed"]
			if pv.Enabled || pv.VendorEventName != "product viewed" || len(pv.Mappings) == 0 || !oc.Enabled {
				t.Fatalf("after PATCH: Product Viewed %+v, Order Completed enabled %v", pv, oc.Enabled)
			}
		}},
		{"RenameVendorEvent", "Signed Up", `{"vendor_event_name":"registered"}`, 200, "", func(t *testing.T, bp signal.Blueprint) {
			if e := bp.Events["Signed Up"]; e.VendorEventName != "registered" || !e.Enabled {
				t.Fatalf("Signed Up = %+v", e)
			}
		}},
		{"NullRemovesAField", "Order Completed", `{"max_age":null}`, 200, "", func(t *testing.T, bp signal.Blueprint) {
			if e := bp.Events["Order Completed"]; e.MaxAge != "" || !e.Enabled {
				t.Fatalf("Order Completed = %+v", e)
			}
		}},
		{"CreateWithVendorEventName", "Coupon Applied", `{"vendor_event_name":"applied coupon","enabled":true}`, 200, "", func(t *testing.T, bp signal.Blueprint) {
			if e := bp.Events["Coupon Applied"]; e.VendorEventName != "applied coupon" || !e.Enabled {
				t.Fatalf("Coupon Applied = %+v", e)
			}
		}},
		{"UnknownEvent", "Coupon Applied", `{"enabled":true}`, 404, "vendor_event_name", nil},
		{"UnknownField", "Order Completed", `{"enabeld":true}`, 400, "events.Order Completed.enabeld", nil},
		{"MistypedField", "Order Completed", `{"enabled":"yes"}`, 400, "events.Order Completed.enabled", nil},
		{"InvalidValue", "Order Completed", `{"priority":"urgent"}`, 400, "events.Order Completed.priority", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			v := b.install(t, pageInstallBody)
			path := "/v1/admin/integrations/" + v.ID + "/blueprint/events/" + strings.ReplaceAll(tt.event, " ", "%20")
			var ans struct {
				blueprintAnswerView
				apiError
			}
			code := b.call(t, "PATCH", path, tt.body, &ans)
			if code != tt.status || ans.Error.Field != tt.field {
				t.Fatalf("PATCH = %d field %q (%s), want %d field %q", code, ans.Error.Field, ans.Error.Message, tt.status, tt.field)
			}
			if tt.check == nil {
				if n := len(b.versions(t, v.ID, "").Data); n != 1 {
					t.Fatalf("a refused PATCH left %d versions, want 1", n)
				}
				return
			}
			tt.check(t, ans.Blueprint)
			var stored signal.Blueprint
			b.call(t, "GET", "/v1/admin/integrations/"+v.ID+"/blueprint", "", &stored)
			tt.check(t, stored)
			if p := b.versions(t, v.ID, ""); len(p.Data) != 2 || !reflect.DeepEqual(p.Data[0].Blueprint, stored) {
				t.Fatalf("versions after PATCH: %d, newest %+v", len(p.Data), p.Data[0].Blueprint)
			}
		})
	}
}

func TestDefaultsDisabledWarning(t *testing.T) {
	t.Parallel()
	off := `{"version":2,"defaults":{"action":"drop"},"events":{"Coupon Applied":{"vendor_event_name":"applied coupon","enabled":true}}}`
	tests := []struct {
		name, method, path, body string
		warn                     bool
	}{
		{"PutKeepingOneDefault", "PUT", "", contractBlueprint, false},
		{"PutDroppingEveryDefault", "PUT", "", off, true},
		{"PatchDisablingOneDefault", "PATCH", "/events/Order%20Completed", `{"enabled":false}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			v := b.install(t, pageInstallBody)
			var ans blueprintAnswerView
			if code := b.call(t, tt.method, "/v1/admin/integrations/"+v.ID+"/blueprint"+tt.path, tt.body, &ans); code != 200 {
				t.Fatalf("%s: %d", tt.method, code)
			}
			if !tt.warn {
				if len(ans.Warnings) != 0 {
					t.Fatalf("warnings = %+v, want none", ans.Warnings)
				}
				return
			}
			if len(ans.Warnings) != 1 || ans.Warnings[0].Code != "defaults_disabled" || !strings.Contains(ans.Warnings[0].Message, `"Order Completed"`) {
				t.Fatalf("warnings = %+v, want defaults_disabled naming the default events", ans.Warnings)
			}
			if ans.Events["Coupon Applied"].VendorEventName != "applied coupon" {
				t.Fatalf("the answer's blueprint = %+v, want the one saved", ans.Blueprint)
			}
		})
	}
}

// coerce_property_types is a setting of any integration: a boolean.
func TestCoercePropertyTypesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		status      int
		field       string
	}{
		{"On", `true`, 200, ""},
		{"Off", `false`, 200, ""},
		{"Removed", `null`, 200, ""},
		{"NotABoolean", `"yes"`, 400, "config.coerce_property_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			v := b.install(t, pageInstallBody)
			var e apiError
			code := b.call(t, "PATCH", "/v1/admin/integrations/"+v.ID, `{"config":{"coerce_property_types":`+tt.value+`}}`, &e)
			if code != tt.status || e.Error.Field != tt.field {
				t.Fatalf("PATCH = %d field %q, want %d field %q", code, e.Error.Field, tt.status, tt.field)
			}
		})
	}
}
