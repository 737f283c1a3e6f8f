package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"facility/internal/apptest"
	"facility/internal/i18n"
	"facility/ui"
)

const (
	adminEmail     = "admin@facility.demo"
	evaluatorEmail = "evaluator@facility.demo"
	// The demo applicant who prefers Spanish (an employers' organisation in Peru).
	spanishApplicantEmail = "employer@facility.demo"
)

// TestBrowser walks through Facility in Chromium: sign-up with e-mail
// confirmation, sign-in with a second factor, the language switch and an
// administrator granting and revoking a role. One demo server serves every
// journey; each journey has a browser of its own (its own cookies).
func TestBrowser(t *testing.T) {
	j := newJourneys(t)
	t.Run("SignUp", j.signUp)
	t.Run("SignInWithTOTP", j.signInWithTOTP)
	t.Run("SwitchLanguage", j.switchLanguage)
	t.Run("AdminRoleGrant", j.adminRoleGrant)
	t.Run("PhoneLayout", j.phoneLayout)
}

// newJourneys starts a demo server for a test's journeys, or skips the
// test when there is no Chromium.
func newJourneys(t *testing.T) *journeys {
	t.Helper()
	if os.Getenv("FACILITY_TEST_CHROMIUM") == "" {
		t.Skip("FACILITY_TEST_CHROMIUM is not set: the browser suite needs Chromium (.ci/run sets it)")
	}
	if dir := os.Getenv("FACILITY_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("screenshot folder: %v", err)
		}
	}
	text, err := i18n.Load(ui.Locales())
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, buildFacility(t))
	return &journeys{srv: srv, text: text, admin: &totpState{}}
}

type journeys struct {
	srv   *server
	text  *i18n.Catalogue
	admin *totpState // the demo administrator's second factor, once set up
}

// T is the interface text for key in lang, as the pages show it.
func (j *journeys) T(lang, key string, data map[string]any) string {
	return j.text.Translate(lang, key, data)
}

// totpState is what a person's authenticator app knows: the secret, and
// the last time step whose code was used (a code is accepted once).
type totpState struct {
	secret   string
	lastStep int64
}

// code returns a fresh code, waiting for the next 30-second step when the
// current one was used already: the server refuses a code twice by design.
func (s *totpState) code() string {
	for {
		now := time.Now()
		step := now.Unix() / 30
		if step > s.lastStep {
			s.lastStep = step
			return apptest.Code(s.secret, now)
		}
		time.Sleep(time.Until(time.Unix((step+1)*30, 0)) + 200*time.Millisecond)
	}
}

const loginButton = `main form[action="/login"] button[type=submit]`

// signIn enters an e-mail address and password on /login.
func (j *journeys) signIn(b *browser, shot, email, password string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#f-email", email)
	b.fill("#f-password", password)
	b.shot(shot)
	if st := b.submit(loginButton); st != 200 {
		b.fatalf("sign in as %s: status %d, error %q", email, st, j.firstError(b))
	}
}

// signInStaff signs in a staff member, setting up the second factor at the
// first sign-in and entering a fresh code after that.
func (j *journeys) signInStaff(b *browser, email string, st *totpState) {
	b.t.Helper()
	j.signIn(b, "login-"+safeName(email), email, j.srv.account(b.t, email).Password)
	switch b.path() {
	case "/account/totp":
		st.secret = b.text("#totp-secret")
		b.fill("#f-code", st.code())
		if code := b.submit(`main form[action="/account/totp"] button[type=submit]`); code != 200 {
			b.fatalf("confirm two-step sign-in: status %d, error %q", code, j.firstError(b))
		}
		b.open("/")
	case "/login/totp":
		if st.secret == "" {
			b.fatalf("%s has two-step sign-in on, but this run does not know the secret", email)
		}
		b.fill("#f-code", st.code())
		if code := b.submit(`main form[action="/login/totp"] button[type=submit]`); code != 200 {
			b.fatalf("enter code: status %d, error %q", code, j.firstError(b))
		}
	default:
		b.fatalf("%s: expected the second-factor step after the password, got %s", email, b.path())
	}
	b.expectPath("/")
	if !b.has("#sign-out") {
		b.fatalf("%s is not signed in after the second factor", email)
	}
}

// firstError is the first field error on the page, for failure messages.
func (j *journeys) firstError(b *browser) string {
	return js[string](b, `(document.querySelector(".field-error, .error-summary") || {textContent: ""}).textContent.trim()`)
}

// signUp: a newcomer registers with their organisation, fixes a password
// that is too short, confirms their e-mail address from the link sent to
// them and signs in to find their organisation.
func (j *journeys) signUp(t *testing.T) {
	b := newBrowser(t, j.srv.URL)
	const (
		name     = "Abena Owusu"
		email    = "abena.owusu@kumasi-weavers.example"
		password = "loom-indigo-harmattan-4821"
		orgName  = "Kumasi Weavers' Cooperative"
		orgType  = "cooperative"
		country  = "KE"
		year     = "2011"
		website  = "https://kumasi-weavers.example.org"
	)

	b.open("/register")
	if h := b.text("h1"); h != j.T("en", "register_title", nil) {
		t.Fatalf("/register heading %q", h)
	}
	b.shot("register")

	b.fill("#f-name", name)
	b.fill("#f-email", email)
	b.fill("#f-password", "short")
	b.fill("#f-organisation_name", orgName)
	b.step("choose type and country",
		b.choose("#f-organisation_type", orgType),
		b.choose("#f-organisation_country", country))
	b.fill("#f-organisation_year_founded", year)
	b.fill("#f-organisation_website", website)
	b.shot("register-filled")

	// Too short a password: the form comes back with a summary linking to
	// the field, the message at the field, and everything else kept.
	submitRegister := `main form[action="/register"] button[type=submit]`
	if st := b.submit(submitRegister); st != 422 {
		t.Fatalf("register with a short password: status %d, want 422", st)
	}
	b.expectPath("/register")
	b.shot("register-short-password")
	if !b.has("#error-summary") {
		t.Fatal("no error summary after a too-short password")
	}
	summary := js[string](b, `(document.querySelector('#error-summary a[href="#f-password"]') || {textContent: ""}).textContent.trim()`)
	fieldErr := js[string](b, `(document.querySelector("#e-password") || {textContent: ""}).textContent.trim()`)
	if summary == "" || fieldErr == "" || summary != fieldErr {
		t.Errorf("password error: summary link %q, message at the field %q (want the same, non-empty)", summary, fieldErr)
	}
	if got := js[string](b, `document.activeElement ? document.activeElement.id : ""`); got != "error-summary" {
		t.Errorf("focus is on %q after the error, want the error summary", got)
	}
	if inv := js[string](b, `document.querySelector("#f-password").getAttribute("aria-invalid") || ""`); inv != "true" {
		t.Errorf("password field aria-invalid=%q", inv)
	}
	if n := js[int](b, `document.querySelectorAll(".field-error").length`); n != 1 {
		t.Errorf("%d field errors shown, want only the password's", n)
	}
	for sel, want := range map[string]string{
		"#f-name": name, "#f-email": email, "#f-organisation_name": orgName,
		"#f-organisation_type": orgType, "#f-organisation_country": country,
		"#f-organisation_year_founded": year, "#f-organisation_website": website,
		"#f-password": "",
	} {
		if got := b.value(sel); got != want {
			t.Errorf("after the error, %s holds %q, want %q", sel, got, want)
		}
	}

	b.fill("#f-password", password)
	if st := b.submit(submitRegister); st != 200 {
		t.Fatalf("register: status %d, error %q", st, j.firstError(b))
	}
	b.shot("register-done")
	if h := b.text("h1"); h != j.T("en", "register_done_title", nil) {
		t.Fatalf("after registering, heading %q, want %q", h, j.T("en", "register_done_title", nil))
	}
	if body := b.text("main"); !strings.Contains(body, email) {
		t.Errorf("the confirmation page does not name %s: %q", email, body)
	}

	// The link in the message, opened in the browser.
	link := j.srv.verificationPath(t, email)
	b.open(link)
	if h := b.text("h1"); h != j.T("en", "verify_title", nil) {
		t.Fatalf("confirmation page heading %q", h)
	}
	b.shot("verify-email")
	if st := b.submit(`main form[action^="/verify-email/"] button[type=submit]`); st != 200 {
		t.Fatalf("confirm e-mail: status %d", st)
	}
	b.expectPath("/")
	if f := b.text(".flash"); f != j.T("en", "flash_email_verified", nil) {
		t.Errorf("after confirming, the message is %q", f)
	}
	b.shot("email-confirmed")

	j.signIn(b, "login-new-applicant", email, password)
	b.expectPath("/")
	if h := b.text("h1"); h != j.T("en", "home_welcome", map[string]any{"Name": name}) {
		t.Errorf("home heading %q", h)
	}
	if orgs := b.text("main ul.cards"); !strings.Contains(orgs, orgName) {
		t.Errorf("home page lists organisations %q, want %q", orgs, orgName)
	}
	if b.has("main .notice form[action='/account/verification']") {
		t.Error("home page still asks to confirm the e-mail address")
	}
	b.shot("home-new-applicant")
}

// signInWithTOTP: the administrator's first sign-in sets up the second
// factor; the next one asks for a code.
func (j *journeys) signInWithTOTP(t *testing.T) {
	b := newBrowser(t, j.srv.URL)
	admin := j.srv.account(t, adminEmail)

	j.signIn(b, "login", adminEmail, admin.Password)
	b.expectPath("/account/totp")
	lang := b.lang()
	if h := b.text("h1"); h != j.T(lang, "totp_setup_title", nil) {
		t.Errorf("set-up heading %q (lang %s)", h, lang)
	}
	if !b.has(`img[src^="data:image/png"]`) {
		t.Error("no QR code on the set-up page")
	}
	b.shot("totp-setup")
	j.admin.secret = b.text("#totp-secret")
	if j.admin.secret == "" {
		t.Fatal("no secret in #totp-secret")
	}
	// Trying to go elsewhere first leads back to the set-up.
	b.open("/account")
	b.expectPath("/account/totp")

	b.fill("#f-code", j.admin.code())
	if st := b.submit(`main form[action="/account/totp"] button[type=submit]`); st != 200 {
		t.Fatalf("confirm two-step sign-in: status %d, error %q", st, j.firstError(b))
	}
	// Signed in: the account page says two-step sign-in is on.
	b.expectPath("/account")
	if f, want := b.text(".flash"), j.T(lang, "flash_totp_enabled", nil); f != want {
		t.Errorf("after confirming the code, the message is %q, want %q", f, want)
	}
	b.shot("totp-enabled")
	b.open("/")
	b.expectPath("/")
	if !b.has("#sign-out") || !b.has(`nav a[href="/admin/users"]`) {
		t.Fatal("after setting up two-step sign-in, the administrator is not signed in with the admin menu")
	}
	b.shot("home-admin")

	if st := b.submit("#sign-out"); st != 200 {
		t.Fatalf("sign out: status %d", st)
	}
	b.expectPath("/")
	if b.has("#sign-out") {
		t.Fatal("still signed in after signing out")
	}
	b.shot("signed-out")

	j.signIn(b, "login-again", adminEmail, admin.Password)
	b.expectPath("/login/totp")
	b.shot("login-totp")
	// A wrong code is refused with a message at the field.
	b.fill("#f-code", "000000")
	if st := b.submit(`main form[action="/login/totp"] button[type=submit]`); st != 422 {
		t.Fatalf("wrong code: status %d, want 422", st)
	}
	if !b.has("#e-code") {
		t.Error("no message at the code field after a wrong code")
	}
	b.shot("login-totp-wrong-code")
	b.fill("#f-code", j.admin.code())
	if st := b.submit(`main form[action="/login/totp"] button[type=submit]`); st != 200 {
		t.Fatalf("enter code: status %d, error %q", st, j.firstError(b))
	}
	b.expectPath("/")
	if !b.has("#sign-out") {
		t.Fatal("not signed in after the code")
	}
	b.shot("home-admin-again")
}

// switchLanguage: the switcher on /login turns the page French (by the
// script on change) and Spanish (by the Apply button, without JavaScript),
// and the Spanish-speaking applicant's home page is in Spanish.
func (j *journeys) switchLanguage(t *testing.T) {
	b := newBrowser(t, j.srv.URL)
	b.open("/login")
	if l := b.lang(); l != "en" {
		t.Fatalf("/login opens in %q, want en", l)
	}
	if h := b.text("h1"); h != j.T("en", "login_title", nil) {
		t.Errorf("English heading %q", h)
	}
	if d := js[string](b, `getComputedStyle(document.querySelector("form.language button")).display`); d != "none" {
		t.Errorf("with JavaScript on, the Apply button shows (display %q); the select submits itself", d)
	}
	b.shot("login-en")

	// Picking Français submits the form by itself.
	if st := b.navigate("choose Français", b.choose("#language-select", "fr")); st != 200 {
		t.Fatalf("switch to French: status %d", st)
	}
	b.expectPath("/login")
	if l := b.lang(); l != "fr" {
		t.Fatalf(`after choosing Français, <html lang=%q>`, l)
	}
	if h, want := b.text("h1"), j.T("fr", "login_title", nil); h != want {
		t.Errorf("French heading %q, want %q", h, want)
	}
	if v := b.value("#language-select"); v != "fr" {
		t.Errorf("language select shows %q", v)
	}
	b.shot("login-fr")

	// Without JavaScript the Apply button does it.
	b.step("turn JavaScript off", scriptsDisabled(true))
	b.open("/login")
	if d := js[string](b, `getComputedStyle(document.querySelector("form.language button")).display`); d == "none" {
		t.Fatal("without JavaScript the Apply button is hidden")
	}
	b.step("choose Español", chromedp.SetValue(chromedp.CSS("#language-select"), "es"))
	if st := b.submit("form.language button[type=submit]"); st != 200 {
		t.Fatalf("apply Spanish: status %d", st)
	}
	b.expectPath("/login")
	if l := b.lang(); l != "es" {
		t.Fatalf(`after applying Español, <html lang=%q>`, l)
	}
	if h, want := b.text("h1"), j.T("es", "login_title", nil); h != want {
		t.Errorf("Spanish heading %q, want %q", h, want)
	}
	b.shot("login-es-no-javascript")
	b.step("turn JavaScript on", scriptsDisabled(false))

	applicant := j.srv.account(t, spanishApplicantEmail)
	j.signIn(b, "login-es", applicant.Email, applicant.Password)
	b.expectPath("/")
	if l := b.lang(); l != "es" {
		t.Errorf(`home page of the Spanish-speaking applicant: <html lang=%q>`, l)
	}
	if h, want := b.text("main h2"), j.T("es", "home_organisations", nil); h != want {
		t.Errorf("home section heading %q, want %q", h, want)
	}
	if s, want := b.text("#sign-out"), j.T("es", "nav_sign_out", nil); s != want {
		t.Errorf("sign-out button %q, want %q", s, want)
	}
	b.shot("home-applicant-es")
}

// adminRoleGrant: the administrator finds the evaluator, grants the mentor
// role for a facility, sees it, revokes it and sees it gone.
func (j *journeys) adminRoleGrant(t *testing.T) {
	b := newBrowser(t, j.srv.URL)
	j.signInStaff(b, adminEmail, j.admin)
	const (
		role   = "mentor"
		domain = "facility:skills_lifelong_learning"
	)

	b.open("/admin/users?q=" + evaluatorEmail)
	lang := b.lang()
	b.shot("admin-users")
	// The link to the evaluator's page, in the row that names them.
	href := js[string](b, fmt.Sprintf(`(() => {
		for (const a of document.querySelectorAll('main a[href^="/admin/users/"]')) {
			const row = a.closest("tr, li") || a;
			if (row.textContent.includes(%q)) return a.getAttribute("href");
		}
		return "";
	})()`, evaluatorEmail))
	if href == "" {
		t.Fatalf("no link to %s on /admin/users?q=%s", evaluatorEmail, evaluatorEmail)
	}
	if st := b.navigate("open "+href, chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href=%q]`, href)))); st != 200 {
		t.Fatalf("open %s: status %d", href, st)
	}
	b.expectPath(href)
	if !strings.Contains(b.text("main"), evaluatorEmail) {
		t.Fatalf("%s does not show %s", href, evaluatorEmail)
	}
	b.shot("admin-user-evaluator")
	if j.grantShown(b, role, domain) {
		t.Fatalf("%s holds %s in %s before the grant", evaluatorEmail, role, domain)
	}

	grantForm := `main form[action="/admin/roles"]`
	b.step("choose role and facility",
		b.choose(grantForm+` select[name="role"]`, role),
		b.choose(grantForm+` select[name="domain"]`, domain))
	b.shot("admin-grant-filled")
	if st := b.submit(grantForm + ` button[type=submit]`); st != 200 {
		t.Fatalf("grant: status %d, error %q", st, j.firstError(b))
	}
	b.expectPath(href)
	if !j.grantShown(b, role, domain) {
		t.Fatalf("after the grant, %s is not listed with %s in %s", evaluatorEmail, role, domain)
	}
	if !strings.Contains(b.text("main"), j.T(lang, "role_"+role, nil)) {
		t.Errorf("the role's name %q is not on the page", j.T(lang, "role_"+role, nil))
	}
	b.shot("admin-role-granted")

	// Mark the revoke button of that grant so it can be clicked.
	marked := js[bool](b, fmt.Sprintf(`(() => {
		const f = %s;
		if (!f) return false;
		f.querySelector('button[type=submit], button:not([type])').setAttribute("data-journey", "revoke");
		return true;
	})()`, revokeFormJS(role, domain)))
	if !marked {
		t.Fatal("no revoke button for the new grant")
	}
	b.takeDialogs()
	if st := b.submit(`[data-journey="revoke"]`); st != 200 {
		t.Fatalf("revoke: status %d, error %q", st, j.firstError(b))
	}
	b.expectPath(href)
	if j.grantShown(b, role, domain) {
		t.Fatalf("after revoking, %s is still listed with %s in %s", evaluatorEmail, role, domain)
	}
	// The evaluator's own grant is untouched.
	if !j.grantShown(b, "evaluator", "facility:sustainable_enterprises") {
		t.Errorf("revoking the mentor role removed the evaluator role too")
	}
	b.shot("admin-role-revoked")
}

// revokeFormJS is a JavaScript expression for the revoke form of one grant
// (or null).
func revokeFormJS(role, domain string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('main form[action="/admin/roles/revoke"]')].find(f =>
		f.querySelector('input[name="role"][value=%q]') && f.querySelector('input[name="domain"][value=%q]')) || null`, role, domain)
}

// grantShown reports whether the page lists the grant with a way to revoke it.
func (j *journeys) grantShown(b *browser, role, domain string) bool {
	b.t.Helper()
	return js[bool](b, "("+revokeFormJS(role, domain)+") !== null")
}

// scriptsDisabled turns the page's JavaScript off or on, as a person who
// browses without it.
func scriptsDisabled(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	})
}

// phoneLayout: on a phone-sized screen the public pages fit the width (no
// sideways scrolling) and the forms' fields are wide enough to type in.
func (j *journeys) phoneLayout(t *testing.T) {
	b := newBrowser(t, j.srv.URL)
	b.step("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []struct{ path, shot string }{
		{"/", "phone-home"}, {"/login", "phone-login"}, {"/register", "phone-register"},
	} {
		b.open(p.path)
		if over := js[int](b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			t.Errorf("%s is %d px wider than a 390 px phone screen", p.path, over)
		}
		if p.path != "/" {
			if w := js[int](b, `Math.round(document.querySelector("main input:not([type=hidden])").getBoundingClientRect().width)`); w < 250 {
				t.Errorf("%s: the first field is only %d px wide on a phone", p.path, w)
			}
		}
		b.shot(p.shot)
	}
}
