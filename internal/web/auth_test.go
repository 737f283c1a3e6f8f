package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/mail"
)

func registration(email string) url.Values {
	return url.Values{
		"name": {"Ama Owusu"}, "email": {email}, "password": {"a long and unusual passphrase"},
		"organisation_name": {"Ghana Cocoa Workers' Cooperative"}, "organisation_type": {"cooperative"},
		"organisation_country": {"GH"}, "organisation_year_founded": {"2004"}, "organisation_website": {"https://cocoa.example.org"},
	}
}

func TestRegisterVerifySignInSignOut(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	if res := c.Get("/register"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Ghana") {
		t.Fatalf("register page: %d", res.StatusCode)
	}
	res := c.PostForm("/register", registration("Ama@Example.org"))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "ama@example.org") {
		t.Fatalf("register: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	u, err := env.Accounts.UserByEmail(t.Context(), "ama@example.org")
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := env.Organisations.ForUser(t.Context(), u.ID)
	if err != nil || len(orgs) != 1 || orgs[0].Role != "owner" {
		t.Fatalf("organisation not created with its owner: %+v %v", orgs, err)
	}
	if ok, _ := env.Authz.Allowed(u.ID, authz.OrgDomain(orgs[0].ID), "proposal", "submit"); !ok {
		t.Fatal("owner cannot act for the organisation")
	}
	msgs, err := mail.Outbox(t.Context(), env.DB.Gorm, "ama@example.org", 10)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != "verify_email" {
		t.Fatalf("verification mail: %+v %v", msgs, err)
	}
	link := msgs[0].Body[strings.Index(msgs[0].Body, "http://facility.test/verify-email/"):]
	link = strings.TrimPrefix(strings.Fields(link)[0], "http://facility.test")
	if res := c.Get(link); res.StatusCode != http.StatusOK {
		t.Fatalf("verification page: %d", res.StatusCode)
	}
	if u2, _ := env.Accounts.User(t.Context(), u.ID); u2.EmailVerifiedAt != nil {
		t.Fatal("a GET verified the address")
	}
	if res := c.PostForm(link, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("verify: %d", res.StatusCode)
	}
	if res := c.PostForm(link, nil); res.StatusCode != http.StatusGone {
		t.Fatalf("second use of the link: %d", res.StatusCode)
	}

	// Sign in: a new session cookie, with the attributes browsers enforce.
	c2 := env.Client()
	c2.Get("/login")
	res = c2.PostForm("/login", url.Values{"email": {"ama@example.org"}, "password": {"a long and unusual passphrase"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	var sc *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-facility_session" {
			sc = ck
		}
	}
	if sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie attributes: %+v", sc)
	}
	if res := c2.Get("/"); !strings.Contains(res.Body, "Ghana Cocoa Workers") {
		t.Fatal("home does not show the organisation")
	}
	old := c2.Cookie("__Host-facility_session")
	c2.PostForm("/logout", nil)
	replay := env.Client()
	replay.SetCookie("__Host-facility_session", old)
	if res := replay.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed cookie after sign-out: %d", res.StatusCode)
	}
}

func TestRegisterRefusesBadInputAndWritesNothing(t *testing.T) {
	env := apptest.New(t)
	cases := map[string]struct {
		field, value, wantField string
	}{
		"short password":  {"password", "Short1!", "password"},
		"common password": {"password", "Password123!", "password"},
		"bad email":       {"email", "not-an-email", "email"},
		"NUL in name":     {"name", "Ama\x00", "name"},
		"bidi override":   {"organisation_name", "Union \u202eevil", "organisation_name"},
		"invalid UTF-8":   {"name", "\xff\xfe", "name"},
		"unknown type":    {"organisation_type", "pirates", "organisation_type"},
		"unknown country": {"organisation_country", "ZZ", "organisation_country"},
		"future year":     {"organisation_year_founded", "2999", "organisation_year_founded"},
		"year not number": {"organisation_year_founded", "nineteen", "organisation_year_founded"},
		"javascript url":  {"organisation_website", "javascript:alert(1)", "organisation_website"},
		"name too long":   {"name", strings.Repeat("a", 201), "name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := env.Client()
			c.Get("/register")
			v := registration("x" + strings.ReplaceAll(name, " ", "") + "@example.org")
			v.Set(tc.field, tc.value)
			res := c.PostForm("/register", v)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", res.StatusCode)
			}
			if !strings.Contains(res.Body, `id="e-`+tc.wantField+`"`) && !strings.Contains(res.Body, `href="#f-`+tc.wantField+`"`) {
				t.Fatalf("no error on field %s: %s", tc.wantField, apptest.FirstError(res.Body))
			}
		})
	}
	var n int64
	env.DB.Gorm.Table("users").Count(&n)
	if n != 0 {
		t.Fatalf("%d users written by refused registrations", n)
	}
	env.DB.Gorm.Table("organisations").Count(&n)
	if n != 0 {
		t.Fatalf("%d organisations written by refused registrations", n)
	}
}

func TestStaffNeedSecondFactorAndCodesWorkOnce(t *testing.T) {
	env := apptest.New(t)
	_, secret := env.User("manager@example.org", authz.RoleManager, authz.FacilityDomain("sustainable_enterprises"))
	c := env.Client()
	c.Get("/login")
	res := c.PostForm("/login", url.Values{"email": {"manager@example.org"}, "password": {apptest.Password}})
	if res.Header.Get("Location") != "/login/totp" {
		t.Fatalf("manager signed in without a second factor: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	before := c.Cookie("__Host-facility_session")
	if res := c.Get("/account"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login/totp" {
		t.Fatalf("account page reachable before the second factor: %d", res.StatusCode)
	}
	code := apptest.Code(secret, time.Now())
	if res := c.PostForm("/login/totp", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code refused: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if c.Cookie("__Host-facility_session") == before {
		t.Fatal("session token not renewed after the second factor")
	}
	// The same code a second time, on a second sign-in, is refused.
	c2 := env.Client()
	c2.Get("/login")
	c2.PostForm("/login", url.Values{"email": {"manager@example.org"}, "password": {apptest.Password}})
	res = c2.PostForm("/login/totp", url.Values{"code": {code}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "already used") {
		t.Fatalf("replayed code: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	env := apptest.New(t)
	env.User("ama@example.org", "", "")
	c := env.Client()
	c.SignIn("ama@example.org", "")
	for _, mode := range []string{"cross-site", "no fetch metadata, no token"} {
		evil := *c
		if mode == "cross-site" {
			evil.CrossSite = true
		} else {
			evil.NoFetchMetadata = true
		}
		res := evil.Do(http.MethodPost, "/account/profile", strings.NewReader("name=Hacked&locale=en&timezone=UTC"), "application/x-www-form-urlencoded")
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: status %d", mode, res.StatusCode)
		}
	}
	u, _ := env.Accounts.UserByEmail(t.Context(), "ama@example.org")
	if u.Name == "Hacked" {
		t.Fatal("cross-site request changed the profile")
	}
}

func TestSecurityHeadersAndPaths(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	res := c.Get("/login")
	for h, want := range map[string]string{
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Cache-Control":             "no-store",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP: %q", csp)
	}
	for _, p := range []string{"/static/..%2f..%2fetc/passwd", "/static/%2e%2e/go.mod", "/.git/config", "/admin%2Fsecret", "/static/"} {
		if res := c.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	if res := c.Do("TRACE", "/", nil, ""); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("TRACE: %d", res.StatusCode)
	}
	if res := c.Get("/static/facility.css"); res.StatusCode != http.StatusOK {
		t.Errorf("stylesheet: %d", res.StatusCode)
	}
}

func actorFor(userID string) audit.Actor {
	return audit.Actor{UserID: userID, IP: "127.0.0.1", RequestID: "test"}
}

func TestLanguageSwitchReturnsToAPage(t *testing.T) {
	env := apptest.New(t)
	env.User("ama@example.org", "", "")
	c := env.Client()
	c.SignIn("ama@example.org", "")
	for back, want := range map[string]string{
		"/account/profile":     "/account",
		"/account":             "/account",
		"/login":               "/login",
		"//evil.example/x":     "/",
		"https://evil.example": "/",
		"/nowhere/at/all":      "/",
	} {
		res := c.PostForm("/language", url.Values{"lang": {"fr"}, "back": {back}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("back %q: %d -> %q, want %q", back, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	if res := c.Get("/account"); !strings.Contains(res.Body, `<html lang="fr">`) {
		t.Fatal("language not switched")
	}
	if res := c.PostForm("/language", url.Values{"lang": {"de"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unsupported language: %d", res.StatusCode)
	}
}
