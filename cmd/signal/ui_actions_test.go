package main

// The actions of the Management UI's browser tests, as a person sees the
// page: controls found by visible text, ARIA role and <label> (through
// XPath, first visible match), never by CSS class or id.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// xq quotes s as an XPath string literal.
func xq(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	parts := strings.Split(s, `"`)
	return `concat("` + strings.Join(parts, `", '"', "`) + `")`
}

// jq quotes s as a JavaScript string literal.
func jq(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// el selects the first *visible* element that xpath matches, and nothing
// while there is none (the query then waits): a person acts on what they
// see, and a hidden twin (a closed dialog's copy of a form) must not win.
func el(xpath string) chromedp.JSPath {
	return chromedp.JSPath(`((xpath) => {
		const r = document.evaluate(xpath, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
		for (let i = 0; i < r.snapshotLength; i++) {
			const n = r.snapshotItem(i);
			if (n.nodeType === Node.ELEMENT_NODE && n.checkVisibility({visibilityProperty: true})) return n;
		}
		return null;
	})(` + jq(xpath) + `)`)
}

// clickableX matches what a person clicks by its visible text (or its
// accessible name): links, buttons, tabs, menu items, summaries, and
// submit inputs. A link's own first text counts too, so "Integrations"
// still names the sidebar link that carries a "(needs attention)" dot.
func clickableX(text string) string {
	q := xq(text)
	return fmt.Sprintf(`//*[self::a or self::button or self::summary or @role="button" or @role="tab" or @role="link" or @role="menuitem" or @role="switch"][normalize-space()=%[1]s or normalize-space(text()[1])=%[1]s or @aria-label=%[1]s] | //input[(@type="submit" or @type="button") and @value=%[1]s]`, q)
}

// within rewrites an absolute XPath (its // steps) to search only inside
// what scope matches.
func within(scope, xpath string) string {
	parts := strings.Split(xpath, " | ")
	for i, p := range parts {
		parts[i] = "(" + scope + ")" + p
	}
	return strings.Join(parts, " | ")
}

// open navigates to a page of the UI by path (only to start a journey or
// reload; journeys themselves click).
func (u *ui) open(path string) chromedp.Action[chromedp.Void] {
	return chromedp.Navigate(u.base + path)
}

// click clicks the visible link, button or tab named text.
func click(text string) chromedp.Action[chromedp.Void] {
	return unstale(chromedp.Click(el(clickableX(text))))
}

// clickIn clicks the control named text inside scope (an XPath), for a page
// with several controls of one name.
func clickIn(scope, text string) chromedp.Action[chromedp.Void] {
	return unstale(chromedp.Click(el(within(scope, clickableX(text)))))
}

// staleNode is how the browser refuses a node that the page replaced
// between finding and acting (Live Events redraws a row when it changes).
var staleNode = regexp.MustCompile(`(?i)could not find node|no node with given id|node is detached|node with given id does not belong`)

// unstale retries a when the page replaced its node meanwhile: a person
// just clicks the row as it is now.
func unstale(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			v, err := a(ctx, t)
			if err == nil || !staleNode.MatchString(err.Error()) || ctx.Err() != nil {
				return v, err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// fieldX matches the form control whose <label> reads label (for=, or the
// control inside the label; a label's "(optional)" hint aside), or whose
// aria-label is label.
func fieldX(label string) string {
	q := xq(label)
	lab := fmt.Sprintf(`//label[normalize-space()=%[1]s or normalize-space(text()[1])=%[1]s]`, q)
	return fmt.Sprintf(`//*[self::input or self::select or self::textarea][@id=%[1]s/@for or ancestor::label[normalize-space(text()[1])=%[2]s] or @aria-label=%[2]s]`, lab, q)
}

// fill types value into the field labelled label, replacing what it held.
func fill(label, value string) chromedp.Action[chromedp.Void] {
	return fillIn("", label, value)
}

// fillIn is fill inside scope (an XPath; "" for the whole page).
func fillIn(scope, label, value string) chromedp.Action[chromedp.Void] {
	x := fieldX(label)
	if scope != "" {
		x = within(scope, x)
	}
	sel := el(x)
	return unstale(chromedp.Steps(
		chromedp.Click(sel),
		// Select what the field holds, so typing replaces it.
		chromedp.Evaluate[chromedp.Void](string(sel)+`.select()`),
		chromedp.SendKeys(sel, value),
	))
}

// fillX types value into the field xpath matches (the last empty mapping
// row, say), replacing what it held.
func fillX(xpath, value string) chromedp.Action[chromedp.Void] {
	sel := el(xpath)
	return unstale(chromedp.Steps(
		chromedp.Click(sel),
		chromedp.Evaluate[chromedp.Void](string(sel)+`.select()`),
		chromedp.SendKeys(sel, value),
	))
}

// check ticks the checkbox labelled label inside scope ("" for the page)
// unless it is ticked already.
func check(scope, label string) chromedp.Action[chromedp.Void] {
	x := fieldX(label)
	if scope != "" {
		x = within(scope, x)
	}
	sel := el(x)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Query(sel, chromedp.NodeVisible)(ctx, t); err != nil {
			return err
		}
		on, err := chromedp.Evaluate[bool](string(sel)+`.checked`)(ctx, t)
		if err != nil || on {
			return err
		}
		_, err = chromedp.Click(sel)(ctx, t)
		return err
	})
}

// choose picks the option whose text is option in the <select> labelled
// label, as a person does, so the change event fires.
func choose(label, option string) chromedp.Action[chromedp.Void] {
	sel := el(fieldX(label))
	return chromedp.Steps(
		chromedp.WaitVisible(sel),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			ok, err := chromedp.Evaluate[bool](`((el, text) => {
				for (const o of el.options) {
					if (o.text.trim() === text || o.value === text) {
						el.value = o.value;
						el.dispatchEvent(new Event('input', {bubbles: true}));
						el.dispatchEvent(new Event('change', {bubbles: true}));
						return true;
					}
				}
				return false;
			})(`+string(sel)+`, `+jq(option)+`)`)(ctx, t)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("select %q has no option %q", label, option)
			}
			return nil
		}),
	)
}

// waitText waits until text is visible on the page (document.body.innerText:
// what is rendered, not what hides in the markup). It survives navigations.
func waitText(text string) chromedp.Action[chromedp.Void] {
	return waitJS("text "+jq(text)+" to show", `document.body && document.body.innerText.includes(`+jq(text)+`)`)
}

// waitNoText waits until text is no longer visible on the page.
func waitNoText(text string) chromedp.Action[chromedp.Void] {
	return waitJS("text "+jq(text)+" to go", `document.body && !document.body.innerText.includes(`+jq(text)+`)`)
}

// waitJS polls a JavaScript predicate until it is true; an evaluation that
// fails while a page loads is retried.
func waitJS(what, predicate string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var last error
		for {
			ok, err := chromedp.Evaluate[bool](`!!(`+predicate+`)`)(ctx, t)
			if err == nil && ok {
				return nil
			}
			if err != nil {
				last = err
			}
			select {
			case <-ctx.Done():
				if last != nil {
					return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), last)
				}
				return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// waitVisible waits until an element that xpath matches is visible.
func waitVisible(xpath string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(el(xpath))
}

// absent checks that no control a person could use to do text is on the
// page (visible or not: hidden write controls are still write controls).
func absent(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		n, err := chromedp.Evaluate[int](fmt.Sprintf(`document.evaluate(%s, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, jq(clickableX(text))))(ctx, t)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the page offers %q (%d controls), want none", text, n)
		}
		return nil
	})
}

// readText returns the visible text of the first element xpath matches.
func (u *ui) readText(xpath string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(el(xpath), chromedp.NodeVisible))
	if err != nil {
		u.t.Fatalf("read %s: %v\n  page: %s\n  screenshot: %s", xpath, err, u.location(), u.screenshot("read-FAILED"))
	}
	return strings.TrimSpace(s)
}

// signIn signs in through the sign-in page as email.
func (u *ui) signIn(email, password string) {
	u.t.Helper()
	u.step("sign-in page", u.open("/"), waitVisible(fieldX("Email")))
	u.step("signed in as "+email,
		fill("Email", email),
		fill("Password", password),
		click("Sign in"),
		waitText("Integrations"),
		waitVisible(`//nav//a[normalize-space()="Integrations"]`),
	)
}

// reloadUntil reloads the page, as a person waiting for a change does,
// until an element xpath matches is visible.
func reloadUntil(xpath string) chromedp.Action[chromedp.Void] {
	probe := string(el(xpath)) + ` !== null`
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			ok, err := chromedp.Evaluate[bool](probe)(ctx, t)
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("reloading until %s shows: %w", xpath, ctx.Err())
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := chromedp.Reload()(ctx, t); err != nil && ctx.Err() != nil {
				return err
			}
		}
	})
}

// tabTo presses Tab, as a keyboard user does, until the field labelled
// label has the focus, and checks that the focus is visible on it.
func tabTo(label string) chromedp.Action[chromedp.Void] {
	sel := string(el(fieldX(label)))
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for range 15 {
			on, err := chromedp.Evaluate[bool](`document.activeElement === `+sel)(ctx, t)
			if err != nil {
				return err
			}
			if on {
				visible, err := chromedp.Evaluate[bool](`((e) => {
					const s = getComputedStyle(e);
					return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
				})(document.activeElement)`)(ctx, t)
				if err != nil {
					return err
				}
				if !visible {
					return fmt.Errorf("the field %q has the focus, but no visible focus ring (outline or box-shadow)", label)
				}
				return nil
			}
			if _, err := chromedp.KeyEvent(kb.Tab)(ctx, t); err != nil {
				return err
			}
		}
		return fmt.Errorf("15 presses of Tab never reached the field %q", label)
	})
}

// typeKeys types text where the focus is (kb.Enter submits a form).
func typeKeys(text string) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(text)
}

// accessible checks what a screen-reader or keyboard user needs on every
// page: each visible control has a name (its <label>, aria-label,
// aria-labelledby, or its text), the page has one visible h1, a lang and a
// title ending in " · Signal".
func accessible() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		bad, err := chromedp.Evaluate[[]string](`(() => {
			const bad = [];
			const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : ""; };
			for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href], [role=button], summary')) {
				if (!e.checkVisibility({visibilityProperty: true})) continue;
				let name = (e.getAttribute("aria-label") || "") + (e.getAttribute("aria-labelledby") || "").split(/\s+/).map(text).join(" ");
				if (e.labels) name += [...e.labels].map((l) => l.textContent).join(" ");
				if (!["INPUT", "SELECT", "TEXTAREA"].includes(e.tagName)) name += e.textContent;
				if (e.type === "submit" || e.type === "button") name += e.value || "";
				if (!name.trim()) bad.push("a control without a name: " + e.outerHTML.slice(0, 160));
			}
			const h1 = [...document.querySelectorAll("h1")].filter((h) => h.checkVisibility()).length;
			if (h1 !== 1) bad.push(h1 + " visible h1 headings, want 1");
			if (!document.documentElement.lang) bad.push("no lang on <html>");
			if (!document.title.endsWith(" · Signal")) bad.push("title " + JSON.stringify(document.title));
			return bad;
		})()`)(ctx, t)
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			return fmt.Errorf("accessibility: %s", strings.Join(bad, "; "))
		}
		return nil
	})
}
