package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// screenshotDir is docs/screenshots from this package's directory.
const screenshotDir = "../../docs/screenshots"

// viewport is one width the UI must read well at.
type viewport struct {
	name          string
	width, height int64
}

var viewports = []viewport{{"desktop", 1280, 800}, {"phone", 390, 844}}

// shotPage is one page of the tour: how to get there and what shows once it
// is there.
type shotPage struct {
	name  string
	open  []chromedp.Action[chromedp.Void]
	ready string // an XPath visible once the page is drawn
}

// TestUIScreenshots renders every page of the UI, seeded through the API so
// no page is empty, at desktop and phone width; at each it checks that the
// console shows no error, that nothing overflows sideways (at 390 px too),
// and that every control has a name and the page one h1 (accessible). With SIGNAL_UPDATE_SCREENSHOTS=1 it also writes
// docs/screenshots/<page>-desktop.png and -phone.png for the README's tour
// (1280 and 390 px wide, from the top, at most two screens tall).
func TestUIScreenshots(t *testing.T) {
	t.Parallel()
	update := os.Getenv("SIGNAL_UPDATE_SCREENSHOTS") == "1"
	if update {
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	u := setupUI(t)
	integrationID := u.installAPI("tour-key-00001234")
	shop := u.n.createPipeline(t, u.token(), "Web shop")
	u.n.createPipeline(t, u.token(), "Mobile app")
	key := shop["pipeline_key"].(string)
	seedTour(u, key, true)

	signIn := []shotPage{{"sign-in", []chromedp.Action[chromedp.Void]{u.open("/login")}, h1("Sign in to Signal")}}
	library := u.open("/integrations?tab=library")
	delivered := liveRow("Order Completed", "delivered")
	pages := []shotPage{
		{"integrations-installed", []chromedp.Action[chromedp.Void]{u.open("/integrations")}, `//main//a[normalize-space()="Omnisend"]`},
		{"library", []chromedp.Action[chromedp.Void]{library}, libraryOmnisend},
		{"install-dialog", []chromedp.Action[chromedp.Void]{library, clickIn(libraryOmnisend, "Install")}, `//dialog[@open]//h2[normalize-space()="Install Omnisend"]`},
		{"integration", []chromedp.Action[chromedp.Void]{u.open("/integrations/" + integrationID)}, h2("Health")},
		{"blueprint-editor", []chromedp.Action[chromedp.Void]{u.open("/integrations/" + integrationID + "/blueprint")}, `//fieldset[legend[normalize-space()="Order Completed"]]`},
		{"pipelines", []chromedp.Action[chromedp.Void]{u.open("/pipelines")}, `//main//a[normalize-space()="Mobile app"]`},
		{"pipeline", []chromedp.Action[chromedp.Void]{u.open("/pipelines/" + shop["id"].(string))}, h2("Snippets")},
		{"live-events", []chromedp.Action[chromedp.Void]{u.open("/live-events")}, delivered},
		{"event-detail", []chromedp.Action[chromedp.Void]{u.open("/live-events"), clickIn(delivered, "Order Completed")}, h2("Payload sent")},
		{"users", []chromedp.Action[chromedp.Void]{u.open("/users")}, `//main//*[normalize-space()="viewer@example.com"]`},
		{"audit-log", []chromedp.Action[chromedp.Void]{u.open("/audit-log")}, `//main//*[contains(normalize-space(), "pipeline.create")]`},
		{"settings-alerts", []chromedp.Action[chromedp.Void]{u.open("/settings/alerts")}, h1("Settings: Alerts")},
	}
	u.shoot(signIn, update)
	u.signIn(adminEmail, adminPassword)
	u.shoot(pages, update)
}

// seedTour fills the pages: a delivered order and product view, an event
// the blueprint does not enable, one without any identifier, and, with
// users, an editor and a viewer.
func seedTour(u *ui, key string, users bool) {
	u.t.Helper()
	u.gatewaySend(key, "/v1/i", `{"userId":"tour-1","traits":{"email":"jane@example.com","first_name":"Jane"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"tour-1","event":"Product Viewed","messageId":"tour-pv","properties":{"product_id":"SKU-1","name":"Wool Scarf","price":39.95,"currency":"GBP"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"tour-1","event":"Order Completed","messageId":"tour-order","context":{"consent":{"canonical":{"marketing":true}}},
		"properties":{"order_id":"ORDER-5512","revenue":89.9,"currency":"GBP","coupon":"WELCOME10"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"tour-1","event":"Cart Viewed","messageId":"tour-cart"}`)
	u.gatewaySend(key, "/v1/t", `{"anonymousId":"anon-9","event":"Product Viewed","messageId":"tour-anon","properties":{"product_id":"SKU-2"}}`)
	u.n.waitLive(u.t, u.token(), "", "tour-order", "delivered")
	if !users {
		return
	}
	for _, user := range []string{`{"email":"editor@example.com","password":"editor-password-1","role":"editor"}`, `{"email":"viewer@example.com","password":"viewer-password-1","role":"viewer"}`} {
		if code, body := u.n.adminCall(u.t, "POST", "/v1/admin/users", u.token(), user); code != 201 {
			u.t.Errorf("seed a user through POST /v1/admin/users: %d %s", code, body)
		}
	}
}

// shoot renders each page at each viewport: no console error (step checks),
// no sideways overflow; with update, the docs screenshot.
func (u *ui) shoot(pages []shotPage, update bool) {
	u.t.Helper()
	for _, vp := range viewports {
		for _, p := range pages {
			steps := append([]chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(vp.width, vp.height)}, p.open...)
			steps = append(steps, waitVisible(p.ready), noOverflow(vp.width), accessible())
			if u.check(p.name+"-"+vp.name, steps...) && update {
				ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
				png, err := chromedp.Run(ctx, tourShot(vp))
				cancel()
				if err != nil {
					u.t.Fatalf("screenshot %s-%s: %v", p.name, vp.name, err)
				}
				file := filepath.Join(screenshotDir, p.name+"-"+vp.name+".png")
				if err := os.WriteFile(file, png, 0o644); err != nil {
					u.t.Fatal(err)
				}
				u.t.Logf("wrote %s", file)
			}
		}
	}
}

// noOverflow fails when the page is wider than the device (a phone user
// would scroll sideways), naming the elements that stick out. The phone
// viewport is emulated without mobile mode: a mobile browser widens its
// layout viewport to fit a page that overflows, and innerWidth would follow.
func noOverflow(width int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		wide, err := chromedp.Evaluate[[]string](`((w) => {
			if (document.documentElement.scrollWidth <= w && window.innerWidth <= w) return [];
			const out = [document.documentElement.scrollWidth + "px wide (window " + window.innerWidth + "px) on a " + w + "px device"];
			// The culprits stick out of a parent that fits.
			for (const e of document.querySelectorAll("body *")) {
				const p = e.parentElement;
				if (out.length < 8 && e.getBoundingClientRect().right > w + 1 && p && p.getBoundingClientRect().right <= w + 1) {
					out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(e.getBoundingClientRect().right) + "px");
				}
			}
			return out;
		})(`+fmt.Sprint(width)+`)`)(ctx, t)
		if err != nil {
			return err
		}
		if len(wide) > 0 {
			return fmt.Errorf("horizontal overflow: %v", wide)
		}
		return nil
	})
}

// tourShot captures the page from its top, as tall as the page but at most
// two screens, so a phone shot shows more than the filters at the top of
// Live Events and a blueprint editor does not make a 5,000-pixel image.
func tourShot(vp viewport) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		h, err := chromedp.Evaluate[float64](`document.documentElement.scrollHeight`)(ctx, t)
		if err != nil {
			return nil, err
		}
		h = min(h, float64(2*vp.height))
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: ptrTo(true),
			Clip:                  &page.Viewport{Width: float64(vp.width), Height: h, Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
}

func ptrTo[T any](v T) *T { return &v }
