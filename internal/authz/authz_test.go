package authz_test

import (
	"errors"
	"testing"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
)

const (
	facilityA = "sustainable_enterprises"
	facilityB = "skills_lifelong_learning"
)

var (
	fa = authz.FacilityDomain(facilityA)
	fb = authz.FacilityDomain(facilityB)
)

func allowed(t *testing.T, e *authz.Enforcer, userID, dom, obj, act string) bool {
	t.Helper()
	ok, err := e.Allowed(userID, dom, obj, act)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Deny rows of read-only roles override the allow rows of any other role
// the same person holds: an auditor or a donor who is also a manager still
// cannot create, change or delete, but keeps the manager's reading.
func TestDenyOverridesAllow(t *testing.T) {
	env := apptest.New(t)
	manager, _ := env.User("manager@example.org", authz.RoleManager, fa)
	auditor, _ := env.User("auditor@example.org", authz.RoleAuditor, "system")
	donor, _ := env.User("donor@example.org", authz.RoleDonor, fa)
	for _, u := range []string{auditor.ID, donor.ID} {
		if err := env.Authz.Grant(t.Context(), audit.Actor{}, authz.Grant{UserID: u, Role: authz.RoleManager, Domain: fa}); err != nil {
			t.Fatal(err)
		}
	}
	for _, act := range []string{authz.ActCreate, authz.ActUpdate, authz.ActDelete} {
		if !allowed(t, env.Authz, manager.ID, fa, authz.ObjCall, act) {
			t.Fatalf("a plain manager cannot %s calls", act)
		}
		for name, u := range map[string]string{"auditor": auditor.ID, "donor": donor.ID} {
			if allowed(t, env.Authz, u, fa, authz.ObjCall, act) {
				t.Errorf("%s who is also a manager may %s calls", name, act)
			}
			if allowed(t, env.Authz, u, fa, authz.ObjPortfolio, act) {
				t.Errorf("%s who is also a manager may %s portfolios", name, act)
			}
		}
	}
	// The auditor's deny rows name every domain, including ones where the
	// manager role would allow nothing anyway, and organisations.
	if allowed(t, env.Authz, auditor.ID, fb, authz.ObjCall, authz.ActCreate) {
		t.Error("auditor-manager may create calls in another facility")
	}
	for name, u := range map[string]string{"auditor": auditor.ID, "donor": donor.ID} {
		if !allowed(t, env.Authz, u, fa, authz.ObjProposal, authz.ActRead) {
			t.Errorf("%s who is also a manager lost the manager's reading", name)
		}
	}
}

// Grants name one exact scope of the role's kind; anything else is refused
// before anything is written.
func TestGrantsWithWildcardOrMalformedScopesAreRefused(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("someone@example.org", "", "")
	_, org := env.Applicant("owner@example.org", "Coop")
	bad := []authz.Grant{
		{Role: authz.RoleManager, Domain: "facility:*"},
		{Role: authz.RoleManager, Domain: "facility:"},
		{Role: authz.RoleManager, Domain: "facility:../x"},
		{Role: authz.RoleManager, Domain: "facility:" + facilityA + " "},
		{Role: authz.RoleManager, Domain: "facility:SUSTAINABLE_ENTERPRISES"},
		{Role: authz.RoleManager, Domain: "facility:no_such_facility"},
		{Role: authz.RoleManager, Domain: "org:1*"},
		{Role: authz.RoleManager, Domain: "system"},
		{Role: authz.RoleManager, Domain: "*"},
		{Role: authz.RoleAdmin, Domain: "system "},
		{Role: authz.RoleAdmin, Domain: "*"},
		{Role: authz.RoleAdmin, Domain: fa},
		{Role: authz.RoleAuditor, Domain: "system*"},
		{Role: authz.RoleOrgOwner, Domain: "org:*"},
		{Role: authz.RoleOrgOwner, Domain: "org:1*"},
		{Role: authz.RoleOrgOwner, Domain: authz.OrgDomain(org) + "*"},
		{Role: authz.RoleOrgOwner, Domain: fa},
		{Role: "superuser", Domain: "system"},
		{Role: "*", Domain: "system"},
	}
	before, err := env.Authz.Grants(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range bad {
		g.UserID = u.ID
		if err := env.Authz.Grant(t.Context(), audit.Actor{}, g); !errors.Is(err, authz.ErrInvalidGrant) {
			t.Errorf("grant %s in %q: %v", g.Role, g.Domain, err)
		}
	}
	if err := env.Authz.Grant(t.Context(), audit.Actor{}, authz.Grant{UserID: database.NewID(), Role: authz.RoleMentor, Domain: fa}); !errors.Is(err, authz.ErrInvalidGrant) {
		t.Errorf("grant to nobody: %v", err)
	}
	after, err := env.Authz.Grants(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("refused grants wrote %d rows", len(after)-len(before))
	}
}

// A wildcard grant written straight into the table, past validation, grants
// nothing: grant domains are matched exactly, never as patterns.
func TestWildcardGrantRowGrantsNothing(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("intruder@example.org", "", "")
	_, org := env.Applicant("owner@example.org", "Coop")
	sub := authz.Subject(u.ID)
	for _, row := range [][2]string{
		{authz.RoleManager, "facility:*"}, {authz.RoleManager, "*"}, {authz.RoleOrgOwner, "org:*"},
		{authz.RoleOrgOwner, "org:1*"}, {authz.RoleAdmin, "*"}, {authz.RoleAdmin, "facility:*"}, {authz.RoleAuditor, "system*"},
	} {
		if err := env.DB.Gorm.Exec("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('g', ?, ?, ?, '', '', '')",
			sub, row[0], row[1]).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := env.DB.Gorm.Exec("UPDATE policy_version SET version = version + 1 WHERE id = 1").Error; err != nil {
		t.Fatal(err)
	}
	if err := env.Authz.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if gs, _ := env.Authz.Grants(t.Context(), u.ID); len(gs) != 7 {
		t.Fatalf("rows not loaded: %v", gs)
	}
	for _, q := range [][3]string{
		{fa, authz.ObjCall, authz.ActCreate}, {fb, authz.ObjProposal, authz.ActRead},
		{authz.OrgDomain(org), authz.ObjOrganisation, authz.ActUpdate}, {authz.OrgDomain(org), authz.ObjProposal, authz.ActSubmit},
		{"system", authz.ObjRole, "grant"}, {"system", authz.ObjAudit, authz.ActRead}, {"system", authz.ObjUser, authz.ActManage},
	} {
		if allowed(t, env.Authz, u.ID, q[0], q[1], q[2]) {
			t.Errorf("wildcard row allows %s %s in %s", q[2], q[1], q[0])
		}
	}
}

// A revocation is effective at once on the instance that made it.
func TestRevocationIsImmediate(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("manager@example.org", authz.RoleManager, fa)
	if !allowed(t, env.Authz, u.ID, fa, authz.ObjCall, authz.ActCreate) {
		t.Fatal("manager cannot create calls")
	}
	if err := env.Authz.Revoke(t.Context(), audit.Actor{}, authz.Grant{UserID: u.ID, Role: authz.RoleManager, Domain: fa}); err != nil {
		t.Fatal(err)
	}
	if allowed(t, env.Authz, u.ID, fa, authz.ObjCall, authz.ActCreate) {
		t.Fatal("revoked manager can still create calls")
	}
}
