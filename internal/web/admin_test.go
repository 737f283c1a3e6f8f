package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"facility/internal/accounts"
	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
)

const (
	facilityA = "sustainable_enterprises"
	facilityB = "skills_lifelong_learning"
)

// token gives a client a personal API token of user, as a program would use.
func token(t *testing.T, env *apptest.Env, u *accounts.User) *apptest.Client {
	t.Helper()
	tok, _, err := env.Accounts.CreateAPIToken(t.Context(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"}, "test", 30)
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	c.Header.Set("Authorization", "Bearer "+tok)
	return c
}

// signedIn returns a browser signed in as a new user holding role in domain.
func signedIn(t *testing.T, env *apptest.Env, email, role, domain string) (*apptest.Client, *accounts.User) {
	t.Helper()
	u, secret := env.User(email, role, domain)
	c := env.Client()
	c.SignIn(email, secret)
	return c, u
}

func countGrants(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var n int64
	if err := env.DB.Gorm.Table("casbin_rule").Where("ptype = 'g'").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func records(t *testing.T, env *apptest.Env, f audit.Filter) []audit.Record {
	t.Helper()
	f.Limit = 500
	rs, err := audit.List(t.Context(), env.DB.Gorm, f)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestAuthorisationMatrix checks every role against every guarded action:
// the enforcer answers exactly the allowed cells, and the HTTP endpoints that
// exist answer 2xx exactly there and 403 elsewhere.
func TestAuthorisationMatrix(t *testing.T) {
	env := apptest.New(t)
	_, orgX := env.Applicant("owner@example.org", "Coop X")
	_, orgY := env.Applicant("other-owner@example.org", "Coop Y")
	target, _ := env.User("target@example.org", "", "")

	type person struct {
		name, role, domain string
	}
	people := []person{
		{"admin", authz.RoleAdmin, "system"},
		{"auditor", authz.RoleAuditor, "system"},
		{"manager A", authz.RoleManager, authz.FacilityDomain(facilityA)},
		{"evaluator A", authz.RoleEvaluator, authz.FacilityDomain(facilityA)},
		{"mentor A", authz.RoleMentor, authz.FacilityDomain(facilityA)},
		{"donor A", authz.RoleDonor, authz.FacilityDomain(facilityA)},
		{"org owner", "", ""}, // owner@example.org, owner of X through registration
		{"org member", authz.RoleOrgMember, authz.OrgDomain(orgX)},
		{"no role", "", ""},
	}
	type action struct {
		name             string
		dom, obj, act    string
		allowed          []string
		method, path     string // HTTP check, when an endpoint exists
		body             any
		viaPage, hideAPI bool
	}
	fa, fb := authz.FacilityDomain(facilityA), authz.FacilityDomain(facilityB)
	grantBody := map[string]string{"user_id": target.ID, "role": authz.RoleMentor, "domain": fa}
	actions := []action{
		{name: "role grant", dom: "system", obj: authz.ObjRole, act: "grant", allowed: []string{"admin"},
			method: http.MethodPost, path: "/api/v1/admin/roles", body: grantBody},
		{name: "user disable", dom: "system", obj: authz.ObjUser, act: authz.ActManage, allowed: []string{"admin"},
			method: http.MethodPost, path: "/api/v1/admin/users/" + target.ID + "/disable"},
		{name: "audit read", dom: "system", obj: authz.ObjAudit, act: authz.ActRead, allowed: []string{"admin", "auditor"},
			method: http.MethodGet, path: "/api/v1/audit"},
		{name: "audit export", dom: "system", obj: authz.ObjAudit, act: authz.ActExport, allowed: []string{"admin", "auditor"},
			method: http.MethodGet, path: "/audit.csv", viaPage: true},
		// The outbox holds live links: reading it is a management act.
		{name: "outbox read", dom: "system", obj: authz.ObjOutbox, act: authz.ActManage, allowed: []string{"admin"},
			method: http.MethodGet, path: "/api/v1/admin/outbox"},
		{name: "call create in A", dom: fa, obj: authz.ObjCall, act: authz.ActCreate, allowed: []string{"admin", "manager A"}},
		{name: "call create in B", dom: fb, obj: authz.ObjCall, act: authz.ActCreate, allowed: []string{"admin"}},
		// Reading every proposal of a facility; evaluators and mentors reach
		// only their assigned ones, through domain checks.
		{name: "proposal read in A", dom: fa, obj: authz.ObjProposal, act: authz.ActRead,
			allowed: []string{"admin", "auditor", "manager A"}},
		{name: "review score in A", dom: fa, obj: authz.ObjReview, act: authz.ActScore, allowed: []string{"admin", "evaluator A"}},
		{name: "report read in A", dom: fa, obj: authz.ObjReport, act: authz.ActRead, allowed: []string{"admin", "auditor", "manager A", "donor A"}},
		{name: "organisation update, own", dom: authz.OrgDomain(orgX), obj: authz.ObjOrganisation, act: authz.ActUpdate, allowed: []string{"org owner"}},
		{name: "organisation update, other", dom: authz.OrgDomain(orgY), obj: authz.ObjOrganisation, act: authz.ActUpdate, allowed: nil},
	}
	users := map[string]*accounts.User{}
	for i, p := range people {
		switch p.name {
		case "org owner":
			users[p.name], _ = env.Accounts.UserByEmail(t.Context(), "owner@example.org")
		default:
			users[p.name], _ = env.User(fmt.Sprintf("person%d@example.org", i), p.role, p.domain)
		}
	}
	for _, p := range people {
		for _, a := range actions {
			want := false
			for _, n := range a.allowed {
				want = want || n == p.name
			}
			got, err := env.Authz.Allowed(users[p.name].ID, a.dom, a.obj, a.act)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("enforcer: %s / %s: allowed %v, want %v", p.name, a.name, got, want)
			}
			if a.path == "" {
				continue
			}
			c := token(t, env, users[p.name])
			res := c.JSON(a.method, a.path, a.body, nil)
			ok := res.StatusCode >= 200 && res.StatusCode < 300
			if ok != want || (!want && res.StatusCode != http.StatusForbidden) {
				t.Errorf("HTTP %s %s as %s: status %d, allowed %v", a.method, a.path, p.name, res.StatusCode, want)
			}
		}
		// Undo what the allowed requests changed, so every row starts alike.
		if err := env.Accounts.SetDisabled(t.Context(), audit.Actor{}, target.ID, false); err != nil {
			t.Fatal(err)
		}
		_ = env.Authz.Revoke(t.Context(), audit.Actor{}, authz.Grant{UserID: target.ID, Role: authz.RoleMentor, Domain: fa})
	}

	// The pages: administration for administrators only, the audit log for
	// auditors too; each refusal is a 403 and is itself audited.
	for i, p := range people {
		u, secret := env.User(fmt.Sprintf("browser%d@example.org", i), p.role, p.domain)
		if p.name == "org owner" || p.name == "org member" {
			if err := env.Authz.Grant(t.Context(), audit.Actor{}, authz.Grant{UserID: u.ID, Role: map[string]string{
				"org owner": authz.RoleOrgOwner, "org member": authz.RoleOrgMember}[p.name], Domain: authz.OrgDomain(orgX)}); err != nil {
				t.Fatal(err)
			}
		}
		c := env.Client()
		c.SignIn(u.Email, secret)
		for path, allowed := range map[string][]string{
			"/admin/users":              {"admin"},
			"/admin/users/" + target.ID: {"admin"},
			"/admin/outbox":             {"admin"},
			"/audit":                    {"admin", "auditor"},
		} {
			want := http.StatusForbidden
			for _, n := range allowed {
				if n == p.name {
					want = http.StatusOK
				}
			}
			res := c.Get(path)
			if res.StatusCode != want {
				t.Errorf("page %s as %s: status %d, want %d", path, p.name, res.StatusCode, want)
			}
			if want == http.StatusForbidden {
				denials := records(t, env, audit.Filter{ActorID: u.ID, Action: "authz.deny", ObjectID: path})
				if len(denials) != 1 {
					t.Errorf("page %s as %s: %d denial records, want 1", path, p.name, len(denials))
				}
			}
		}
	}
}

func TestGrantAndRevokeThroughPagesAndAPI(t *testing.T) {
	env := apptest.New(t)
	admin, _ := signedIn(t, env, "admin@example.org", authz.RoleAdmin, "system")
	api := token(t, env, mustUser(t, env, "admin@example.org"))
	u, _ := env.User("evaluator@example.org", "", "")
	fa := authz.FacilityDomain(facilityA)

	page := admin.Get("/admin/users/" + u.ID)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `value="facility:`+facilityA+`"`) || !strings.Contains(page.Body, "Sustainable enterprises") {
		t.Fatalf("user page lacks the facility select: %d", page.StatusCode)
	}
	res := admin.PostForm("/admin/roles", url.Values{"user_id": {u.ID}, "role": {authz.RoleEvaluator}, "domain": {fa}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("grant: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if ok, _ := env.Authz.Allowed(u.ID, fa, authz.ObjReview, authz.ActScore); !ok {
		t.Fatal("granted evaluator cannot score")
	}
	var out struct{ Roles []authz.Grant }
	api.JSON(http.MethodGet, "/api/v1/admin/roles?user_id="+u.ID, nil, &out)
	if len(out.Roles) != 1 || out.Roles[0].Role != authz.RoleEvaluator || out.Roles[0].Domain != fa {
		t.Fatalf("grants listed: %+v", out.Roles)
	}
	if !strings.Contains(admin.Get("/admin/users?q=EVALUATOR").Body, "Evaluator") {
		t.Fatal("search by e-mail does not list the person with their role")
	}

	// Wildcards and malformed scopes are refused, field by field, and write nothing.
	before := countGrants(t, env)
	for _, d := range []string{"facility:*", "org:1*", "system ", "facility:../x", "facility:" + facilityA + " ", "*", ""} {
		var e struct {
			Error struct {
				Fields []struct{ Field, Code, Message string }
			}
		}
		res := api.JSON(http.MethodPost, "/api/v1/admin/roles", map[string]string{"user_id": u.ID, "role": authz.RoleManager, "domain": d}, &e)
		if res.StatusCode != http.StatusUnprocessableEntity || len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "domain" ||
			!strings.Contains(e.Error.Fields[0].Message, "Scope") {
			t.Errorf("domain %q: %d %+v", d, res.StatusCode, e.Error.Fields)
		}
	}
	for _, d := range []string{"system ", "system:*"} {
		res := api.JSON(http.MethodPost, "/api/v1/admin/roles", map[string]string{"user_id": u.ID, "role": authz.RoleAdmin, "domain": d}, nil)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("admin in %q: %d", d, res.StatusCode)
		}
	}
	res = api.JSON(http.MethodPost, "/api/v1/admin/roles", map[string]string{"user_id": u.ID, "role": authz.RoleOrgOwner, "domain": "org:" + database.NewID()}, nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"field":"role"`) {
		t.Errorf("organisation role granted by hand: %d %s", res.StatusCode, res.Body)
	}
	res = admin.PostForm("/admin/roles", url.Values{"user_id": {u.ID}, "role": {authz.RoleManager}, "domain": {"facility:*"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-domain"`) {
		t.Errorf("page form with a wildcard: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if n := countGrants(t, env); n != before {
		t.Fatalf("refused grants wrote %d rows", n-before)
	}

	// Revoke through the page, then through the API (DELETE with a body).
	res = admin.PostForm("/admin/roles/revoke", url.Values{"user_id": {u.ID}, "role": {authz.RoleEvaluator}, "domain": {fa}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if ok, _ := env.Authz.Allowed(u.ID, fa, authz.ObjReview, authz.ActScore); ok {
		t.Fatal("revoked evaluator can still score")
	}
	api.JSON(http.MethodPost, "/api/v1/admin/roles", map[string]string{"user_id": u.ID, "role": authz.RoleMentor, "domain": fa}, nil)
	if res := api.JSON(http.MethodDelete, "/api/v1/admin/roles", map[string]string{"user_id": u.ID, "role": authz.RoleMentor, "domain": fa}, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("API revoke: %d %s", res.StatusCode, res.Body)
	}
	if res := api.JSON(http.MethodDelete, "/api/v1/admin/roles", map[string]string{"user_id": u.ID, "role": authz.RoleMentor, "domain": fa}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("revoking a role not held: %d", res.StatusCode)
	}
	self := mustUser(t, env, "admin@example.org")
	if res := api.JSON(http.MethodDelete, "/api/v1/admin/roles", map[string]string{"user_id": self.ID, "role": authz.RoleAdmin, "domain": "system"}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an administrator revoked their own role: %d", res.StatusCode)
	}
	if res := api.JSON(http.MethodPost, "/api/v1/admin/users/"+self.ID+"/disable", nil, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an administrator disabled their own account: %d", res.StatusCode)
	}
}

func mustUser(t *testing.T, env *apptest.Env, email string) *accounts.User {
	t.Helper()
	u, err := env.Accounts.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRevocationReachesAnotherInstance runs two applications on one
// database: a role revoked on the first is refused by the second on its next
// request, with no cached allow.
func TestRevocationReachesAnotherInstance(t *testing.T) {
	cfg := apptest.Config(t)
	one := apptest.NewWithConfig(t, cfg)
	two := apptest.NewWithConfig(t, cfg)
	admin, _ := signedIn(t, one, "admin@example.org", authz.RoleAdmin, "system")
	other, secret := one.User("other-admin@example.org", authz.RoleAdmin, "system")
	auditor, auditorSecret := one.User("auditor@example.org", authz.RoleAuditor, "system")

	c := two.Client()
	c.SignIn(other.Email, secret)
	a := two.Client()
	a.SignIn(auditor.Email, auditorSecret)
	if res := c.Get("/admin/users"); res.StatusCode != http.StatusOK {
		t.Fatalf("admin on the second instance before revocation: %d", res.StatusCode)
	}
	if res := a.JSON(http.MethodGet, "/api/v1/audit", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("auditor on the second instance before revocation: %d", res.StatusCode)
	}
	for _, g := range []authz.Grant{{UserID: other.ID, Role: authz.RoleAdmin, Domain: "system"}, {UserID: auditor.ID, Role: authz.RoleAuditor, Domain: "system"}} {
		res := admin.PostForm("/admin/roles/revoke", url.Values{"user_id": {g.UserID}, "role": {g.Role}, "domain": {g.Domain}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke on the first instance: %d %s", res.StatusCode, apptest.FirstError(res.Body))
		}
	}
	if res := c.Get("/admin/users"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("revoked admin on the second instance: %d", res.StatusCode)
	}
	if res := a.JSON(http.MethodGet, "/api/v1/audit", nil, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("revoked auditor on the second instance: %d", res.StatusCode)
	}
}

// TestDisablingEndsEverySession: three live sessions and a token of the same
// person all stop on their next request.
func TestDisablingEndsEverySession(t *testing.T) {
	env := apptest.New(t)
	admin, _ := signedIn(t, env, "admin@example.org", authz.RoleAdmin, "system")
	u, _ := env.User("ama@example.org", "", "")
	sessions := []*apptest.Client{env.Client(), env.Client(), env.Client()}
	for _, c := range sessions {
		c.SignIn(u.Email, "")
		if res := c.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("signed in: %d", res.StatusCode)
		}
	}
	prog := token(t, env, u)
	if res := admin.Get("/admin/users/" + u.ID); !strings.Contains(res.Body, `<dd id="sessions">3</dd>`) {
		t.Fatalf("user page does not count 3 sessions: %s", res.Body)
	}
	res := admin.PostForm("/admin/users/"+u.ID+"/disable", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	for i, c := range sessions[:2] {
		if res := c.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("API session %d after disabling: %d", i, res.StatusCode)
		}
	}
	if res := sessions[2].Get("/account"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("page session after disabling: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := prog.JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API token after disabling: %d", res.StatusCode)
	}
	if res := admin.Get("/admin/users/" + u.ID); !strings.Contains(res.Body, `<dd id="status">Disabled</dd>`) {
		t.Error("user page does not show the account disabled")
	}
	// Enabling lets the person sign in again; the ended sessions stay ended.
	if res := admin.PostForm("/admin/users/"+u.ID+"/enable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", res.StatusCode)
	}
	if res := sessions[0].JSON(http.MethodGet, "/api/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("ended session came back after enabling: %d", res.StatusCode)
	}
	env.Client().SignIn(u.Email, "")
}

func TestAdminWithoutSecondFactorIsSentToSetItUp(t *testing.T) {
	env := apptest.New(t)
	// Granted before signing in: sign-in stops at enrolment.
	u, _ := env.User("new-admin@example.org", "", "")
	if err := env.Authz.Grant(t.Context(), audit.Actor{}, authz.Grant{UserID: u.ID, Role: authz.RoleAdmin, Domain: "system"}); err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	c.Get("/login")
	c.PostForm("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}})
	for _, path := range []string{"/admin/users", "/audit"} {
		if res := c.Get(path); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/totp" {
			t.Errorf("%s before enrolment: %d %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// Granted while signed in without one: the open session does not reach staff pages either.
	v, _ := env.User("applicant@example.org", "", "")
	c2 := env.Client()
	c2.SignIn(v.Email, "")
	if err := env.Authz.Grant(t.Context(), audit.Actor{}, authz.Grant{UserID: v.ID, Role: authz.RoleAdmin, Domain: "system"}); err != nil {
		t.Fatal(err)
	}
	if res := c2.Get("/admin/users"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/totp" {
		t.Errorf("admin page from a session without a second factor: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := c2.JSON(http.MethodGet, "/api/v1/admin/users", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin API from a session without a second factor: %d", res.StatusCode)
	}
}

// tamper changes and removes audit records as a database superuser would,
// after checking that the application's own path refuses to.
func tamper(t *testing.T, env *apptest.Env, edit, remove int64) {
	t.Helper()
	db := env.DB.Gorm
	if err := db.Exec("UPDATE audit_log SET action = 'forged' WHERE seq = ?", edit).Error; err == nil {
		t.Fatal("the audit log accepted an update")
	}
	if err := db.Exec("DELETE FROM audit_log WHERE seq = ?", remove).Error; err == nil {
		t.Fatal("the audit log accepted a delete")
	}
	if env.DB.Dialect == "postgres" {
		if err := db.Exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").Error; err != nil {
			t.Fatal(err)
		}
	} else {
		for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete"} {
			if err := db.Exec("DROP TRIGGER " + trg).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Exec("UPDATE audit_log SET action = 'forged' WHERE seq = ?", edit).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("DELETE FROM audit_log WHERE seq = ?", remove).Error; err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyShowsTampering(t *testing.T) {
	env := apptest.New(t)
	auditor, _ := signedIn(t, env, "auditor@example.org", authz.RoleAuditor, "system")
	res := auditor.PostForm("/audit/verify", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "The chain is intact") {
		t.Fatalf("verify on an intact log: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	tamper(t, env, 2, 4)
	res = auditor.PostForm("/audit/verify", nil)
	if !strings.Contains(res.Body, "The chain is broken") || !strings.Contains(res.Body, "Record 2: its content differs") ||
		!strings.Contains(res.Body, "Record 5: records before it are missing") {
		t.Fatalf("verify after tampering: %s", res.Body)
	}
	var out struct {
		OK       bool
		Problems []struct {
			Seq  int64
			Kind string
		}
	}
	auditor.Header.Set("X-CSRF-Token", auditor.Cookie("__Host-facility_csrf"))
	auditor.JSON(http.MethodPost, "/api/v1/audit/verify", nil, &out)
	if out.OK || len(out.Problems) < 2 || out.Problems[0].Seq != 2 || out.Problems[0].Kind != "edited" {
		t.Fatalf("API verify after tampering: %+v", out)
	}
}

// TestAuditRecordsOfSecurityEvents: one record each, with who, what, on
// what, when, from where and in which request.
func TestAuditRecordsOfSecurityEvents(t *testing.T) {
	env := apptest.New(t)
	admin, adminUser := signedIn(t, env, "admin@example.org", authz.RoleAdmin, "system")
	u, _ := env.User("ama@example.org", "", "")
	fa := authz.FacilityDomain(facilityA)

	check := func(name string, res *apptest.Response, f audit.Filter, actorID string) {
		t.Helper()
		rs := records(t, env, f)
		if len(rs) != 1 {
			t.Errorf("%s: %d records, want 1", name, len(rs))
			return
		}
		r := rs[0]
		if r.ActorID != actorID || r.IP != "203.0.113.10" || r.RequestID == "" || r.RequestID != res.Header.Get("X-Request-ID") || r.At.IsZero() {
			t.Errorf("%s: record %+v (request %s)", name, r, res.Header.Get("X-Request-ID"))
		}
	}
	c := env.Client()
	c.Get("/login")
	res := c.PostForm("/login", url.Values{"email": {u.Email}, "password": {"wrong password here"}})
	check("failed sign-in", res, audit.Filter{Action: "session.login_failed", ObjectID: u.Email}, "")
	res = c.PostForm("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}})
	check("sign-in", res, audit.Filter{Action: "session.login", ActorID: u.ID}, u.ID)
	res = c.Get("/admin/users")
	check("denial", res, audit.Filter{Action: "authz.deny", ActorID: u.ID}, u.ID)
	res = admin.PostForm("/admin/roles", url.Values{"user_id": {u.ID}, "role": {authz.RoleMentor}, "domain": {fa}})
	check("grant", res, audit.Filter{Action: "role.grant", ObjectID: u.ID}, adminUser.ID)
	res = admin.PostForm("/admin/roles/revoke", url.Values{"user_id": {u.ID}, "role": {authz.RoleMentor}, "domain": {fa}})
	check("revoke", res, audit.Filter{Action: "role.revoke", ObjectID: u.ID}, adminUser.ID)
	res = admin.PostForm("/admin/users/"+u.ID+"/disable", nil)
	check("disable", res, audit.Filter{Action: "user.disable", ObjectID: u.ID}, adminUser.ID)
	res = admin.Get("/audit.csv")
	check("export", res, audit.Filter{Action: "audit.export"}, adminUser.ID)
}

func TestAuditPageFiltersPagesAndExportsSafely(t *testing.T) {
	env := apptest.New(t)
	auditor, _ := signedIn(t, env, "auditor@example.org", authz.RoleAuditor, "system")
	c := env.Client()
	c.Get("/login")
	// Sign-in attempts record the address typed, which a spreadsheet would run as a formula.
	emails := []string{"=cmd@example.org", "+sum@example.org", "-x@example.org"}
	for i := range 60 {
		emails = append(emails, fmt.Sprintf("nobody%d@example.org", i))
	}
	for i, email := range emails {
		c.IP = fmt.Sprintf("198.51.100.%d", i) // one attempt per address, below any throttle
		c.PostForm("/login", url.Values{"email": {email}, "password": {"whatever it is"}})
	}

	if n := len(records(t, env, audit.Filter{Action: "session.login_failed"})); n != 63 {
		t.Fatalf("%d failed sign-ins recorded, want 63", n)
	}
	res := auditor.Get("/audit?action=session.login_failed")
	if res.StatusCode != http.StatusOK || strings.Count(res.Body, "<code>session.login_failed</code>") != 50 {
		t.Fatalf("first page: %d, %d rows", res.StatusCode, strings.Count(res.Body, "<code>session.login_failed</code>"))
	}
	older := ""
	for _, part := range strings.Split(res.Body, `<a href="`) {
		if end := strings.Index(part, `" id="older"`); end > 0 {
			older = strings.ReplaceAll(part[:end], "&amp;", "&")
		}
	}
	if older == "" || !strings.Contains(older, "action=session.login_failed") {
		t.Fatalf("no link to older records")
	}
	res = auditor.Get(older)
	if n := strings.Count(res.Body, "<code>session.login_failed</code>"); n != 63-50 {
		t.Fatalf("second page has %d rows, want 13", n)
	}
	if res := auditor.Get("/audit?from=2024-13-01"); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-from"`) {
		t.Fatalf("bad date: %d", res.StatusCode)
	}
	if res := auditor.Get("/audit?to=2000-01-01"); strings.Contains(res.Body, "session.login_failed") {
		t.Fatal("date filter does not narrow")
	}
	if res := auditor.Get("/audit?actor=auditor@example.org&action=session."); strings.Contains(res.Body, "login_failed") || !strings.Contains(res.Body, "<code>session.login</code>") {
		t.Fatal("actor filter does not narrow")
	}

	res = auditor.Get("/audit.csv?action=session.login_failed")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil || len(rows) != 64 {
		t.Fatalf("export rows: %d %v", len(rows), err)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[6]] = true
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q left as a formula", cell)
			}
		}
	}
	for _, want := range []string{"'=cmd@example.org", "'+sum@example.org", "'-x@example.org"} {
		if !seen[want] {
			t.Errorf("export lacks neutralised %q", want)
		}
	}

	var page struct {
		Records    []audit.Record
		NextBefore int64 `json:"next_before"`
	}
	auditor.JSON(http.MethodGet, "/api/v1/audit?action=session.login_failed&limit=10", nil, &page)
	if len(page.Records) != 10 || page.NextBefore != page.Records[9].Seq {
		t.Fatalf("API page: %d records, next %d", len(page.Records), page.NextBefore)
	}
	if res := auditor.JSON(http.MethodGet, "/api/v1/audit?limit=9999", nil, nil); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"field":"limit"`) {
		t.Fatalf("API limit: %d", res.StatusCode)
	}
}

func TestOutboxShowsMailEscaped(t *testing.T) {
	env := apptest.New(t)
	admin, _ := signedIn(t, env, "admin@example.org", authz.RoleAdmin, "system")
	v := registration("ama@example.org")
	v.Set("name", `Ama <script>alert(1)</script>`)
	c := env.Client()
	c.Get("/register")
	if res := c.PostForm("/register", v); res.StatusCode != http.StatusOK {
		t.Fatalf("register: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	res := admin.Get("/admin/outbox?recipient=ama@example.org")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Confirm your e-mail address") ||
		!strings.Contains(res.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(res.Body, "<script>alert") {
		t.Fatalf("outbox page: %d", res.StatusCode)
	}
	if strings.Contains(admin.Get("/admin/outbox?recipient=someone@example.org").Body, "Confirm your e-mail") {
		t.Fatal("recipient filter does not narrow")
	}
	var out struct {
		Messages []struct{ To, Kind string }
	}
	token(t, env, mustUser(t, env, "admin@example.org")).JSON(http.MethodGet, "/api/v1/admin/outbox?to=ama@example.org", nil, &out)
	if len(out.Messages) != 1 || out.Messages[0].Kind != "verify_email" {
		t.Fatalf("API outbox: %+v", out.Messages)
	}
}
