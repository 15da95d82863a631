package main

// Browser tests of Live Events' filters, search, counts and pause (harness
// in ui_harness_test.go).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// rowsAre checks that the Live Events table holds exactly n rows, and no
// row that forbidden (an XPath, "" for none) matches.
func rowsAre(n int, forbidden string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		count := func(x string) (int, error) {
			return chromedp.Evaluate[int](fmt.Sprintf(`document.evaluate(%s, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, jq(x)))(ctx, t)
		}
		all, err := count(`//tbody/tr`)
		if err != nil {
			return err
		}
		if all != n {
			return fmt.Errorf("Live Events shows %d rows, want %d", all, n)
		}
		if forbidden == "" {
			return nil
		}
		bad, err := count(forbidden)
		if err == nil && bad > 0 {
			err = fmt.Errorf("Live Events shows %d rows %s, want none", bad, forbidden)
		}
		return err
	})
}

// waitQuery waits until the page's query string holds part ("" waits for
// no query at all): the filters applied, a new page loaded.
func waitQuery(part string) chromedp.Action[chromedp.Void] {
	if part == "" {
		return waitJS("no query", `location.search === ""`)
	}
	return waitJS("the query to hold "+jq(part), `location.search.includes(`+jq(part)+`)`)
}

// TestUILiveEventsFiltersSearchAndPause: counts per status; a status
// filter; a search by email and by order id; Pause holds the list and
// Resume brings what came meanwhile.
func TestUILiveEventsFiltersSearchAndPause(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI("filters-key-1357")
	key := u.pipelineAPI("Web shop")
	seedTour(u, key, false)
	u.signIn(adminEmail, adminPassword)
	u.step("Live Events, with counts per status",
		click("Live Events"), waitVisible(liveRow("Order Completed", "delivered")),
		waitVisible(`//ul[@aria-label="Events per status"]/li[normalize-space()="2 delivered"]`),
		waitVisible(`//ul[@aria-label="Events per status"]/li[normalize-space()="3 filtered"]`),
		rowsAre(5, ""),
	)
	u.step("only filtered events",
		choose("Status", "filtered"), click("Apply filters"), waitQuery("status=filtered"),
		waitVisible(liveRow("Cart Viewed", "filtered")),
		rowsAre(3, `//tbody/tr[.//*[normalize-space()="delivered"]]`),
	)
	u.step("search by email", click("Clear"), waitQuery(""), fill("Search", "jane@example.com"), click("Apply filters"),
		waitQuery("q=jane"),
		waitVisible(liveRow("Order Completed", "delivered")),
		rowsAre(4, liveRow("Product Viewed", "filtered")),
	)
	u.step("search by order id", click("Clear"), waitQuery(""), fill("Search", "ORDER-5512"), click("Apply filters"),
		waitQuery("q=ORDER-5512"),
		waitVisible(liveRow("Order Completed", "delivered")),
		rowsAre(1, ""),
	)
	u.step("pause", click("Clear"), waitQuery(""), waitVisible(liveRow("Order Completed", "delivered")),
		click("Pause"), waitText("Paused"), waitVisible(clickableX("Resume")))
	u.gatewaySend(key, "/v1/t", `{"userId":"tour-1","event":"Signed Up","messageId":"while-paused","properties":{"method":"email"}}`)
	u.n.waitLive(t, u.token(), "", "while-paused", "delivered")
	time.Sleep(time.Second) // a live list would have shown it by now
	u.step("paused: the list holds still", rowsAre(5, `.//a[normalize-space()="Signed Up"]`))
	u.step("resume brings what came meanwhile", click("Resume"), waitVisible(liveRow("Signed Up", "delivered")))
}
