package main

// Browser tests of Datafly.js (GET /d.js, contract "Datafly.js"): a shop on
// 127.0.0.1 embeds the script served by the gateway on localhost (another
// origin), in headless chromium (djs_harness_test.go). Every step fails on
// a console error or an uncaught exception, under a CSP without eval or
// inline styles.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// preload is the contract's pre-load stub with calls made before the
// script loads (as an inline script after <script async>).
const preload = `<script nonce="djs">
window.datafly = window.datafly || {q: []};
datafly.q.push(["identify", ["user-1", {"email": "ada@example.com", "phone": "+4915112345678"}]]);
datafly.q.push(["track", ["Signed Up", {"method": "email"}]]);
datafly.q.push(["ready", [function () { window.dataflyReady = true; }]]);
</script>`

// TestDJSPreloadAndPages: the calls queued before load are replayed in
// order, then exactly one page call on load; a single-page app's path
// changes (pushState, replaceState, popstate) each send one page call and
// query- or hash-only changes none; traits never reach localStorage.
func TestDJSPreloadAndPages(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	d.load("/", preload, "", "datafly")
	got := d.waitStored("the queued calls and the page call", 15*time.Second, func(m []map[string]any) bool { return len(m) >= 3 })
	if len(got) < 3 || got[0]["type"] != "identify" || got[0]["userId"] != "user-1" || dig(got[0], "traits", "email") != "ada@example.com" ||
		!isTrack("Signed Up")(got[1]) || !isPage("/")(got[2]) || got[1]["userId"] != "user-1" {
		t.Fatalf("want identify, Signed Up, page / in that order, with the userId; got:\n%s", summary(got))
	}
	if !eval[bool](d.ui, `window.dataflyReady === true`) {
		t.Error("datafly.ready's callback did not run")
	}
	d.step("navigate as a single-page app",
		chromedp.Evaluate[chromedp.Void](`history.pushState({}, "", "/products/1")`),
		chromedp.Evaluate[chromedp.Void](`history.replaceState({}, "", "/products/1?color=red")`),
		chromedp.Evaluate[chromedp.Void](`location.hash = "reviews"`),
		chromedp.Evaluate[chromedp.Void](`history.replaceState({}, "", "/cart")`),
		chromedp.Evaluate[chromedp.Void](`history.back()`),
	)
	want := []string{"/", "/products/1", "/cart", "/products/1"}
	d.waitStored("a page call per path change", 15*time.Second, func(m []map[string]any) bool {
		return count(m, func(m map[string]any) bool { return m["type"] == "page" }) >= len(want)
	})
	time.Sleep(1500 * time.Millisecond) // a duplicate would be sent within the 1 s batch window
	var paths []string
	for _, m := range d.proxy.stored() {
		if m["type"] == "page" {
			paths = append(paths, fmt.Sprint(dig(m, "properties", "path")))
		}
	}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("page calls for %v, want %v", paths, want)
	}
	d.noTraitsStored("ada@example.com", "4915112345678")
	if eval[string](d.ui, `datafly.user().traits.email`) != "ada@example.com" {
		t.Error("identify's traits are not held in memory")
	}

	// data-global: a site whose "datafly" is taken names another global.
	d.load("/other", `<script nonce="djs">window.datafly = {taken: true}; window.df = {q: [["track", ["Named Global"]]]};</script>`,
		`data-global="df"`, "df")
	d.waitStored("the call queued on data-global", 15*time.Second, func(m []map[string]any) bool { return count(m, isTrack("Named Global")) == 1 })
	if !eval[bool](d.ui, `window.datafly.taken === true && !window.datafly.track`) {
		t.Error("Datafly.js replaced the page's own window.datafly although data-global names df")
	}
}

// TestDJSIdentifyThenOrderToOmnisend: identify then Order Completed reach
// Omnisend as placed order with the identified email, and the email is not
// kept in localStorage.
func TestDJSIdentifyThenOrderToOmnisend(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	const omniKey = "djs-order-key-0000000000"
	d.installAPI(omniKey)
	d.load("/checkout", "", "", "datafly")
	d.step("identify, then order",
		chromedp.Evaluate[chromedp.Void](`datafly.identify("cust-42", {email: " Grace@Example.com ", first_name: "Grace"})`),
		chromedp.Evaluate[chromedp.Void](`datafly.track("Order Completed", {order_id: "ord-42", revenue: 99.5, currency: "EUR"})`),
	)
	order := waitOmnisend(t, d, omniKey, "ord-42")
	if dig(order, "contact", "email") != "grace@example.com" || dig(order, "properties", "value") != 99.5 {
		t.Fatalf("Omnisend got %v, want placed order ord-42 for grace@example.com with value 99.5", order)
	}
	d.noTraitsStored("Grace@Example.com", "grace@example.com")
}

// waitOmnisend waits for the placed order orderID at the fake Omnisend.
func waitOmnisend(t *testing.T, d *djs, key, orderID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		bodies, _ := d.omni.sent(key)
		for _, b := range bodies {
			if b["eventName"] == "placed order" && dig(b, "properties", "orderID") == orderID {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Omnisend did not get placed order %s; it got %v", orderID, bodies)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDJSConsent: consent from datafly.consent, a OneTrust cookie, an IAB
// TCF v2 API, a Cookiebot cookie and Didomi reaches Omnisend as
// marketing_consent; each event carries the CMP's raw codes and the
// canonical categories; datafly.consent and a change in OneTrust are
// recorded as Consent Updated and apply to the events after them.
func TestDJSConsent(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	const omniKey = "djs-consent-key-00000000"
	d.installAPI(omniKey)
	order := func(n string) string {
		return fmt.Sprintf(`datafly.identify("u-%s", {email: "%s@example.com"}); datafly.track("Order Completed", {order_id: "%s", revenue: 10})`, n, n, n)
	}
	tests := []struct {
		name, head, call string
		orderID          string
		wantConsent      string
		wantCategories   map[string]bool
		wantMarketing    bool
	}{
		{"datafly.consent", "", `datafly.consent({marketing: false}); datafly.consent({marketing: true, analytics: false})`, "by-call", "subscribed", map[string]bool{}, true},
		{"OneTrust cookie", `<script nonce="djs">document.cookie = "OptanonConsent=isGpcEnabled=0&groups=" + encodeURIComponent("C0001:1,C0002:1,C0003:0,C0004:0") + "; path=/";</script>`,
			"", "by-onetrust", "unsubscribed", map[string]bool{"C0001": true, "C0002": true, "C0003": false, "C0004": false}, false},
		{"TCF v2", `<script nonce="djs">window.__tcfapi = function (cmd, v, cb) { if (cmd === "addEventListener") cb({gdprApplies: true, eventStatus: "tcloaded", purpose: {consents: {1: true, 3: true, 4: true, 8: true}}}, true); };</script>`,
			"", "by-tcf", "subscribed", map[string]bool{"tcf_1": true, "tcf_2": false, "tcf_3": true, "tcf_4": true, "tcf_8": true}, true},
		{"Cookiebot cookie", `<script nonce="djs">document.cookie = "CookieConsent=" + encodeURIComponent("{stamp:'x',necessary:true,preferences:true,statistics:false,marketing:true,method:'explicit',ver:1}") + "; path=/";</script>`,
			"", "by-cookiebot", "subscribed", map[string]bool{"necessary": true, "statistics": false, "marketing": true}, true},
		{"Didomi", `<script nonce="djs">window.Didomi = {getUserStatus: function () { return {purposes: {global: {enabled: ["cookies", "select_basic_ads"], disabled: ["create_ads_profile", "select_personalized_ads"]}}}; }};</script>`,
			"", "by-didomi", "unsubscribed", map[string]bool{"didomi_1": true, "didomi_3": false}, false},
		{"OneTrust change", `<script nonce="djs">document.cookie = "OptanonConsent=groups=" + encodeURIComponent("C0001:1,C0004:0") + "; path=/";</script>`,
			`document.cookie = "OptanonConsent=groups=" + encodeURIComponent("C0001:1,C0004:1") + "; path=/"; dispatchEvent(new Event("OneTrustGroupsUpdated"))`,
			"by-onetrust-change", "subscribed", map[string]bool{"C0001": true, "C0004": true}, true},
	}
	for _, tt := range tests {
		// One browser for the three: each case starts from a clean site.
		d.load("/", tt.head, "", "datafly")
		d.step(tt.name, chromedp.Evaluate[chromedp.Void](tt.call+";"+order(tt.orderID)))
		got := waitOmnisend(t, d, omniKey, tt.orderID)
		if dig(got, "properties", "marketing_consent") != tt.wantConsent {
			t.Errorf("%s: marketing_consent %v, want %s", tt.name, dig(got, "properties", "marketing_consent"), tt.wantConsent)
		}
		msgs := d.waitStored("the order at the gateway", 5*time.Second, func(m []map[string]any) bool {
			return count(m, func(m map[string]any) bool { return dig(m, "properties", "order_id") == tt.orderID }) == 1
		})
		for _, m := range msgs {
			if dig(m, "properties", "order_id") != tt.orderID {
				continue
			}
			cats, _ := dig(m, "context", "consent", "categories").(map[string]any)
			for code, want := range tt.wantCategories {
				if cats[code] != want {
					t.Errorf("%s: context.consent.categories[%s] = %v, want %v (all: %v)", tt.name, code, cats[code], want, cats)
				}
			}
			if dig(m, "context", "consent", "canonical", "marketing") != tt.wantMarketing {
				t.Errorf("%s: context.consent.canonical %v, want marketing %v", tt.name, dig(m, "context", "consent", "canonical"), tt.wantMarketing)
			}
		}
		d.step("clear the site's storage and cookies", chromedp.Evaluate[chromedp.Void](
			`localStorage.clear(); document.cookie = "OptanonConsent=; max-age=0; path=/"; document.cookie = "CookieConsent=; max-age=0; path=/"`))
	}
	updates := count(d.proxy.stored(), func(m map[string]any) bool {
		return isTrack("Consent Updated")(m) && dig(m, "properties", "canonical", "marketing") == true && dig(m, "properties", "canonical", "analytics") == false
	})
	denied := count(d.proxy.stored(), func(m map[string]any) bool {
		return isTrack("Consent Updated")(m) && dig(m, "properties", "canonical", "marketing") == false
	})
	if updates != 1 || denied != 1 {
		t.Errorf("datafly.consent calls recorded as Consent Updated: %d granting marketing, %d denying it, want 1 each:\n%s", updates, denied, summary(d.proxy.stored()))
	}
	byCMP := count(d.proxy.stored(), func(m map[string]any) bool {
		return isTrack("Consent Updated")(m) && dig(m, "properties", "categories", "C0004") == true
	})
	if byCMP != 1 {
		t.Errorf("OneTrust's change recorded %d times as Consent Updated, want 1", byCMP)
	}
}

// TestDJSGatewayDownThenUp: events tracked while the gateway is down for
// 5 s are kept (in localStorage too, without traits) and retried; once it
// is up each arrives exactly once, with its messageId.
func TestDJSGatewayDownThenUp(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	d.allowConsole(`net::ERR_|Failed to load resource`) // the browser's own report of a dropped connection
	d.load("/", "", "", "datafly")
	d.waitStored("the page call", 15*time.Second, func(m []map[string]any) bool { return count(m, isPage("/")) == 1 })
	d.proxy.setMode(proxyDown)
	// Another tab of the site left an event in the queue: this page keeps it there.
	d.step("another tab's event", chromedp.Evaluate[chromedp.Void](`localStorage.setItem("datafly_queue", JSON.stringify([
		{type: "track", event: "Other Tab", messageId: "other-tab-1", anonymousId: "a-other", originalTimestamp: new Date().toISOString()}]))`))
	d.step("track while the gateway is down", chromedp.Evaluate[chromedp.Void](
		`datafly.identify("u-down", {email: "down@example.com"}); for (let i = 0; i < 14; i++) datafly.track("Offline " + i, {i: i})`))
	time.Sleep(5 * time.Second)
	if n := eval[int](d.ui, `JSON.parse(localStorage.getItem("datafly_queue") || "[]").length`); n != 16 {
		t.Errorf("localStorage keeps %d events while the gateway is down, want 15 and the other tab's", n)
	}
	d.noTraitsStored("down@example.com")
	failed := 0
	for _, b := range d.proxy.sent() {
		if b.status == 0 {
			failed++
		}
	}
	if failed < 2 {
		t.Errorf("%d sends while the gateway was down, want retries (at least 2)", failed)
	}
	d.proxy.setMode(proxyUp)
	got := d.waitStored("the 15 events after the gateway is back", 25*time.Second, func(m []map[string]any) bool {
		return count(m, func(m map[string]any) bool {
			return strings.HasPrefix(fmt.Sprint(m["event"]), "Offline ") || m["type"] == "identify"
		}) >= 15
	})
	time.Sleep(1500 * time.Millisecond)
	seen := map[string]int{}
	for _, b := range d.proxy.sent() {
		if b.forwarded {
			for _, m := range b.messages {
				seen[fmt.Sprint(m["messageId"])]++
			}
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s reached the gateway %d times", id, n)
		}
	}
	if len(seen) != 16 || len(got) != 16 {
		t.Errorf("the gateway got %d messages (%d accepted), want 16:\n%s", len(seen), len(got), summary(got))
	}
	if left := eval[string](d.ui, `JSON.parse(localStorage.getItem("datafly_queue") || "[]").map(m => m.messageId).join(" ")`); left != "other-tab-1" {
		t.Errorf("localStorage queues %q once this page's events are stored, want only the other tab's other-tab-1", left)
	}
}

// TestDJSRetryAfter: a 429's Retry-After is waited out before the retry,
// which carries the same messageId.
func TestDJSRetryAfter(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	d.allowConsole(`429|Too Many Requests|Failed to load resource`)
	d.proxy.setMode(proxyLimited)
	d.load("/", "", "", "datafly")
	d.waitStored("the page call after the 429", 15*time.Second, func(m []map[string]any) bool { return count(m, isPage("/")) == 1 })
	sent := d.proxy.sent()
	if len(sent) < 2 || sent[0].status != 429 {
		t.Fatalf("want a 429 then a retry; sent %d batches", len(sent))
	}
	wait := sent[1].at.Sub(sent[0].at)
	if wait < proxyRetrySec*time.Second || wait > (proxyRetrySec+3)*time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: %d", wait, proxyRetrySec)
	}
	if sent[0].messages[0]["messageId"] != sent[1].messages[0]["messageId"] {
		t.Errorf("the retry has messageId %v, the first send %v", sent[1].messages[0]["messageId"], sent[0].messages[0]["messageId"])
	}
}

// TestDJSPagehideFlushes: events still waiting for their batch when the
// visitor leaves are sent with sendBeacon (writeKey in the body).
func TestDJSPagehideFlushes(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	d.load("/", "", "", "datafly")
	d.waitStored("the page call", 15*time.Second, func(m []map[string]any) bool { return count(m, isPage("/")) == 1 })
	// The leave starts in the same task as the calls: as two steps, a
	// loaded machine took longer between them than the batch's 1 s wait,
	// and the batch went out by fetch before the page left.
	d.step("track, then leave at once",
		chromedp.Evaluate[chromedp.Void](`datafly.track("Leaving", {n: 1}); datafly.track("Leaving", {n: 2}); location.href = "about:blank"`))
	d.waitStored("the events sent as the page went away", 10*time.Second, func(m []map[string]any) bool { return count(m, isTrack("Leaving")) == 2 })
	for _, b := range d.proxy.sent() {
		if len(b.messages) > 0 && b.messages[0]["event"] == "Leaving" {
			if b.writeKey != d.key || b.auth != "" || !strings.HasPrefix(b.ctype, "text/plain") {
				raw, _ := json.Marshal(b.messages)
				t.Errorf("the page's last events came with writeKey %q, Authorization %q, Content-Type %q: %s; want a beacon with the pipeline key",
					b.writeKey, b.auth, b.ctype, raw)
			}
		}
	}
}

// TestDJSWithoutStorageNeverThrows: with localStorage and cookies refused
// (as a browser blocking site data does) and calls made wrongly, nothing
// is thrown into the page and the good calls are still sent.
func TestDJSWithoutStorageNeverThrows(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	blocked := `<script nonce="djs">
const refuse = { get() { throw new DOMException("The operation is insecure.", "SecurityError"); }, set() { throw new DOMException("The operation is insecure.", "SecurityError"); } };
Object.defineProperty(window, "localStorage", refuse);
Object.defineProperty(Document.prototype, "cookie", refuse);
window.__tcfapi = function () { throw new Error("a broken CMP"); };
window.Didomi = { getUserStatus() { throw new Error("not ready"); } };
</script>`
	d.load("/", blocked, "", "datafly")
	d.step("call wrongly", chromedp.Evaluate[chromedp.Void](`
		const cyclic = {}; cyclic.self = cyclic;
		datafly.track("Cyclic", cyclic);
		datafly.track("Big", {n: 10n});
		datafly.identify(null, "not traits");
		datafly.page(42);
		datafly.consent("yes");
		datafly.ready("not a function");
		datafly.q.push(["nope", [1]]);
		datafly.q.push(null);
		datafly.track("Still Works", {ok: true});`))
	got := d.waitStored("the good call", 15*time.Second, func(m []map[string]any) bool { return count(m, isTrack("Still Works")) == 1 })
	if count(got, isTrack("Cyclic"))+count(got, isTrack("Big")) != 0 {
		t.Errorf("unserializable calls were sent:\n%s", summary(got))
	}
	if count(got, func(m map[string]any) bool { return isPage("/")(m) && m["name"] == nil }) != 1 || count(got, isTrack("Consent Updated")) != 0 {
		t.Errorf("want the page call on load without storage, and no Consent Updated for a call without a category:\n%s", summary(got))
	}
}

// TestDJSRejectedNotRetried: an event the gateway lists in "rejected" (here
// one over the 32 KB per-event limit) is not sent again; the others of its
// batch are stored.
func TestDJSRejectedNotRetried(t *testing.T) {
	t.Parallel()
	d := setupDJS(t)
	d.load("/", "", "", "datafly")
	d.step("track an event too large and a normal one", chromedp.Evaluate[chromedp.Void](
		`datafly.track("Huge", {blob: "x".repeat(40000)}); datafly.track("Small", {n: 1}); datafly.flush()`))
	d.waitStored("the normal event", 15*time.Second, func(m []map[string]any) bool { return count(m, isTrack("Small")) == 1 })
	time.Sleep(2500 * time.Millisecond) // a retry would come within the first back-off (at most 1 s)
	huge := 0
	for _, b := range d.proxy.sent() {
		huge += count(b.messages, isTrack("Huge"))
	}
	if huge != 1 {
		t.Errorf("the rejected event was sent %d times, want once", huge)
	}
	if n := eval[int](d.ui, `JSON.parse(localStorage.getItem("datafly_queue") || "[]").length`); n != 0 {
		t.Errorf("localStorage still queues %d events after the gateway answered for them", n)
	}
}
