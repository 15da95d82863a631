package main

// Browser end-to-end tests of the Management UI (issue 7, "What it must
// show"): a new user's journeys, driven in headless chromium by visible
// text, roles and labels (harness in ui_harness_test.go). Each test has its
// own signal process, fake Omnisend and browser, and saves a screenshot per
// step.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Headings and places on the pages, by their visible words.
const (
	libraryOmnisend = `//section[h2[normalize-space()="Marketing Automation"]]//article[h3[normalize-space(text()[1])="Omnisend"]]`
	installForm     = `//dialog[@open] | //main[h1[normalize-space()="Install Omnisend"]]`
)

func h1(text string) string { return `//h1[normalize-space()=` + xq(text) + `]` }

func h2(text string) string { return `//h2[normalize-space()=` + xq(text) + `]` }

// liveRow is the Live Events row of event with status.
func liveRow(event, status string) string {
	return `//tbody/tr[.//a[normalize-space()=` + xq(event) + `]][.//*[normalize-space()=` + xq(status) + `]]`
}

// installThroughLibrary is the integration page's Quick Setup, word for
// word: Integrations (sidebar) → Integration Library → Marketing Automation
// → Omnisend (alpha) → Install → API key → Install Integration.
func (u *ui) installThroughLibrary(apiKey string) {
	u.t.Helper()
	u.step("Integrations in the sidebar", click("Integrations"), waitVisible(h1("Integrations")))
	u.step("Integration Library tab", click("Integration Library"), waitVisible(h2("Marketing Automation")))
	u.step("Omnisend under Marketing Automation, alpha",
		waitVisible(libraryOmnisend),
		waitVisible(libraryOmnisend+`/h3//*[normalize-space()="alpha"]`),
	)
	u.step("Install opens the install form", clickIn(libraryOmnisend, "Install"),
		waitVisible(`//*[self::h1 or self::h2][normalize-space()="Install Omnisend"]`),
		waitVisible(within(installForm, fieldX("API key"))+`[@type="password"]`),
	)
	u.step("API key, Install Integration",
		fillIn(installForm, "API key", apiKey),
		clickIn(installForm, "Install Integration"),
		waitText("Omnisend installed."),
		waitVisible(h1("Omnisend")),
	)
}

// TestUISignIn: sign in (a wrong password is refused in words; the keyboard
// alone is enough, with a visible focus), the session survives a reload in
// an HttpOnly SameSite=Strict cookie, sign out ends it.
func TestUISignIn(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.step("sign-in page", u.open("/"), waitVisible(h1("Sign in to Signal")))
	// The refused sign-in answers 401, which the browser logs.
	u.allowConsole(`/login:.*status of 401|status of 401.*/login`)
	u.step("a wrong password is refused",
		fill("Email", adminEmail), fill("Password", "not-the-password"), click("Sign in"),
		waitText("Email or password is wrong."),
	)
	u.step("signed in with the keyboard alone",
		u.open("/login"), waitVisible(h1("Sign in to Signal")),
		tabTo("Email"), typeKeys(adminEmail), tabTo("Password"), typeKeys(adminPassword+kb.Enter),
		waitVisible(h1("Integrations")), waitText(adminEmail), waitVisible(`//nav[@aria-label="Main"]//a[normalize-space()="Live Events"]`),
	)
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u.base + "/"}})
	cancel()
	if err != nil || len(cookies.Cookies) == 0 {
		t.Fatalf("no session cookie after sign-in: %v", err)
	}
	for _, c := range cookies.Cookies {
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
			t.Errorf("cookie %s: HttpOnly %v, SameSite %q; want HttpOnly, Strict", c.Name, c.HTTPOnly, c.SameSite)
		}
	}
	u.step("a reload keeps the session", chromedp.Reload(), waitVisible(h1("Integrations")), waitText(adminEmail))
	u.step("sign out", click("Sign out"), waitText("You are signed out."), waitVisible(h1("Sign in to Signal")))
	u.step("signed out, a page asks to sign in again", u.open("/pipelines"), waitVisible(h1("Sign in to Signal")))
}

// TestUIQuickSetupInstallsOmnisend: the Quick Setup path as the
// integration page words it; a missing key shows beside its field; the
// integration is then listed under Installed.
func TestUIQuickSetupInstallsOmnisend(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.signIn(adminEmail, adminPassword)
	u.step("no integration yet", click("Integrations"), waitText("No integration yet: open the Integration Library"))
	u.step("Integration Library tab", click("Integration Library"), waitVisible(h2("Marketing Automation")))
	u.step("Omnisend under Marketing Automation, alpha",
		waitVisible(libraryOmnisend),
		waitVisible(libraryOmnisend+`/h3//*[normalize-space()="alpha"]`),
		waitVisible(libraryOmnisend+`//*[normalize-space()="Setup steps"]`),
	)
	u.step("Install opens the install form", clickIn(libraryOmnisend, "Install"),
		waitVisible(`//*[self::h1 or self::h2][normalize-space()="Install Omnisend"]`),
		waitVisible(within(installForm, fieldX("Name"))),
		waitVisible(within(installForm, fieldX("Variant"))),
		waitVisible(within(installForm, fieldX("API key"))+`[@type="password"]`),
	)
	apiKey := within(installForm, fieldX("API key"))
	// The refused form answers 400, which the browser logs.
	u.allowConsole(`status of 400 .*/library/omnisend/install`)
	u.step("without an API key the error shows beside the field",
		clickIn(installForm, "Install Integration"),
		waitVisible(apiKey+`[@aria-invalid="true"]`),
		waitVisible(`//*[@id=(`+apiKey+`)/@aria-describedby][normalize-space()!=""]`),
	)
	u.step("API key, Install Integration",
		fillIn(installForm, "API key", "quick-setup-key-1234"),
		clickIn(installForm, "Install Integration"),
		waitText("Omnisend installed."),
		waitVisible(h1("Omnisend")),
		waitText("active"),
	)
	u.step("listed under Installed",
		click("Integrations"), click("Installed"),
		waitVisible(`//main//a[normalize-space()="Omnisend"]`),
		waitVisible(`//main//*[normalize-space()="active"]`),
	)
	code, body := u.n.adminCall(t, "GET", "/v1/admin/integrations", u.token(), "")
	if code != 200 || !strings.Contains(body, `"catalog_key":"omnisend"`) || !strings.Contains(body, `1234`) || strings.Contains(body, "quick-setup-key") {
		t.Fatalf("integrations after the UI install: %d %s", code, body)
	}
}

// TestUIPipelineEventDeliveredInLiveEvents: create a pipeline in the UI,
// read its key from the page, send an identify and an Order Completed
// through the gateway; Live Events shows it pending, then, live, delivered
// (Omnisend is held until the page shows pending), its time in the
// browser's zone; open its stages.
func TestUIPipelineEventDeliveredInLiveEvents(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI(heldOmnisendKey)
	// Times show in the browser's zone, not the server's UTC.
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	u.signIn(adminEmail, adminPassword)
	u.step("no pipeline yet", click("Pipelines"), waitText("No pipeline yet"))
	u.step("create a pipeline",
		fill("Pipeline name", "Web shop"), click("Create pipeline"),
		waitVisible(h1("Web shop")),
		waitText("This signing secret is shown once."),
		waitVisible(h2("Snippets")),
	)
	key := u.readText(h2("Pipeline key") + `/following::code[1]`)
	if !strings.HasPrefix(key, "dk_live_") {
		t.Fatalf("the page shows pipeline key %q", key)
	}
	u.step("the signing secret is shown once",
		click("Pipelines"), click("Web shop"), waitVisible(h2("Pipeline key")),
		waitNoText("This signing secret is shown once."))
	u.step("Live Events, before the order", click("Live Events"), waitVisible(h1("Live Events")))
	u.gatewaySend(key, "/v1/i", `{"userId":"buyer-1","traits":{"email":"buyer@example.com","first_name":"Ada"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"buyer-1","event":"Order Completed","messageId":"ui-order-1",
		"context":{"consent":{"canonical":{"marketing":true}}},
		"properties":{"order_id":"ORDER-77","revenue":42.5,"currency":"EUR"}}`)
	u.step("the order shows up live, pending", waitVisible(liveRow("Order Completed", "pending")))
	u.release()
	row := liveRow("Order Completed", "delivered")
	u.step("it turns delivered without a reload", waitVisible(row))
	u.step("its time in the browser's zone, live and after a reload", waitVisible(row+`//time[contains(., "GMT+9")]`),
		chromedp.Reload(), waitVisible(row+`//time[contains(., "GMT+9")]`))
	u.step("its stages",
		clickIn(row, "Order Completed"),
		waitVisible(h1("Event: Order Completed")),
		waitVisible(h2("Input as received")+`/following::*[contains(., "ORDER-77")]`),
		waitVisible(h2("Processed")),
		waitVisible(h2("Payload sent")+`/following::*[contains(., "placed order")]`),
		waitVisible(h2("Attempts")+`/following::*[contains(., "Vendor status")]`),
		waitVisible(h2("Attempts")+`/following::*[contains(., "202")]`),
	)
	if bodies, _ := u.omni.received(); len(bodies) != 1 || !strings.Contains(string(bodies[0]), `"ORDER-77"`) {
		t.Fatalf("Omnisend received %d events: %s", len(bodies), bodies)
	}
}

// TestUIBlueprintNewEventDelivered: Cart Viewed is filtered until it is
// enabled in the blueprint editor as "viewed cart" with one mapping added
// (cart_id → cartID); then it is delivered with that property only.
func TestUIBlueprintNewEventDelivered(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI("blueprint-key-9012")
	key := u.pipelineAPI("Web shop")
	u.gatewaySend(key, "/v1/i", `{"userId":"shopper-1","traits":{"email":"shopper@example.com"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"shopper-1","event":"Cart Viewed","messageId":"cv-before","properties":{"cart_id":"C-1"}}`)
	u.signIn(adminEmail, adminPassword)
	u.step("Live Events: Cart Viewed is not enabled yet",
		click("Live Events"),
		waitVisible(liveRow("Cart Viewed", "filtered")+`[contains(., "This event is not enabled in the integration's blueprint.")]`),
	)
	u.step("the integration's page", click("Integrations"), click("Omnisend"), waitVisible(h1("Omnisend")))
	u.step("the blueprint editor", click("Edit blueprint"),
		waitVisible(h1("Blueprint: Omnisend")),
		waitVisible(`//fieldset[legend[normalize-space()="Order Completed"]]`),
	)
	cart := `//fieldset[legend[normalize-space()="Cart Viewed"]]`
	u.step("add Cart Viewed", fill("New event name", "Cart Viewed"), click("Add event"), waitVisible(cart))
	// The last Source and Target inputs of the event: the row Add mapping
	// just added.
	lastOf := func(label string) string {
		return `(` + cart + `//*[self::input][@id=//label[starts-with(normalize-space(), "` + label + ` ")]/@for])[last()]`
	}
	u.step("enable it as viewed cart, map cart_id, save",
		check(cart, "Enabled"),
		fillIn(cart, "Vendor event name", "viewed cart"),
		clickIn(cart, "Add mapping"),
		fillX(lastOf("Source"), "properties.cart_id"),
		fillX(lastOf("Target"), "cartID"),
		click("Save blueprint"),
		waitText("Blueprint saved."),
	)
	u.gatewaySend(key, "/v1/t", `{"userId":"shopper-1","event":"Cart Viewed","messageId":"cv-after","properties":{"cart_id":"C-1","note":"not mapped"}}`)
	u.step("Live Events: Cart Viewed delivered", click("Live Events"), waitVisible(liveRow("Cart Viewed", "delivered")))
	bodies := u.omni.waitFor(t, 1)
	if len(bodies) != 1 || !strings.Contains(string(bodies[0]), `"eventName":"viewed cart"`) ||
		!strings.Contains(string(bodies[0]), `"cartID":"C-1"`) || strings.Contains(string(bodies[0]), "not mapped") {
		t.Fatalf("Omnisend received %s, want one viewed cart with cartID only", bodies)
	}
}

// TestUIBadKeyPausesThenReplacedKeyFlows: Omnisend refuses the key (401):
// the integration page says paused and why; the key replaced in the UI,
// the waiting event is delivered.
func TestUIBadKeyPausesThenReplacedKeyFlows(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	key := u.pipelineAPI("Web shop")
	u.signIn(adminEmail, adminPassword)
	u.installThroughLibrary(badOmnisendKey)
	u.gatewaySend(key, "/v1/i", `{"userId":"buyer-2","traits":{"email":"buyer2@example.com"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"buyer-2","event":"Order Completed","messageId":"bad-key-order","properties":{"order_id":"ORDER-88","revenue":10}}`)
	u.step("paused, with the reason",
		reloadUntil(`//main//*[normalize-space()="paused"]`),
		waitText("The vendor refused the API key"),
		waitVisible(`//nav[@aria-label="Main"]//a[contains(., "(needs attention)")]`),
	)
	u.step("Live Events: the order waits, paused", click("Live Events"), waitVisible(liveRow("Order Completed", "paused")))
	u.step("replace the key",
		click("Integrations"), click("Omnisend"), waitVisible(h1("Omnisend")),
		fill("New API key", "good-key-3456"), click("Replace key"),
		waitText("API key replaced."),
	)
	u.step("Live Events: the order is delivered", click("Live Events"), waitVisible(liveRow("Order Completed", "delivered")))
	u.step("the integration is active again", click("Integrations"), click("Omnisend"),
		reloadUntil(`//main//*[normalize-space()="active"]`), waitNoText("The vendor refused the API key"))
	if sent, _ := u.omni.sent("good-key-3456"); len(sent) != 1 {
		t.Fatalf("Omnisend received %d events with the new key, want 1", len(sent))
	}
}
