package main

// Browser tests of the Management UI's everyday management: users and the
// audit log, an integration's actions, the duplicate-key question, the
// blueprint editor's errors and preview, and a pipeline's rename and delete
// (harness in ui_harness_test.go).

import (
	"strings"
	"testing"
)

// TestUIUsersInviteChangeRoleAndAudit: an admin invites an editor, makes
// them a viewer, deletes them; the audit log lists who did what, and no
// password.
func TestUIUsersInviteChangeRoleAndAudit(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.signIn(adminEmail, adminPassword)
	u.step("Users", click("Users"), waitVisible(h1("Users")))
	invite := `//section[h2[normalize-space()="Invite user"]]`
	u.step("invite an editor",
		fillIn(invite, "Email", "new.editor@example.com"),
		choose("Role", "editor"),
		fill("Initial password", "initial-password-1"),
		click("Invite user"),
		waitText("User invited."),
	)
	row := `//tr[td[normalize-space()="new.editor@example.com"]]`
	u.step("listed as editor", waitVisible(row+`[.//*[normalize-space()="editor"]]`))
	u.step("make them a viewer",
		choose("Role for new.editor@example.com", "viewer"),
		clickIn(row, "Change role"),
		waitText("Role changed."),
		waitVisible(row+`[.//*[normalize-space()="viewer"]]`),
	)
	u.step("the audit log says who did what",
		click("Audit log"), waitVisible(h1("Audit log")),
		waitVisible(`//tbody/tr[contains(., "user.create")][contains(., "`+adminEmail+`")]`),
		waitVisible(`//tbody/tr[contains(., "user.update")]`),
		waitNoText("initial-password-1"),
	)
	u.step("delete them, confirmed",
		click("Users"), clickIn(row, "Delete…"),
		waitVisible(h1("Delete new.editor@example.com?")),
		click("Delete user"),
		waitText("User deleted."),
		waitNoText("new.editor@example.com"),
	)
}

// TestUIIntegrationPageActions: send a test event and see Omnisend's
// answer; disable and enable; delete with confirmation.
func TestUIIntegrationPageActions(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI("actions-key-4321")
	u.signIn(adminEmail, adminPassword)
	u.step("the integration's page", click("Integrations"), click("Omnisend"), waitVisible(h1("Omnisend")))
	u.step("send a test event, see Omnisend's answer",
		fill("Email", "test.buyer@example.com"), click("Send test event"),
		waitVisible(`//p[strong[normalize-space()="Vendor status:"]][contains(., "202")]`),
	)
	if sent, _ := u.omni.sent("actions-key-4321"); len(sent) != 1 {
		t.Fatalf("Omnisend received %d test events, want 1", len(sent))
	}
	u.step("disable", click("Disable integration"), waitText("Integration disabled."), waitVisible(`//main//*[normalize-space()="disabled"]`))
	u.step("enable", click("Enable integration"), waitText("Integration enabled."), waitVisible(`//main//*[normalize-space()="active"]`))
	u.step("delete asks first", click("Delete integration…"), waitVisible(h1("Delete Omnisend?")))
	u.step("cancel keeps it", click("Cancel"), waitVisible(h1("Omnisend")))
	u.step("delete, confirmed",
		click("Delete integration…"), click("Delete integration"),
		waitText("Integration deleted."),
		waitText("No integration yet: open the Integration Library"),
	)
}

// TestUIDuplicateKeyIsFlagged: installing Omnisend again with the key an
// installed Omnisend uses (every event would be sent twice) is flagged
// before it happens, and goes ahead only when confirmed.
func TestUIDuplicateKeyIsFlagged(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI("shared-key-7777")
	u.signIn(adminEmail, adminPassword)
	u.step("Integration Library", click("Integrations"), click("Integration Library"), waitVisible(libraryOmnisend))
	// The flagged install answers 409, which the browser logs.
	u.allowConsole(`status of 409 .*/library/omnisend/install`)
	u.step("install again with the same key",
		clickIn(libraryOmnisend, "Install"),
		fillIn(installForm, "Name", "Omnisend again"),
		fillIn(installForm, "API key", "shared-key-7777"),
		clickIn(installForm, "Install Integration"),
		waitVisible(within(installForm, fieldX("Install anyway"))),
		waitText("twice"),
	)
	if got := u.integrationCount(); got != 1 {
		t.Fatalf("%d integrations after the flagged install, want 1", got)
	}
	u.step("confirm: install anyway",
		check(installForm, "Install anyway"),
		fillIn(installForm, "API key", "shared-key-7777"),
		clickIn(installForm, "Install Integration"),
		waitText("Omnisend again installed."),
	)
	if got := u.integrationCount(); got != 2 {
		t.Fatalf("%d integrations after confirming, want 2", got)
	}
}

// integrationCount is how many integrations the API lists.
func (u *ui) integrationCount() int {
	u.t.Helper()
	var list struct{ Data []any }
	if code := u.n.call(u.t, "GET", u.base+"/v1/admin/integrations", u.token(), "", &list); code != 200 {
		u.t.Fatalf("list integrations: %d", code)
	}
	return len(list.Data)
}

// TestUIBlueprintErrorAndPreview: the preview shows the exact payload of a
// sample event; a bad value is shown on the row that has it, and nothing is
// saved.
func TestUIBlueprintErrorAndPreview(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	id := u.installAPI("preview-key-2468")
	u.signIn(adminEmail, adminPassword)
	u.step("the blueprint editor", click("Integrations"), click("Omnisend"), click("Edit blueprint"), waitVisible(h1("Blueprint: Omnisend")))
	u.step("preview a sample Order Completed",
		fill("Sample event (JSON)", `{"type":"track","event":"Order Completed","userId":"p-1","context":{"traits":{"email":"p1@example.com"}},"properties":{"order_id":"ORDER-PREVIEW","revenue":12.5,"currency":"EUR"}}`),
		click("Preview"),
		waitVisible(`//p[strong[normalize-space()="Vendor event name:"]][contains(., "placed order")]`),
		waitVisible(`//pre[contains(., "ORDER-PREVIEW")]`),
	)
	order := `//fieldset[legend[normalize-space()="Order Completed"]]`
	// The refused save answers 400, which the browser logs.
	u.allowConsole(`status of 400 .*/blueprint`)
	u.step("a bad max age shows on its row",
		fillIn(order, "Max age", "forever"),
		click("Save blueprint"),
		waitVisible(order+`//*[contains(., "must be a duration")]`),
	)
	code, body := u.n.adminCall(t, "GET", "/v1/admin/integrations/"+id+"/blueprint", u.token(), "")
	if code != 200 || strings.Contains(body, "forever") {
		t.Fatalf("the blueprint after a refused save: %d %s", code, body)
	}
}

// TestUIPipelineRenameAndDelete: rename a pipeline, then delete it with
// confirmation.
func TestUIPipelineRenameAndDelete(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.pipelineAPI("Old shop")
	u.signIn(adminEmail, adminPassword)
	u.step("the pipeline's page", click("Pipelines"), click("Old shop"), waitVisible(h1("Old shop")),
		waitVisible(h2("Snippets")), waitVisible(`//h3[normalize-space()="Datafly.js tag"]`), waitVisible(`//h3[normalize-space()="curl"]`))
	u.step("rename", fill("New name", "New shop"), click("Rename pipeline"), waitText("Pipeline renamed."), waitVisible(h1("New shop")))
	u.step("delete asks first", click("Delete pipeline…"), waitVisible(h1("Delete New shop?")))
	u.step("delete, confirmed", click("Delete pipeline"), waitText("Pipeline deleted."), waitText("No pipeline yet"))
}

// TestUIFailedEventReplayed: Omnisend refuses an order as invalid; Live
// Events says failed and why, the event's attempts show Omnisend's answer;
// once Omnisend accepts it, "Replay failed events" delivers it.
func TestUIFailedEventReplayed(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI(rejectedOmnisendKey)
	key := u.pipelineAPI("Web shop")
	u.gatewaySend(key, "/v1/i", `{"userId":"r-1","traits":{"email":"r1@example.com"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"r-1","event":"Order Completed","messageId":"rejected-order","properties":{"order_id":"ORDER-400","revenue":3}}`)
	u.n.waitLive(t, u.token(), "", "rejected-order", "failed")
	u.signIn(adminEmail, adminPassword)
	failed := liveRow("Order Completed", "failed")
	u.step("Live Events: failed, and why",
		click("Live Events"),
		waitVisible(failed+`[contains(., "The vendor refused the event as invalid")]`),
	)
	u.step("its attempt shows Omnisend's answer",
		clickIn(failed, "Order Completed"), waitVisible(h1("Event: Order Completed")),
		waitVisible(h2("Attempts")+`/following::*[contains(., "400")]`),
		waitVisible(h2("Attempts")+`/following::*[contains(., "eventTime is too far in the past")]`),
	)
	u.accept()
	u.step("the integration counts it failed",
		click("Integrations"), click("Omnisend"),
		waitVisible(`//dt[normalize-space()="Failed (last hour)"]/following-sibling::dd[1][normalize-space()="1"]`),
	)
	u.step("replay failed events", click("Replay failed events"), waitText("1 failed event"), waitText("queued again."))
	u.step("Live Events: delivered", click("Live Events"), waitVisible(liveRow("Order Completed", "delivered")))
}
