package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one browser step (a navigation, a form submission, a
// query), so a page that never loads fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

// shotCounter numbers the screenshots in the order the pages were visited.
var shotCounter atomic.Int32

// browser is one Chromium with its own profile (so its own cookies), and
// one tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string // console errors, exceptions, CSP violations not yet reported
	dialogs  []string // messages of the dialogs the page opened
	// documents are the requests for pages (not their resources).
	documents map[network.RequestID]bool
	closed    bool // the journey ended: log nothing more
}

// newBrowser starts Chromium for one journey. It is closed when the test
// ends.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(os.Getenv("FACILITY_TEST_CHROMIUM")),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Pages open in English unless a test chooses otherwise.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, base: base, documents: map[network.RequestID]bool{}}
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.watch),
		chromedp.WithLogf(b.logf),
	)
	b.ctx = ctx
	t.Cleanup(func() {
		b.checkConsole("end of journey")
		cancel()
		cancelAlloc()
		b.mu.Lock()
		b.closed = true // chromedp's goroutines may still log; the test is over
		b.mu.Unlock()
	})
	// Start the browser now, with no step timeout: the first call binds the
	// browser's life to its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", os.Getenv("FACILITY_TEST_CHROMIUM"), err)
	}
	// A person answers "OK" to the confirmation a destructive form asks for
	// (data-confirm); an open dialog would block the page.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// logf passes chromedp's messages to the test log while the journey runs.
func (b *browser) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.t.Logf("chromedp: "+format, args...)
	}
}

// takeDialogs returns the messages of the dialogs accepted since the last call.
func (b *browser) takeDialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.dialogs
	b.dialogs = nil
	return d
}

// watch records what a person would see as an error in the developer
// console: uncaught exceptions, console.error and console.assert calls,
// and browser log errors such as a resource refused by the Content
// Security Policy or a failed request. It runs in the tab's event loop.
func (b *browser) watch(ev any) {
	var p string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Type == network.ResourceTypeDocument {
			b.mu.Lock()
			b.documents[ev.RequestID] = true
			b.mu.Unlock()
		}
		return
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = "uncaught exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			p += " " + d.Exception.Description
		}
		if d.URL != "" {
			p += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		p = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError && e.Source != log.EntrySourceSecurity {
			return
		}
		if e.Source == log.EntrySourceNetwork {
			// Chromium asks for /favicon.ico by itself when a page names no
			// icon; that request is the browser's, not the page's.
			if u, err := url.Parse(e.URL); err == nil && u.Path == "/favicon.ico" {
				return
			}
			// A page answered with an error status (a form sent back with
			// 422) is logged too; the journeys check every page's status.
			b.mu.Lock()
			doc := b.documents[e.NetworkRequestID]
			b.mu.Unlock()
			if doc {
				return
			}
		}
		p = fmt.Sprintf("browser log (%s, %s): %s", e.Source, e.Level, e.Text)
		if e.URL != "" {
			p += " [" + e.URL + "]"
		}
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// checkConsole fails the test with every console problem seen since the
// last check.
func (b *browser) checkConsole(where string) {
	b.t.Helper()
	b.mu.Lock()
	ps := b.problems
	b.problems = nil
	b.mu.Unlock()
	for _, p := range ps {
		b.t.Errorf("%s: %s", where, p)
	}
}

// step runs actions with the step timeout.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// navigate runs actions that load a page (opening a URL, clicking a submit
// button) and returns the status of the page that finally loaded, after
// any redirects.
func (b *browser) navigate(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	var status int64
	if res != nil {
		status = res.Status
	}
	return status
}

// open loads path and fails unless the page answers 200.
func (b *browser) open(path string) {
	b.t.Helper()
	if st := b.navigate("open "+path, chromedp.Navigate(b.base+path)); st != 200 {
		b.fatalf("open %s: status %d", path, st)
	}
}

// submit clicks a submit button and returns the status of the page it leads to.
func (b *browser) submit(sel string) int64 {
	b.t.Helper()
	return b.navigate("submit "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// fill empties a text field and types into it. (chromedp.Clear refuses an
// empty textarea and only removes an input's value attribute, so the field
// is emptied by setting its value.)
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	empty := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (e) e.value = ""; })()`, sel)
	b.step("type into "+sel, chromedp.Evaluate[chromedp.Void](empty), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks the option with value in a select. SetValue fires the input
// and change events a person's choice fires.
func (b *browser) choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(sel), value)
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("read text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// value returns the current value of a form field.
func (b *browser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("read value of %s: %v", sel, err)
	}
	return s
}

// js evaluates an expression in the page and returns its result.
func js[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// has reports whether an element matching sel is in the page now.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return js[bool](b, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// path is the path of the page shown.
func (b *browser) path() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fatalf("read location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fatalf("parse location %q: %v", loc, err)
	}
	return u.Path
}

// lang is the page's <html lang>.
func (b *browser) lang() string { return js[string](b, `document.documentElement.lang`) }

// expectPath fails unless the page shown is at path.
func (b *browser) expectPath(path string) {
	b.t.Helper()
	if got := b.path(); got != path {
		b.fatalf("expected to be on %s, but the browser shows %s (heading %q)", path, got, b.text("h1"))
	}
}

// shot saves a full-page PNG of the page shown as NN-name.png in
// FACILITY_SCREENSHOTS, and reports console problems of the page.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.checkConsole(name)
	dir := os.Getenv("FACILITY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := b.fullScreenshot()
	file := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", shotCounter.Add(1), name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.fatalf("save screenshot: %v", err)
	}
}

// fullScreenshot captures the whole page. Chromium captures beyond the
// viewport by resizing it for a moment, and puts the scroll position back
// only when the next input arrives: a click right after a screenshot could
// then land where the page was scrolled before, on another element. So
// the scroll position is set back here, once the capture is done.
func (b *browser) fullScreenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	at, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[window.scrollX, window.scrollY]`))
	if err != nil {
		b.fatalf("read the scroll position: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot: %v", err)
	}
	// No waiting for an animation frame: with the page's scripts turned
	// off (a journey without JavaScript) frames never come.
	back := fmt.Sprintf(`window.scrollTo(%f, %f), true`, at[0], at[1])
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](back)); err != nil {
		b.fatalf("restore the scroll position: %v", err)
	}
	return png
}

// fatalf stops the journey, after saving a screenshot of where it stopped.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if dir := os.Getenv("FACILITY_SCREENSHOTS"); dir != "" {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			name := fmt.Sprintf("%02d-FAILED-%s.png", shotCounter.Add(1), safeName(b.t.Name()))
			_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
			msg += " (screenshot " + name + ")"
		}
		cancel()
	}
	b.t.Fatal(msg)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}
