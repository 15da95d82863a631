package main

import (
	"strings"
	"testing"
)

// TestUIBlueprintVersionsRollbackReset: every save is listed under
// Versions with its author; "Roll back" brings an old version back as the
// newest; "Reset to default" asks first, then restores the variant's
// default.
func TestUIBlueprintVersionsRollbackReset(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	id := u.installAPI("versions-key-1357")
	u.signIn(adminEmail, adminPassword)
	order := `//fieldset[legend[normalize-space()="Order Completed"]]`
	versions := `//section[h2[normalize-space()="Versions"]]`
	u.step("the blueprint editor lists the installed version",
		click("Integrations"), click("Omnisend"), click("Edit blueprint"), waitVisible(h1("Blueprint: Omnisend")),
		waitVisible(versions+`//tr[td[contains(., "Installed with the default blueprint")]][td[normalize-space()="`+adminEmail+`"]]`),
	)
	u.step("rename Order Completed's vendor event and save",
		fillIn(order, "Vendor event name", "order placed"), click("Save blueprint"), waitText("Blueprint saved."),
		waitVisible(versions+`//tr[td[normalize-space()="Replaced the blueprint"]]`),
	)
	blueprint := func() string {
		_, body := u.n.adminCall(t, "GET", "/v1/admin/integrations/"+id+"/blueprint", u.token(), "")
		return body
	}
	if b := blueprint(); !strings.Contains(b, `"order placed"`) {
		t.Fatalf("blueprint after save: %s", b)
	}
	u.step("roll back to the installed version", click("Roll back to version 1"), waitText("Rolled back to version 1 (saved as version 3)."))
	if b := blueprint(); strings.Contains(b, `"order placed"`) || !strings.Contains(b, `"placed order"`) {
		t.Fatalf("blueprint after rollback: %s", b)
	}
	u.step("change it again", fillIn(order, "Vendor event name", "order placed"), click("Save blueprint"), waitText("Blueprint saved."))
	u.step("reset asks first", click("Reset to default"), waitVisible(h1("Reset the blueprint of Omnisend?")))
	u.step("reset, confirmed", click("Reset to default"), waitText("Blueprint reset to the default (saved as version 5)."))
	if b := blueprint(); strings.Contains(b, `"order placed"`) || !strings.Contains(b, `"placed order"`) {
		t.Fatalf("blueprint after reset: %s", b)
	}
}
