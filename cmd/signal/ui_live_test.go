package main

// Browser tests of Live Events: filters, search, counts, pause, and a
// stream that connects late (harness in ui_harness_test.go).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
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

// TestUILiveEventsCatchUpOnSlowConnect: the Live Events page is drawn with
// an order pending; its stream connects only after the order was delivered
// (the browser holds the stream's request, as a slow network does, and a
// reconnect after a blip is the same gap). The open page must still show
// the order delivered, without a reload.
func TestUILiveEventsCatchUpOnSlowConnect(t *testing.T) {
	t.Parallel()
	u := setupUI(t)
	u.installAPI(heldOmnisendKey)
	key := u.pipelineAPI("Web shop")
	u.signIn(adminEmail, adminPassword)
	u.gatewaySend(key, "/v1/i", `{"userId":"buyer-3","traits":{"email":"buyer3@example.com"}}`)
	u.gatewaySend(key, "/v1/t", `{"userId":"buyer-3","event":"Order Completed","messageId":"ui-order-3","properties":{"order_id":"ORDER-99","revenue":5}}`)

	// Hold the stream's request in the browser until the order is delivered.
	held := make(chan fetch.RequestID, 4)
	if err := chromedp.Listen(u.ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			held <- e.RequestID
		}
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/ui/api/live-events/stream*"}}})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	u.step("Live Events drawn with the order pending", click("Live Events"), waitVisible(liveRow("Order Completed", "pending")))
	var id fetch.RequestID
	select {
	case id = <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the page opened no Live Events stream")
	}
	u.release()
	u.n.waitLive(t, u.token(), "", "ui-order-3", "delivered")
	ctx, cancel = context.WithTimeout(u.ctx, 5*time.Second)
	_, err = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
	if err == nil {
		_, err = chromedp.Call(ctx, fetch.Disable, cdp.Empty{})
	}
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	u.step("the stream connected, the order shows delivered without a reload", waitVisible(liveRow("Order Completed", "delivered")))
}
