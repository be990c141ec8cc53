package web

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// headerLayoutJS measures the page header: for each link in its nav, how
// many lines its text takes (distinct tops of the text's line boxes) and
// the vertical middle of its text; and whether the page is wider than the
// screen.
const headerLayoutJS = `(() => {
	// The most lines any text inside el is broken into.
	const lineCount = el => {
		let most = 0;
		const texts = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let n = texts.nextNode(); n; n = texts.nextNode()) {
			if (!n.textContent.trim()) continue;
			const r = document.createRange();
			r.selectNodeContents(n);
			const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
			most = Math.max(most, tops.size);
		}
		return most;
	};
	const name = document.querySelector('.topbar .brand-name');
	return JSON.stringify({
		overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
		width: document.documentElement.clientWidth,
		brandLines: lineCount(document.querySelector('.topbar .brand')),
		brandCut: !name || name.scrollWidth > name.clientWidth,
		links: [...document.querySelectorAll('.topbar nav a')].map(a => {
			const r = document.createRange();
			r.selectNodeContents(a);
			const box = r.getBoundingClientRect();
			return {text: a.textContent.trim(), lines: lineCount(a), middle: box.top + box.height / 2,
				right: a.getBoundingClientRect().right};
		}),
	});
})()`

type headerLayout struct {
	Overflow   bool    `json:"overflow"`
	Width      float64 `json:"width"`
	BrandLines int     `json:"brandLines"`
	BrandCut   bool    `json:"brandCut"`
	Links      []struct {
		Text   string  `json:"text"`
		Lines  int     `json:"lines"`
		Middle float64 `json:"middle"`
		Right  float64 `json:"right"`
	} `json:"links"`
}

// TestBrowserPhoneHeader loads the signed-out pages on an iPhone 12 sized
// screen (390×844 CSS pixels) and checks the header: "Sign in" and
// "Sign up" each on one line, side by side on one row, the brand on one
// line and not cut short, nothing wider than the screen. With USER_REGISTRY_SCREENSHOT set, a PNG of
// each page is written beside that path, suffixed "-phone-login" and
// "-phone-signup".
func TestBrowserPhoneHeader(t *testing.T) {
	ctx := newChromium(t)
	env := newTestEnv(t, "sqlite+memory")
	for _, page := range []string{"/login", "/signup"} {
		if err := chromedp.Do(ctx, chromedp.Emulate(device.IPhone12), chromedp.Navigate(env.Server.URL+page),
			chromedp.WaitVisible(chromedp.CSS(".topbar nav"))); err != nil {
			t.Fatalf("open %s: %v", page, err)
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](headerLayoutJS))
		if err != nil {
			t.Fatalf("%s: measure the header: %v", page, err)
		}
		var got headerLayout
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatalf("%s: %v: %s", page, err, raw)
		}
		if got.Width != 390 {
			t.Fatalf("%s: the screen is %v CSS pixels wide, want 390", page, got.Width)
		}
		if len(got.Links) != 2 || got.Links[0].Text != "Sign in" || got.Links[1].Text != "Sign up" {
			t.Fatalf("%s: header links %+v, want Sign in and Sign up", page, got.Links)
		}
		for _, l := range got.Links {
			if l.Lines != 1 {
				t.Errorf("%s: %q takes %d lines", page, l.Text, l.Lines)
			}
			if l.Right > got.Width {
				t.Errorf("%s: %q ends at %v, past the screen's %v", page, l.Text, l.Right, got.Width)
			}
		}
		if d := math.Abs(got.Links[0].Middle - got.Links[1].Middle); d > 1 {
			t.Errorf("%s: the header links are not on one row (middles %v apart)", page, d)
		}
		if got.BrandLines != 1 || got.BrandCut || got.Overflow {
			t.Errorf("%s: brand on %d lines, cut short %v; page wider than the screen: %v", page, got.BrandLines, got.BrandCut, got.Overflow)
		}
		if path := os.Getenv("USER_REGISTRY_SCREENSHOT"); path != "" {
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			ext := filepath.Ext(path)
			writeShot(t, strings.TrimSuffix(path, ext)+"-phone"+strings.ReplaceAll(page, "/", "-")+ext, shot)
		}
	}
}
