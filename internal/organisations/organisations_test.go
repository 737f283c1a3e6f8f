package organisations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/mail"
	"facility/internal/organisations"
	"facility/internal/validate"
)

func act(userID string) audit.Actor {
	return audit.Actor{UserID: userID, IP: "127.0.0.1", RequestID: "test"}
}

func auditCount(t *testing.T, env *apptest.Env, action string) int64 {
	t.Helper()
	var n int64
	if err := env.DB.Gorm.Table("audit_log").Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// join adds a person to an organisation through an invitation, as they would.
func join(t *testing.T, env *apptest.Env, ownerID, orgID, email, role string) string {
	t.Helper()
	ctx := context.Background()
	u, _ := env.User(email, "", "")
	if _, err := env.Organisations.Invite(ctx, act(ownerID), orgID, email, role, "en"); err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	if _, err := env.Organisations.AcceptInvitation(ctx, act(u.ID), u.Email, inviteToken(t, env, email)); err != nil {
		t.Fatalf("accept %s: %v", email, err)
	}
	return u.ID
}

// inviteToken reads the newest invitation link sent to email.
func inviteToken(t *testing.T, env *apptest.Env, email string) string {
	t.Helper()
	msgs, err := mail.Outbox(context.Background(), env.DB.Gorm, email, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind != "organisation_invitation" {
			continue
		}
		i := strings.Index(m.Body, "/invitations/")
		if i < 0 {
			t.Fatalf("no link in %q", m.Body)
		}
		return strings.Fields(m.Body[i+len("/invitations/"):])[0]
	}
	t.Fatalf("no invitation mailed to %s", email)
	return ""
}

func fieldCode(err error) string {
	fe, ok := validate.As(err)
	if !ok || len(fe) == 0 {
		return ""
	}
	return fe[0].Field + ":" + fe[0].Code
}

func TestChangeRole(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	owner, orgID := env.Applicant("owner@example.org", "Accra Dockworkers' Union")
	member := join(t, env, owner.ID, orgID, "member@example.org", organisations.RoleMember)
	stranger, _ := env.User("stranger@example.org", "", "")
	dom := authz.OrgDomain(orgID)

	cases := []struct {
		name      string
		userID    string
		role      string
		wantErr   string // "field:code", "not_found" or ""
		wantRole  string
		canManage bool
	}{
		{"unknown role is refused", member, "boss", "role:not_allowed", "member", false},
		{"the last owner cannot step down", owner.ID, "member", "role:last_owner", "owner", true},
		{"a person outside the organisation", stranger.ID, "owner", "not_found", "", false},
		{"a malformed id", "not-a-uuid", "owner", "not_found", "", false},
		{"a member becomes an owner", member, "owner", "", "owner", true},
		{"with two owners, one may step down", owner.ID, "member", "", "member", false},
		{"now the other is the last owner", member, "member", "role:last_owner", "owner", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := auditCount(t, env, "organisation.change_role")
			m, err := env.Organisations.ChangeRole(ctx, act(owner.ID), orgID, tc.userID, tc.role)
			switch {
			case tc.wantErr == "not_found":
				if !errors.Is(err, organisations.ErrNotFound) {
					t.Fatalf("got %v, want not found", err)
				}
				return
			case tc.wantErr != "":
				if fieldCode(err) != tc.wantErr {
					t.Fatalf("got %v, want %s", err, tc.wantErr)
				}
				if after := auditCount(t, env, "organisation.change_role"); after != before {
					t.Fatal("a refused change was audited as done")
				}
			case err != nil:
				t.Fatal(err)
			default:
				if m.Role != tc.wantRole {
					t.Fatalf("role %s, want %s", m.Role, tc.wantRole)
				}
				if after := auditCount(t, env, "organisation.change_role"); after != before+1 {
					t.Fatalf("audit rows %d -> %d", before, after)
				}
			}
			got, err := env.Organisations.Member(ctx, orgID, tc.userID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Role != tc.wantRole {
				t.Fatalf("stored role %s, want %s", got.Role, tc.wantRole)
			}
			// The role grant moves with the membership.
			ok, err := env.Authz.Allowed(tc.userID, dom, authz.ObjMember, authz.ActManage)
			if err != nil || ok != tc.canManage {
				t.Fatalf("may manage members: %v (%v), want %v", ok, err, tc.canManage)
			}
			if ok, _ := env.Authz.Allowed(tc.userID, dom, authz.ObjOrganisation, authz.ActRead); !ok {
				t.Fatal("a member lost read access")
			}
		})
	}

	t.Run("asking for the current role changes nothing", func(t *testing.T) {
		before := auditCount(t, env, "organisation.change_role")
		if _, err := env.Organisations.ChangeRole(ctx, act(owner.ID), orgID, member, organisations.RoleOwner); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, env, "organisation.change_role") != before {
			t.Fatal("a no-op was audited")
		}
		grants, err := env.Authz.Grants(ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		var roles []string
		for _, g := range grants {
			if g.Domain == dom {
				roles = append(roles, g.Role)
			}
		}
		if len(roles) != 1 || roles[0] != authz.RoleOrgOwner {
			t.Fatalf("grants in the organisation: %v", roles)
		}
	})
}

func TestRemoveMemberKeepsAnOwner(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	owner, orgID := env.Applicant("owner@example.org", "Kumasi Traders")
	member := join(t, env, owner.ID, orgID, "member@example.org", organisations.RoleMember)
	dom := authz.OrgDomain(orgID)

	if err := env.Organisations.RemoveMember(ctx, act(owner.ID), orgID, owner.ID); fieldCode(err) != "user_id:last_owner" {
		t.Fatalf("removing the last owner: %v", err)
	}
	if err := env.Organisations.RemoveMember(ctx, act(owner.ID), orgID, member); err != nil {
		t.Fatal(err)
	}
	if ok, _ := env.Authz.Allowed(member, dom, authz.ObjOrganisation, authz.ActRead); ok {
		t.Fatal("a removed member can still read the organisation")
	}
	if err := env.Organisations.RemoveMember(ctx, act(owner.ID), orgID, member); !errors.Is(err, organisations.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	members, err := env.Organisations.Members(ctx, orgID)
	if err != nil || len(members) != 1 || members[0].UserID != owner.ID {
		t.Fatalf("members: %+v %v", members, err)
	}
}

func TestInvitations(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	owner, orgID := env.Applicant("owner@example.org", "Tema Fishers' Cooperative")

	t.Run("bad input writes nothing", func(t *testing.T) {
		for _, tc := range []struct{ email, role, want string }{
			{"not-an-address", "member", "email:invalid_email"},
			{"new@example.org", "admin", "role:not_allowed"},
			{"owner@example.org", "member", "email:already_member"},
		} {
			if _, err := env.Organisations.Invite(ctx, act(owner.ID), orgID, tc.email, tc.role, "en"); fieldCode(err) != tc.want {
				t.Errorf("%s/%s: got %v, want %s", tc.email, tc.role, err, tc.want)
			}
		}
		list, err := env.Organisations.Invitations(ctx, orgID)
		if err != nil || len(list) != 0 {
			t.Fatalf("invitations written: %+v %v", list, err)
		}
	})

	t.Run("only the invited address can accept", func(t *testing.T) {
		if _, err := env.Organisations.Invite(ctx, act(owner.ID), orgID, "Kofi@Example.org", organisations.RoleMember, "en"); err != nil {
			t.Fatal(err)
		}
		token := inviteToken(t, env, "kofi@example.org")
		other, _ := env.User("other@example.org", "", "")
		_, err := env.Organisations.AcceptInvitation(ctx, act(other.ID), other.Email, token)
		if !errors.Is(err, organisations.ErrInvitationOtherAddress) || !errors.Is(err, organisations.ErrInvitationInvalid) {
			t.Fatalf("accepted by another address: %v", err)
		}
		if _, err := env.Organisations.Member(ctx, orgID, other.ID); !errors.Is(err, organisations.ErrNotFound) {
			t.Fatal("the other person became a member")
		}
		kofi, _ := env.User("kofi@example.org", "", "")
		o, err := env.Organisations.AcceptInvitation(ctx, act(kofi.ID), kofi.Email, token)
		if err != nil || o.ID != orgID {
			t.Fatalf("accept: %v", err)
		}
		if _, err := env.Organisations.AcceptInvitation(ctx, act(kofi.ID), kofi.Email, token); !errors.Is(err, organisations.ErrInvitationInvalid) {
			t.Fatalf("second use: %v", err)
		}
	})

	t.Run("a revoked invitation cannot be used", func(t *testing.T) {
		inv, err := env.Organisations.Invite(ctx, act(owner.ID), orgID, "late@example.org", organisations.RoleOwner, "en")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Organisations.RevokeInvitation(ctx, act(owner.ID), orgID, inv.ID); err != nil {
			t.Fatal(err)
		}
		late, _ := env.User("late@example.org", "", "")
		if _, err := env.Organisations.AcceptInvitation(ctx, act(late.ID), late.Email, inviteToken(t, env, "late@example.org")); !errors.Is(err, organisations.ErrInvitationInvalid) {
			t.Fatalf("revoked invitation accepted: %v", err)
		}
		if err := env.Organisations.RevokeInvitation(ctx, act(owner.ID), orgID, inv.ID); !errors.Is(err, organisations.ErrNotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
	})

	t.Run("an invitation belongs to its organisation", func(t *testing.T) {
		other, otherOrg := env.Applicant("b@example.org", "Other Org")
		inv, err := env.Organisations.Invite(ctx, act(owner.ID), orgID, "x@example.org", organisations.RoleMember, "en")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Organisations.RevokeInvitation(ctx, act(other.ID), otherOrg, inv.ID); !errors.Is(err, organisations.ErrNotFound) {
			t.Fatalf("revoked through another organisation: %v", err)
		}
	})
}

func TestRelations(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	owner, orgID := env.Applicant("owner@example.org", "Lagos Employers' Federation")
	_, partner := env.Applicant("partner@example.org", "Abuja Start-up Hub")
	_, third := env.Applicant("third@example.org", "Third Org")

	r, err := env.Organisations.AddRelation(ctx, act(owner.ID), orgID, partner, "consortium_partner")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, related, kind, want string }{
		{"itself", orgID, "affiliate", "related_organisation_id:relation_self"},
		{"twice", partner, "consortium_partner", "related_organisation_id:relation_exists"},
		{"unknown organisation", "0190a5b0-0000-7000-8000-000000000000", "affiliate", "related_organisation_id:not_found"},
		{"not an id", "Abuja", "affiliate", "related_organisation_id:not_found"},
		{"unknown kind", partner, "rival", "kind:not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := env.Organisations.AddRelation(ctx, act(owner.ID), orgID, tc.related, tc.kind); fieldCode(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
	rels, err := env.Organisations.Relations(ctx, orgID)
	if err != nil || len(rels) != 1 || rels[0].RelatedName != "Abuja Start-up Hub" {
		t.Fatalf("relations: %+v %v", rels, err)
	}
	if err := env.Organisations.RemoveRelation(ctx, act(owner.ID), third, r.ID); !errors.Is(err, organisations.ErrNotFound) {
		t.Fatalf("removed through another organisation: %v", err)
	}
	if err := env.Organisations.RemoveRelation(ctx, act(owner.ID), orgID, r.ID); err != nil {
		t.Fatal(err)
	}
	if rels, _ := env.Organisations.Relations(ctx, orgID); len(rels) != 0 {
		t.Fatalf("relation still listed: %+v", rels)
	}
}

func TestDirectoryEscapesWildcards(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	env.Applicant("a@example.org", "100% Cotton Growers")
	env.Applicant("b@example.org", "Cotton_Union")
	env.Applicant("c@example.org", "Cocoa Board")
	for q, want := range map[string]int{"cotton": 2, "100%": 1, "_": 1, "%": 1, "": 3, "zzz": 0} {
		got, err := env.Organisations.Directory(ctx, q, 10)
		if err != nil || len(got) != want {
			t.Errorf("%q: %d results (%v), want %d", q, len(got), err, want)
		}
	}
}

// TestTwoOwnersCannotBothStepDown: two owners demoting (or removing) each
// other at the same moment leave exactly one owner, on either database.
func TestTwoOwnersCannotBothStepDown(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	first, orgID := env.Applicant("first@example.org", "Twin Owners")
	second := join(t, env, first.ID, orgID, "second@example.org", organisations.RoleOwner)
	for round := range 10 {
		errs := make(chan error, 2)
		for _, id := range []string{first.ID, second} {
			go func() {
				if round%2 == 0 {
					_, err := env.Organisations.ChangeRole(ctx, act(id), orgID, id, organisations.RoleMember)
					errs <- err
				} else {
					errs <- env.Organisations.RemoveMember(ctx, act(id), orgID, id)
				}
			}()
		}
		refused := 0
		for range 2 {
			if err := <-errs; err != nil {
				if fe, ok := validate.As(err); !ok || fe[0].Code != "last_owner" {
					t.Fatalf("round %d: %v", round, err)
				}
				refused++
			}
		}
		members, err := env.Organisations.Members(ctx, orgID)
		if err != nil {
			t.Fatal(err)
		}
		owners := 0
		var gone []string
		for _, m := range members {
			if m.Role == organisations.RoleOwner {
				owners++
			}
		}
		if owners != 1 || refused != 1 {
			t.Fatalf("round %d: %d owners left, %d refused", round, owners, refused)
		}
		// Back to two owners for the next round.
		for _, id := range []string{first.ID, second} {
			if _, err := env.Organisations.Member(ctx, orgID, id); errors.Is(err, organisations.ErrNotFound) {
				gone = append(gone, id)
			}
		}
		for _, m := range members {
			if m.Role == organisations.RoleMember {
				if _, err := env.Organisations.ChangeRole(ctx, act(m.UserID), orgID, m.UserID, organisations.RoleOwner); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, id := range gone {
			u, err := env.Accounts.User(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// The one who stayed is the owner.
			if _, err := env.Organisations.Invite(ctx, act(members[0].UserID), orgID, u.Email, organisations.RoleOwner, "en"); err != nil {
				t.Fatal(err)
			}
			if _, err := env.Organisations.AcceptInvitation(ctx, act(id), u.Email, inviteToken(t, env, u.Email)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
