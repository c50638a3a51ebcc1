package browsertest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater"
)

// The page shows the Internet code, large and visible, in #internet-code,
// in the browser's language; a screenshot is kept as an artifact.
func TestPageShowsInternetCode(t *testing.T) {
	f := newFixture(t, 3)
	sess, err := f.u.OpenClassicSession(t.Context(), f.plan(t), f.key)
	if err != nil {
		t.Fatal(err)
	}
	want := api.DeriveInternetCode(f.inst.Keys.CodeSecret, sess.ID).String()

	for _, tc := range []struct{ lang, heading, shot, notes, item string }{
		{"en-US", "Internet code for your update", "internet-code-page-en.png", "What is new in this version", "• The warehouse loads twice as fast"},
		{"bg", "Интернет код за вашето обновяване", "internet-code-page-bg.png", "Какво ново в тази версия", "• Складът се зарежда двойно по-бързо"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ctx := browser(t, tc.lang)
			if err := chromedp.Do(ctx, chromedp.Navigate(sess.URL), chromedp.WaitVisible(chromedp.ID("internet-code"))); err != nil {
				t.Fatal(err)
			}
			visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const r = document.getElementById('internet-code').getBoundingClientRect();
				return r.width > 100 && r.height > 20 && r.top >= 0 && r.bottom <= window.innerHeight; })()`))
			if err != nil {
				t.Fatal(err)
			}
			lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			got, err := textOf(ctx, "#internet-code")
			if err != nil || got != want || !codeRE.MatchString(got) {
				t.Fatalf("#internet-code = %q, %v; want %q", got, err, want)
			}
			if !visible {
				t.Error("the code is not visible in the window")
			}
			if h, _ := textOf(ctx, "h1"); h != tc.heading || !strings.HasPrefix(tc.lang, lang) {
				t.Errorf("heading %q lang %q, want %q in %s", h, lang, tc.heading, tc.lang)
			}
			if rem, _ := textOf(ctx, "#remaining"); rem != "3" {
				t.Errorf("remaining = %q, want 3", rem)
			}
			// The release notes, below the code, in the page's language;
			// their markup is text, never run.
			if h, _ := textOf(ctx, "#notes-heading"); h != tc.notes {
				t.Errorf("notes heading %q, want %q", h, tc.notes)
			}
			if item, _ := textOf(ctx, "#notes .item"); item != tc.item {
				t.Errorf("first notes item %q, want %q", item, tc.item)
			}
			scripts, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#notes script').length`))
			if notes, _ := textOf(ctx, "#notes"); scripts != 0 || !strings.Contains(notes, "<script>alert(1)</script>") {
				t.Errorf("the notes' markup: %d script elements, text %q", scripts, notes)
			}
			checkScreenshot(t, shot)
			saveArtifact(t, tc.shot, shot)
		})
	}
}

// The auto-continue path: the installer waits while the customer presses
// "Continue the update" on the page; it then reserves with the session
// alone and finishes the update.
func TestContinueButtonLetsInstallerGoOn(t *testing.T) {
	f := newFixture(t, 2)
	ctx := browser(t, "en")
	clicked := make(chan error, 1)
	res, err := f.u.Update(t.Context(), updater.Request{
		CheckRequest: updater.CheckRequest{Product: "abacus", Target: f.target},
		Credential: func(c context.Context, p *updater.Plan) (api.Credential, error) {
			sess, err := f.u.OpenClassicSession(c, p, f.key)
			if err != nil {
				return api.Credential{}, err
			}
			go func() { // the customer, in the browser
				clicked <- chromedp.Do(ctx,
					chromedp.Navigate(sess.URL),
					chromedp.WaitVisible(chromedp.ID("continue")),
					chromedp.Click(chromedp.ID("continue")),
					chromedp.WaitVisible(chromedp.ID("continued")),
				)
			}()
			wctx, cancel := context.WithTimeout(c, 45*time.Second)
			defer cancel()
			if err := f.u.WaitConfirmed(wctx, sess.ID, 100*time.Millisecond); err != nil {
				return api.Credential{}, err
			}
			return api.Credential{Session: sess.ID}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-clicked; err != nil {
		t.Fatalf("browser: %v", err)
	}
	if res.Status != updater.StatusUpdated || res.Remaining == nil || *res.Remaining != 1 {
		t.Fatalf("result %+v", res)
	}
	if got, _ := os.ReadFile(f.target); string(got) != string(f.v2) {
		t.Fatalf("target = %q", got)
	}
	if st := f.counts(t); st.Consumed != 1 || st.Held != 0 || st.Remaining != 1 {
		t.Fatalf("counts %+v", st.Counts)
	}
	// The page, reloaded, says the code was used and shows it no more.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("problem"))); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := textOf(ctx, "#problem"); !strings.Contains(p, "already been used") {
		t.Fatalf("#problem = %q", p)
	}
	checkScreenshot(t, shot)
}

// A key without site access: the page says why there is no code and what
// to do, and the installer refuses before asking for anything.
func TestPageWithoutSiteAccess(t *testing.T) {
	f := newFixture(t, 0)
	_, err := f.u.OpenClassicSession(t.Context(), f.plan(t), f.key)
	if err == nil || !strings.Contains(err.Error(), "site access is not enabled") {
		t.Fatalf("OpenClassicSession = %v", err)
	}
	// The page a customer may open all the same.
	sess := f.openSession(t)
	if sess.Problem != api.CodeInactive {
		t.Fatalf("session %+v", sess)
	}
	url := sess.URL
	ctx := browser(t, "bg")
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("problem"))); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := textOf(ctx, "#problem")
	if !strings.Contains(p, "Достъпът до сайта не е активиран") || !strings.Contains(p, "доставчика") {
		t.Fatalf("#problem = %q", p)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#internet-code').length`)); err != nil || n != 0 {
		t.Fatal("a code is shown without site access")
	}
	checkScreenshot(t, shot)
	saveArtifact(t, "internet-code-page-no-access.png", shot)
}
