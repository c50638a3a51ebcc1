package browsertest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/console"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/staff"
)

// consoleWorld is the admin listener on loopback with an office account
// and a customer of a distributor.
type consoleWorld struct {
	adm      *admin.Admin
	url      string
	password string
	entID    int64
}

func newConsoleWorld(t *testing.T) *consoleWorld {
	t.Helper()
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	w := &consoleWorld{adm: admin.New(inst)}
	ctx, local := t.Context(), admin.Local("test")
	if err := w.adm.AddDistributor(ctx, local, "Пловдив Софт"); err != nil {
		t.Fatal(err)
	}
	out, err := w.adm.Activate(ctx, local, admin.ActivateRequest{Customer: "ЕТ Иванов – Склад", Series: api.SeriesPro, Updates: 2,
		Distributor: "Пловдив Софт", VAT: "BG123456789"})
	if err != nil {
		t.Fatal(err)
	}
	w.entID = out.EntitlementID
	acc, err := w.adm.AddStaff(ctx, local, "maria", "office", "")
	if err != nil {
		t.Fatal(err)
	}
	w.password = acc.Password
	ts := httptest.NewServer(console.Site(w.adm, nil, staff.DefaultRequestLimit, nil, false))
	t.Cleanup(ts.Close)
	w.url = ts.URL
	return w
}

// typeKeys types text into the focused element as a keyboard does.
func typeKeys(text string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(text) }

// pressEnter presses Enter on the focused element.
func pressEnter() chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(kb.Enter) }

func pressTab() chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(kb.Tab) }

// TestConsoleByKeyboardInBulgarian signs in, finds a customer, adds
// updates and confirms them with the keyboard alone, in a Bulgarian
// browser, and keeps the screenshots for docs/admin-api.md.
func TestConsoleByKeyboardInBulgarian(t *testing.T) {
	w := newConsoleWorld(t)
	ctx := browser(t, "bg")
	// The sign-in page: the login field has the focus; Tab to the password.
	// An office screen, not the Internet-code page's narrow window.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860), chromedp.Navigate(w.url+"/"), visible("#login")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-login.png")
	mustText(t, ctx, "h1", "Вход")
	if err := chromedp.Do(ctx, typeKeys("maria"), pressTab(), typeKeys(w.password), pressEnter(), visible("#q")); err != nil {
		t.Fatal(err)
	}
	mustText(t, ctx, "#whoami", "maria (office)")
	// Search: the field has the focus.
	if err := chromedp.Do(ctx, typeKeys("иванов"), pressEnter(), visible("#results")); err != nil {
		t.Fatal(err)
	}
	mustText(t, ctx, "#results tbody", "ЕТ Иванов – Склад")
	// Tab to the customer's link: the keyboard's path through the page.
	focusAndEnter(t, ctx, `#results a`)
	if err := chromedp.Do(ctx, visible("#credentials")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-customer.png")
	mustText(t, ctx, "#customer-name", "ЕТ Иванов – Склад")
	mustText(t, ctx, fmt.Sprintf("#cred-%d .remaining", w.entID), "2")
	// Add two updates: the form, then what will change, then confirm.
	focusAndEnter(t, ctx, fmt.Sprintf(`a[href="/entitlements/%d/add"]`, w.entID))
	if err := chromedp.Do(ctx, visible("#updates"), typeKeys("2"), pressTab(), typeKeys("INV-77"), pressEnter(), visible("#change")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-confirm.png")
	mustText(t, ctx, "#change", "Оставащи\t2\t4")
	if err := chromedp.Do(ctx, pressEnter(), visible("#done")); err != nil { // Confirm has the focus
		t.Fatal(err)
	}
	mustText(t, ctx, "#done", "4")
	c, err := w.adm.Entitlement(t.Context(), admin.Local("test"), w.entID)
	if err != nil || c.Remaining != 4 || c.Purchased != 4 {
		t.Fatalf("after the console's addition: %+v %v", c, err)
	}
	checkAccessible(t, ctx)
}

// TestHaltByKeyboard: an office halts a release from the Releases page
// with the keyboard alone: the Halt link, the reason (the field has the
// focus), the preview, Confirm.
func TestHaltByKeyboard(t *testing.T) {
	w := newConsoleWorld(t)
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := w.adm.Publish(t.Context(), admin.PublishParams{Product: "ledger", Series: api.SeriesPro, Version: v,
			OS: "linux", Arch: "amd64", File: strings.NewReader("ledger " + v)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := browser(t, "bg")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860), chromedp.Navigate(w.url+"/releases?product=ledger"), visible("#login"),
		typeKeys("maria"), pressTab(), typeKeys(w.password), pressEnter(), visible("#field")); err != nil {
		t.Fatal(err)
	}
	focusAndEnter(t, ctx, `a[href="/releases/ledger/2.0.0/halt"]`)
	if err := chromedp.Do(ctx, visible("#reason"), typeKeys("сриви със стари принтери"), pressTab(), pressEnter(), visible("#change")); err != nil {
		t.Fatal(err)
	}
	mustText(t, ctx, "#change", "Състояние предлага се спряна")
	checkAccessible(t, ctx)
	if err := chromedp.Do(ctx, pressEnter(), visible("#done")); err != nil { // Confirm has the focus
		t.Fatal(err)
	}
	c, err := w.adm.ReleaseControl(t.Context(), admin.Local("test"), "ledger", "2.0.0")
	if err != nil || c.State != "halted" || c.Reason != "сриви със стари принтери" || c.ChangedBy != "staff:maria" {
		t.Fatalf("after the console's halt: %+v %v", c, err)
	}
}

// focusAndEnter moves the keyboard focus to sel by pressing Tab, as a
// keyboard user does, and presses Enter on it.
func focusAndEnter(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for range 60 {
		if err := chromedp.Do(ctx, pressTab()); err != nil {
			t.Fatal(err)
		}
		on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)))
		if err != nil {
			t.Fatal(err)
		}
		if on {
			if err := chromedp.Do(ctx, pressEnter()); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("Tab never reached %s", sel)
}

func mustText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	got, err := textOf(ctx, sel)
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	if !strings.Contains(strings.Join(strings.Fields(got), "\t"), strings.Join(strings.Fields(want), "\t")) {
		t.Fatalf("%s shows %q, want %q in it", sel, got, want)
	}
}

// checkAccessible checks what a screen reader relies on, on the page the
// browser shows: the language, a skip link first, a label for every
// field, a caption for every table, no missing phrase.
func checkAccessible(t *testing.T, ctx context.Context) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const p = [];
		if (document.documentElement.lang !== 'bg') p.push('html lang is ' + document.documentElement.lang);
		for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
			if (!el.labels?.length && !el.getAttribute('aria-label')) p.push('no label: ' + el.outerHTML);
		}
		for (const tb of document.querySelectorAll('table')) if (!tb.caption) p.push('no caption: table#' + tb.id);
		if (document.body.innerText.includes('MISSING:')) p.push('a phrase is missing');
		const first = document.querySelector('a, button, input, select, textarea');
		if (!first?.classList.contains('skip')) p.push('the first focusable element is not the skip link');
		return p;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// screenshot checks the whole page's picture and keeps it as name.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, shot)
	saveArtifact(t, name, shot)
}
