package web_test

import (
	"net/http"
	"strings"
	"testing"

	"facility/internal/apptest"
	"facility/internal/authz"
)

// The policy version that rides along with identifying the visitor keeps
// "no stale allow": a role revoked by another instance (written straight
// to the database, with no notification to this one) is refused on the
// very next request, by bearer token and by session alike, and a grant
// made there is honoured on the next request too.
func TestRoleChangedElsewhereIsEffectiveOnTheNextRequest(t *testing.T) {
	env := apptest.New(t)
	u, secret := env.User("auditor@example.org", authz.RoleAuditor, "system")
	program := token(t, env, u)
	browser := env.Client()
	browser.SignIn("auditor@example.org", secret)
	elsewhere := func(sql string) {
		t.Helper()
		if err := env.DB.Gorm.Exec(sql, authz.Subject(u.ID), authz.RoleAuditor, "system").Error; err != nil {
			t.Fatal(err)
		}
		if err := env.DB.Gorm.Exec("UPDATE policy_version SET version = version + 1 WHERE id = 1").Error; err != nil {
			t.Fatal(err)
		}
	}
	expect := func(when string, want int) {
		t.Helper()
		for name, c := range map[string]*apptest.Client{"bearer token": program, "session": browser} {
			if res := c.JSON(http.MethodGet, "/api/v1/audit", nil, nil); res.StatusCode != want {
				t.Fatalf("%s, %s: %d, want %d", when, name, res.StatusCode, want)
			}
		}
	}
	expect("auditor", http.StatusOK)
	elsewhere("DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 = ? AND v1 = ? AND v2 = ?")
	expect("revoked elsewhere", http.StatusForbidden)
	elsewhere("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('g', ?, ?, ?, '', '', '')")
	expect("granted again elsewhere", http.StatusOK)
}

// A program's Accept-Language wins over the account's language on the API
// (pages keep following the account and the language switch).
func TestAPIAnswersInTheLanguageAsked(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("amina@example.org", "", "")
	if err := env.DB.Gorm.Exec("UPDATE users SET locale = 'es' WHERE id = ?", u.ID).Error; err != nil {
		t.Fatal(err)
	}
	c := token(t, env, u)
	message := func(acceptLanguage string) string {
		t.Helper()
		c.Header.Del("Accept-Language")
		if acceptLanguage != "" {
			c.Header.Set("Accept-Language", acceptLanguage)
		}
		var out struct {
			Error struct {
				Fields []struct{ Field, Message string }
			}
		}
		res := c.JSON(http.MethodPost, "/api/v1/proposals", map[string]any{}, &out)
		if res.StatusCode != http.StatusUnprocessableEntity || len(out.Error.Fields) == 0 {
			t.Fatalf("%q: %d %s", acceptLanguage, res.StatusCode, res.Body)
		}
		return out.Error.Fields[0].Message
	}
	account, fr, en := message(""), message("fr-FR,fr;q=0.9"), message("en")
	if account == fr || fr == en || account == en {
		t.Fatalf("messages: account (es) %q, fr %q, en %q", account, fr, en)
	}
	if !strings.Contains(account, "no se ha encontrado") {
		t.Fatalf("no header: not the account's language (es): %q", account)
	}
}
