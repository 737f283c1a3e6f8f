package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/authz"
	"facility/internal/mail"
)

func TestPasswordsAreArgon2idWithUniqueSalts(t *testing.T) {
	env := apptest.New(t)
	env.User("a@example.org", "", "")
	env.User("b@example.org", "", "")
	var hashes []string
	env.DB.Gorm.Table("users").Order("email").Pluck("password_hash", &hashes)
	if len(hashes) != 2 || !strings.HasPrefix(hashes[0], "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hashes: %q", hashes)
	}
	salt := func(h string) string { return strings.Split(h, "$")[4] }
	if salt(hashes[0]) == salt(hashes[1]) || strings.Contains(hashes[0], apptest.Password) {
		t.Fatal("salts repeat or the password is visible")
	}
}

func TestPasswordRules(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	c.Get("/register")
	for pw, ok := range map[string]bool{
		"password":                 false,
		"Password1":                false,
		"P@ssw0rd2026!":            false,
		"seven77":                  false,
		strings.Repeat("k", 64):    false, // one character repeated
		"unusual cobalt harbour 9": true,
		strings.Repeat("🦜🌍", 100):  true, // 200 emoji, hashed whole
		strings.Repeat("x", 300):   false,
	} {
		v := registration(fmt.Sprintf("u%d@example.org", len(pw)+int(pw[0])))
		v.Set("password", pw)
		res := c.PostForm("/register", v)
		if got := res.StatusCode == http.StatusOK; got != ok {
			t.Errorf("password %.20q accepted=%v, want %v (%s)", pw, got, ok, apptest.FirstError(res.Body))
		}
	}
	// A 64+ character password works whole, not truncated.
	long := "the quick brown fox jumps over the lazy dog while the cat sleeps soundly 1"
	env.User("long@example.org", "", "")
	u, _ := env.Accounts.UserByEmail(t.Context(), "long@example.org")
	if err := env.Accounts.SetPassword(t.Context(), actorFor(u.ID), u.ID, long); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{long, long[:72]} {
		res := env.Client().JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "long@example.org", "password": pw}, nil)
		if (res.StatusCode == http.StatusOK) != (pw == long) {
			t.Errorf("sign-in with %d of %d characters: %d", len(pw), len(long), res.StatusCode)
		}
	}
}

func TestSignInThrottledPerAccountAndRecoverable(t *testing.T) {
	env := apptest.New(t)
	env.User("target@example.org", "", "")
	var last *apptest.Response
	for i := 0; i < 12; i++ {
		c := env.Client()
		c.IP = fmt.Sprintf("198.51.100.%d", i+1) // rotating addresses
		last = c.JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "target@example.org", "password": "wrong password " + fmt.Sprint(i)}, nil)
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after 12 failures from 12 addresses: %d", last.StatusCode)
	}
	// The right password is refused too while throttled, but the owner can reset.
	if res := env.Client().JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "target@example.org", "password": apptest.Password}, nil); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("correct password while throttled: %d", res.StatusCode)
	}
	if res := env.Client().JSON(http.MethodPost, "/api/v1/password-resets", map[string]string{"email": "target@example.org"}, nil); res.StatusCode != http.StatusAccepted {
		t.Fatalf("reset while throttled: %d", res.StatusCode)
	}
	// Failures age out: 20 minutes later the account signs in again.
	env.DB.Gorm.Exec("UPDATE login_attempts SET created_at = ?", time.Now().UTC().Add(-20*time.Minute))
	if res := env.Client().JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "target@example.org", "password": apptest.Password}, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("after the window: %d", res.StatusCode)
	}
}

func TestSignInThrottledPerAddressEvenWithForgedForwardedFor(t *testing.T) {
	env := apptest.New(t)
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		c := env.Client()
		c.IP = "192.0.2.77"
		c.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.1", i, i)) // no proxy in front: ignored
		res := c.JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": fmt.Sprintf("user%d@example.org", i), "password": "whatever it is"}, nil)
		limited = res.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("40 sign-ins for 40 accounts from one address were never limited")
	}
	var n int64
	env.DB.Gorm.Table("login_attempts").Where("ip LIKE ?", "10.%").Count(&n)
	if n != 0 {
		t.Fatalf("%d attempts keyed on the forged X-Forwarded-For", n)
	}
}

func TestSessionsExpireWhenIdleAndAfterTheirLifetime(t *testing.T) {
	env := apptest.New(t)
	env.User("ama@example.org", "", "")
	for _, tc := range []struct {
		name, column string
		value        time.Time
	}{
		{"idle 31 minutes", "last_seen_at", time.Now().UTC().Add(-31 * time.Minute)},
		{"12 hours passed", "expires_at", time.Now().UTC().Add(-time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := env.Client()
			c.SignIn("ama@example.org", "")
			if res := c.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("fresh session: %d", res.StatusCode)
			}
			env.DB.Gorm.Exec("UPDATE sessions SET "+tc.column+" = ? WHERE revoked_at IS NULL", tc.value)
			if res := c.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("expired session: %d", res.StatusCode)
			}
			if res := c.Get("/account"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
				t.Fatalf("page with expired session: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}

func TestPasswordResetLinkIsSingleUseExpiresAndKeepsSecondFactor(t *testing.T) {
	env := apptest.New(t)
	_, secret := env.User("eval@example.org", authz.RoleEvaluator, authz.FacilityDomain("skills_lifelong_learning"))
	link := func() string {
		c := env.Client()
		c.Get("/forgot-password")
		if res := c.PostForm("/forgot-password", url.Values{"email": {"eval@example.org"}}); res.StatusCode != http.StatusOK {
			t.Fatalf("request reset: %d", res.StatusCode)
		}
		msgs, _ := mail.Outbox(t.Context(), env.DB.Gorm, "eval@example.org", 1)
		i := strings.Index(msgs[0].Body, "/reset-password/")
		return strings.Fields(msgs[0].Body[i:])[0]
	}
	// An unknown address gets the same answer and no mail.
	c := env.Client()
	c.Get("/forgot-password")
	if res := c.PostForm("/forgot-password", url.Values{"email": {"nobody@example.org"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("unknown address: %d", res.StatusCode)
	}
	l := link()
	if len(strings.TrimPrefix(l, "/reset-password/")) < 43 {
		t.Fatalf("reset token shorter than 256 bits: %q", l)
	}
	c.Get(l)
	if res := c.PostForm(l, url.Values{"password": {"a brand new passphrase"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if res := c.PostForm(l, url.Values{"password": {"another new passphrase"}}); res.StatusCode != http.StatusGone {
		t.Fatalf("second use: %d", res.StatusCode)
	}
	// Signing in with the new password still asks for the second factor.
	c2 := env.Client()
	c2.Get("/login")
	res := c2.PostForm("/login", url.Values{"email": {"eval@example.org"}, "password": {"a brand new passphrase"}})
	if res.Header.Get("Location") != "/login/totp" {
		t.Fatalf("reset skipped the second factor: %s", res.Header.Get("Location"))
	}
	_ = secret
	// A link older than 60 minutes no longer works.
	l = link()
	env.DB.Gorm.Exec("UPDATE email_tokens SET expires_at = ? WHERE purpose = 'reset' AND used_at IS NULL", time.Now().UTC().Add(-time.Minute))
	c.Get(l)
	if res := c.PostForm(l, url.Values{"password": {"yet another passphrase"}}); res.StatusCode != http.StatusGone {
		t.Fatalf("expired link: %d", res.StatusCode)
	}
}

func TestAPITokens(t *testing.T) {
	env := apptest.New(t)
	env.User("prog@example.org", "", "")
	c := env.Client()
	c.SignIn("prog@example.org", "")
	var created struct {
		Token   string `json:"token"`
		Details struct {
			ID string `json:"id"`
		} `json:"details"`
	}
	if res := c.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "reporting script", "days": 30}, &created); res.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", res.StatusCode, res.Body)
	}
	var stored int64
	env.DB.Gorm.Table("api_tokens").Where("token_hash = ?", created.Token).Count(&stored)
	if stored != 0 || !strings.HasPrefix(created.Token, "fac_") {
		t.Fatal("token stored in clear")
	}
	prog := env.Client()
	prog.Header.Set("Authorization", "Bearer "+created.Token)
	if res := prog.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("bearer: %d", res.StatusCode)
	}
	// No CSRF token needed for a program, but a token cannot mint tokens.
	if res := prog.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "x", "days": 1}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("token minting a token: %d", res.StatusCode)
	}
	if res := c.JSON(http.MethodDelete, "/api/v1/me/tokens/"+created.Details.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res := prog.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", res.StatusCode)
	}
	for _, bad := range []map[string]any{{"name": "", "days": 30}, {"name": "x", "days": 0}, {"name": "x", "days": 400}, {"name": "x", "days": "thirty"}, {"name": "x", "days": 3, "admin": true}} {
		var e struct {
			Error struct {
				Fields []struct{ Field, Message string } `json:"fields"`
			} `json:"error"`
		}
		if res := c.JSON(http.MethodPost, "/api/v1/me/tokens", bad, &e); res.StatusCode != http.StatusUnprocessableEntity || len(e.Error.Fields) == 0 || e.Error.Fields[0].Message == "" {
			t.Errorf("bad token input %v: %d %s", bad, res.StatusCode, res.Body)
		}
	}
}

func TestLimitsAndErrorsRevealNothing(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	big := strings.Repeat("a", int(env.Config.MaxBodyBytes)+1)
	if res := c.Do(http.MethodPost, "/api/v1/session", strings.NewReader(big), "application/json"); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", res.StatusCode)
	}
	if res := c.Do(http.MethodPost, "/api/v1/session", strings.NewReader(`{"email": "a@b.org", "password": `), "application/json"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("broken JSON: %d", res.StatusCode)
	}
	// A database failure answers a generic 500 with a request id and no internals.
	env.DB.Gorm.Exec("DROP TABLE login_attempts")
	res := c.JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "a@example.org", "password": "whatever it is"}, nil)
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(res.Body, `"request_id"`) ||
		strings.Contains(strings.ToLower(res.Body), "login_attempts") || strings.Contains(res.Body, "sql") {
		t.Fatalf("database error: %d %s", res.StatusCode, res.Body)
	}
}

func TestSignInAndFailuresAreAudited(t *testing.T) {
	env := apptest.New(t)
	env.User("ama@example.org", "", "")
	c := env.Client()
	c.JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "ama@example.org", "password": "not the right one"}, nil)
	c.JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "ama@example.org", "password": apptest.Password}, nil)
	var rows []struct{ Action, IP, RequestID string }
	env.DB.Gorm.Table("audit_log").Where("action LIKE 'session.%'").Order("seq").Find(&rows)
	if len(rows) != 2 || rows[0].Action != "session.login_failed" || rows[1].Action != "session.login" ||
		rows[1].IP != "203.0.113.10" || rows[1].RequestID == "" {
		t.Fatalf("audit rows: %+v", rows)
	}
}

func TestAPIRefusesInvalidUTF8(t *testing.T) {
	env := apptest.New(t)
	res := env.Client().Do(http.MethodPost, "/api/v1/session", strings.NewReader("{\"email\": \"a\xff@example.org\", \"password\": \"x\"}"), "application/json")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"invalid_utf8"`) {
		t.Fatalf("invalid UTF-8: %d %s", res.StatusCode, res.Body)
	}
}
