package web_test

import (
	"net/http"
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
