package authz_test

import (
	"testing"

	"facility/internal/apptest"
	"facility/internal/authz"
)

// RefreshTo with a version read elsewhere (the request's identifying
// statement) reloads when another instance moved the stored version: a
// grant and then a revocation written past this enforcer take effect on
// the next call.
func TestRefreshToReloadsOnANewerVersion(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("someone@example.org", "", "")
	version := func() int64 {
		var v int64
		if err := env.DB.Gorm.Raw("SELECT version FROM policy_version WHERE id = 1").Scan(&v).Error; err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Another instance's writes: the row and the version, no notification.
	write := func(sql string) {
		if err := env.DB.Gorm.Exec(sql, authz.Subject(u.ID), authz.RoleManager, fa).Error; err != nil {
			t.Fatal(err)
		}
		if err := env.DB.Gorm.Exec("UPDATE policy_version SET version = version + 1 WHERE id = 1").Error; err != nil {
			t.Fatal(err)
		}
	}
	before := version()
	if err := env.Authz.RefreshTo(t.Context(), before); err != nil {
		t.Fatal(err)
	}
	if allowed(t, env.Authz, u.ID, fa, authz.ObjCall, authz.ActCreate) {
		t.Fatal("allowed before any grant")
	}
	write("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('g', ?, ?, ?, '', '', '')")
	if err := env.Authz.RefreshTo(t.Context(), version()); err != nil {
		t.Fatal(err)
	}
	if !allowed(t, env.Authz, u.ID, fa, authz.ObjCall, authz.ActCreate) {
		t.Fatal("grant made elsewhere not loaded by RefreshTo")
	}
	write("DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 = ? AND v1 = ? AND v2 = ?")
	if err := env.Authz.RefreshTo(t.Context(), version()); err != nil {
		t.Fatal(err)
	}
	if allowed(t, env.Authz, u.ID, fa, authz.ObjCall, authz.ActCreate) {
		t.Fatal("revocation made elsewhere not loaded by RefreshTo: a stale allow")
	}
	// A version older than the one in memory (read before a reload that
	// happened meanwhile) changes nothing.
	if err := env.Authz.RefreshTo(t.Context(), before); err != nil {
		t.Fatal(err)
	}
	if allowed(t, env.Authz, u.ID, fa, authz.ObjCall, authz.ActCreate) {
		t.Fatal("an old version brought the revoked grant back")
	}
}
