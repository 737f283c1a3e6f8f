package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/mail"
	"facility/internal/organisations"
)

func orgForm(name string) url.Values {
	return url.Values{"organisation_name": {name}, "organisation_type": {"cooperative"}, "organisation_country": {"SN"},
		"organisation_year_founded": {"2011"}, "organisation_website": {"https://dakar.example.org"}}
}

// invitationPath reads the newest invitation e-mailed to email and returns
// the path of its link.
func invitationPath(t *testing.T, env *apptest.Env, email string) string {
	t.Helper()
	msgs, err := mail.Outbox(t.Context(), env.DB.Gorm, email, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == "organisation_invitation" {
			i := strings.Index(m.Body, "http://facility.test/invitations/")
			if i < 0 {
				t.Fatalf("no link in the invitation: %q", m.Body)
			}
			return strings.TrimPrefix(strings.Fields(m.Body[i:])[0], "http://facility.test")
		}
	}
	t.Fatalf("no invitation mailed to %s", email)
	return ""
}

func memberRole(t *testing.T, env *apptest.Env, orgID, userID string) string {
	t.Helper()
	m, err := env.Organisations.Member(t.Context(), orgID, userID)
	if err != nil {
		return ""
	}
	return m.Role
}

var orgLocation = regexp.MustCompile(`^/organisations/([0-9a-f-]{36})$`)

// bearer returns an API client authenticated with a fresh personal token.
func bearer(t *testing.T, env *apptest.Env, userID string) *apptest.Client {
	t.Helper()
	token, _, err := env.Accounts.CreateAPIToken(t.Context(), audit.Actor{UserID: userID, IP: "127.0.0.1"}, "cli", 30)
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	c.Header.Set("Authorization", "Bearer "+token)
	return c
}

// orgState is every row the organisation pages and API can change, so a
// test can tell that a refused request wrote nothing.
func orgState(t *testing.T, env *apptest.Env) string {
	t.Helper()
	var parts []string
	for _, q := range []string{
		"SELECT * FROM organisations", "SELECT * FROM organisation_members", "SELECT * FROM organisation_invitations",
		"SELECT * FROM organisation_relations", "SELECT v0, v1, v2 FROM casbin_rule WHERE ptype = 'g' AND v2 LIKE 'org:%'",
		"SELECT * FROM outbox WHERE kind = 'organisation_invitation'",
		"SELECT action, object_id FROM audit_log WHERE action LIKE 'organisation.%'",
	} {
		var rows []map[string]any
		if err := env.DB.Gorm.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = fmt.Sprint(r)
		}
		sort.Strings(lines)
		parts = append(parts, q+"\n"+strings.Join(lines, "\n"))
	}
	return strings.Join(parts, "\n")
}

func denials(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var n int64
	if err := env.DB.Gorm.Table("audit_log").Where("action = ?", "authz.deny").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func hasFieldError(body, field string) bool {
	return strings.Contains(body, `id="e-`+field+`"`) || strings.Contains(body, `href="#f-`+field+`"`)
}

func TestOrganisationJourneyThroughPages(t *testing.T) {
	env := apptest.New(t)
	owner, _ := env.User("aminata@example.org", "", "")
	c := env.Client()
	c.SignIn("aminata@example.org", "")

	// Create.
	if res := c.Get("/organisations/new"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `name="organisation_country"`) {
		t.Fatalf("new organisation form: %d", res.StatusCode)
	}
	res := c.PostForm("/organisations", orgForm("Dakar Women Fish Processors"))
	m := orgLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	orgID, page := m[1], m[0]
	res = c.Get(page)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Dakar Women Fish Processors") || !strings.Contains(res.Body, "You are its owner") {
		t.Fatalf("organisation page: %d", res.StatusCode)
	}
	if memberRole(t, env, orgID, owner.ID) != organisations.RoleOwner {
		t.Fatal("the creator is not the owner")
	}
	if res := c.Get("/"); !strings.Contains(res.Body, `href="/organisations/`+orgID+`"`) {
		t.Fatal("home does not link to the new organisation")
	}

	// Edit.
	v := orgForm("Dakar Women Fish Processors' Union")
	v.Set("organisation_country", "GH")
	if res := c.PostForm(page, v); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if o, _ := env.Organisations.Get(t.Context(), orgID); o.Name != "Dakar Women Fish Processors' Union" || o.CountryISO2 != "GH" {
		t.Fatalf("edit not stored: %+v", o)
	}
	if res := c.Get(page); !strings.Contains(res.Body, "Ghana") || !strings.Contains(res.Body, "Processors&#39; Union") {
		t.Fatal("page does not show the new details")
	}

	// Invite; the invitee registers, signs in and accepts through the e-mailed link.
	res = c.PostForm(page+"/invitations", url.Values{"invite_email": {"Fatou@Example.org"}, "invite_role": {"member"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if res := c.Get(page); !strings.Contains(res.Body, "fatou@example.org") {
		t.Fatal("pending invitation not listed")
	}
	link := invitationPath(t, env, "fatou@example.org")
	fatou := env.Client()
	res = fatou.Get(link)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Processors&#39; Union") || !strings.Contains(res.Body, `href="/login"`) ||
		strings.Contains(res.Body, `action="`+link+`"`) {
		t.Fatalf("invitation page for a visitor: %d", res.StatusCode)
	}
	fatou.Get("/register")
	reg := registration("fatou@example.org")
	reg.Set("name", "Fatou Diop")
	if res := fatou.PostForm("/register", reg); res.StatusCode != http.StatusOK {
		t.Fatalf("register: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	fatou.Get("/login")
	if res := fatou.PostForm("/login", url.Values{"email": {"fatou@example.org"}, "password": {reg.Get("password")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	if res := fatou.Get(link); !strings.Contains(res.Body, `action="`+link+`"`) {
		t.Fatal("no accept button for the invited person")
	}
	if res := fatou.PostForm(link, nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("accept: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	fu, _ := env.Accounts.UserByEmail(t.Context(), "fatou@example.org")
	if memberRole(t, env, orgID, fu.ID) != organisations.RoleMember {
		t.Fatal("the invitee is not a member")
	}
	res = c.Get(page)
	if !strings.Contains(res.Body, "Fatou Diop") || strings.Contains(res.Body, "/invitations/") && strings.Contains(res.Body, "revoke") {
		t.Fatal("member not listed, or invitation still pending")
	}
	if res := fatou.PostForm(link, nil); res.StatusCode != http.StatusGone {
		t.Fatalf("second use of the invitation: %d", res.StatusCode)
	}

	// A member reads but does not manage.
	res = fatou.Get(page)
	if res.StatusCode != http.StatusOK || strings.Contains(res.Body, `action="`+page+`/invitations"`) {
		t.Fatalf("member's view: %d", res.StatusCode)
	}
	if res := fatou.PostForm(page, orgForm("Taken Over")); res.StatusCode != http.StatusForbidden {
		t.Fatalf("member edits: %d", res.StatusCode)
	}

	// Role change, both ways, with the grant.
	if res := c.PostForm(page+"/members/"+fu.ID+"/role", url.Values{"role": {"owner"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if memberRole(t, env, orgID, fu.ID) != organisations.RoleOwner {
		t.Fatal("role not changed")
	}
	if res := fatou.Get(page); !strings.Contains(res.Body, `action="`+page+`/invitations"`) {
		t.Fatal("a new owner cannot invite")
	}
	if res := c.PostForm(page+"/members/"+fu.ID+"/role", url.Values{"role": {"member"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("demote: %d", res.StatusCode)
	}
	if res := fatou.PostForm(page, orgForm("Taken Over")); res.StatusCode != http.StatusForbidden {
		t.Fatalf("demoted member still edits: %d", res.StatusCode)
	}

	// The last owner stays.
	res = c.PostForm(page+"/members/"+owner.ID+"/remove", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at least one owner") {
		t.Fatalf("removing the last owner: %d", res.StatusCode)
	}
	res = c.PostForm(page+"/members/"+owner.ID+"/role", url.Values{"role": {"member"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at least one owner") {
		t.Fatalf("demoting the last owner: %d", res.StatusCode)
	}
	if memberRole(t, env, orgID, owner.ID) != organisations.RoleOwner {
		t.Fatal("the last owner was changed")
	}

	// Remove: the person loses access at once.
	if res := c.PostForm(page+"/members/"+fu.ID+"/remove", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if res := fatou.Get(page); res.StatusCode != http.StatusNotFound {
		t.Fatalf("removed member reads the organisation: %d", res.StatusCode)
	}
	if res := c.Get(page); strings.Contains(res.Body, "Fatou Diop") {
		t.Fatal("removed member still listed")
	}

	// Relations: search by name, choose, remove.
	_, partner := env.Applicant("partner@example.org", "Saint-Louis Start-up Hub")
	res = c.Get(page + "?partner_q=saint-louis")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `value="`+partner+`"`) {
		t.Fatalf("partner search: %d", res.StatusCode)
	}
	if strings.Contains(c.Get(page+"?partner_q=dakar").Body, `name="related_organisation_id" value="`+orgID+`"`) {
		t.Fatal("the organisation is offered as its own partner")
	}
	res = c.PostForm(page+"/relations", url.Values{"related_organisation_id": {partner}, "kind": {"consortium_partner"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add relation: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	rels, _ := env.Organisations.Relations(t.Context(), orgID)
	if len(rels) != 1 || !strings.Contains(c.Get(page).Body, "Saint-Louis Start-up Hub") {
		t.Fatalf("relation not recorded or shown: %+v", rels)
	}
	if res := c.PostForm(page+"/relations/"+rels[0].ID+"/remove", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove relation: %d", res.StatusCode)
	}
	if rels, _ := env.Organisations.Relations(t.Context(), orgID); len(rels) != 0 {
		t.Fatal("relation not removed")
	}

	// Revoke an invitation.
	c.PostForm(page+"/invitations", url.Values{"invite_email": {"late@example.org"}, "invite_role": {"owner"}})
	invs, _ := env.Organisations.Invitations(t.Context(), orgID)
	if len(invs) != 1 {
		t.Fatalf("invitations: %+v", invs)
	}
	if res := c.PostForm(page+"/invitations/"+invs[0].ID+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res := env.Client().Get(invitationPath(t, env, "late@example.org")); res.StatusCode != http.StatusGone {
		t.Fatalf("withdrawn invitation link: %d", res.StatusCode)
	}
}

func TestOrganisationJourneyThroughAPI(t *testing.T) {
	env := apptest.New(t)
	owner, _ := env.User("aminata@example.org", "", "")
	api := bearer(t, env, owner.ID)

	var o organisations.Organisation
	res := api.JSON(http.MethodPost, "/api/v1/organisations", map[string]any{"name": "Dakar Fish Processors", "type": "cooperative",
		"country": "sn", "year_founded": 2011, "website": "https://dakar.example.org"}, &o)
	if res.StatusCode != http.StatusCreated || o.ID == "" || o.CountryISO2 != "SN" {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	base := "/api/v1/organisations/" + o.ID
	var mine struct{ Organisations []organisations.Membership }
	if api.JSON(http.MethodGet, "/api/v1/organisations", nil, &mine); len(mine.Organisations) != 1 || mine.Organisations[0].Role != "owner" {
		t.Fatalf("my organisations: %+v", mine)
	}
	if res := api.JSON(http.MethodPatch, base, map[string]any{"name": "Dakar Fish Processors' Union"}, &o); res.StatusCode != http.StatusOK ||
		o.Name != "Dakar Fish Processors' Union" || o.CountryISO2 != "SN" || o.YearFounded != 2011 {
		t.Fatalf("patch: %d %+v", res.StatusCode, o)
	}

	// Invite and accept with the invitee's own token.
	var inv organisations.Invitation
	if res := api.JSON(http.MethodPost, base+"/invitations", map[string]any{"email": "fatou@example.org", "role": "member"}, &inv); res.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
	}
	var invs struct{ Invitations []organisations.Invitation }
	if api.JSON(http.MethodGet, base+"/invitations", nil, &invs); len(invs.Invitations) != 1 || invs.Invitations[0].Email != "fatou@example.org" {
		t.Fatalf("invitations: %+v", invs)
	}
	fatou, _ := env.User("fatou@example.org", "", "")
	stranger, _ := env.User("stranger@example.org", "", "")
	token := strings.TrimPrefix(invitationPath(t, env, "fatou@example.org"), "/invitations/")
	var apiErr struct{ Error struct{ Code string } }
	if res := bearer(t, env, stranger.ID).JSON(http.MethodPost, "/api/v1/invitations/"+token+"/accept", nil, &apiErr); res.StatusCode != http.StatusForbidden ||
		apiErr.Error.Code != "invitation_other_address" {
		t.Fatalf("accepted by another address: %d %s", res.StatusCode, res.Body)
	}
	fapi := bearer(t, env, fatou.ID)
	if res := fapi.JSON(http.MethodPost, "/api/v1/invitations/"+token+"/accept", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d %s", res.StatusCode, res.Body)
	}
	var members struct{ Members []organisations.Member }
	if api.JSON(http.MethodGet, base+"/members", nil, &members); len(members.Members) != 2 {
		t.Fatalf("members: %+v", members)
	}
	if res := fapi.JSON(http.MethodPatch, base, map[string]any{"name": "Taken"}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("member patches: %d", res.StatusCode)
	}

	// Roles and the last owner.
	var m organisations.Member
	if res := api.JSON(http.MethodPatch, base+"/members/"+fatou.ID, map[string]any{"role": "owner"}, &m); res.StatusCode != http.StatusOK || m.Role != "owner" {
		t.Fatalf("promote: %d %s", res.StatusCode, res.Body)
	}
	if res := fapi.JSON(http.MethodPatch, base, map[string]any{"website": "https://fish.example.org"}, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("new owner patches: %d", res.StatusCode)
	}
	if res := api.JSON(http.MethodPatch, base+"/members/"+fatou.ID, map[string]any{"role": "member"}, &m); res.StatusCode != http.StatusOK || m.Role != "member" {
		t.Fatalf("demote: %d %s", res.StatusCode, res.Body)
	}
	if res := api.JSON(http.MethodDelete, base+"/members/"+owner.ID, nil, &apiErr); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "last_owner") {
		t.Fatalf("remove last owner: %d %s", res.StatusCode, res.Body)
	}
	if res := api.JSON(http.MethodPatch, base+"/members/"+owner.ID, map[string]any{"role": "member"}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("demote last owner: %d", res.StatusCode)
	}
	if res := api.JSON(http.MethodDelete, base+"/members/"+fatou.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if res := fapi.JSON(http.MethodGet, base, nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("removed member reads: %d", res.StatusCode)
	}

	// Relations, found through the directory.
	_, partnerID := env.Applicant("partner@example.org", "Saint-Louis Start-up Hub")
	var dir struct{ Organisations []struct{ ID, Name string } }
	if api.JSON(http.MethodGet, "/api/v1/organisation-directory?q=saint", nil, &dir); len(dir.Organisations) != 1 || dir.Organisations[0].ID != partnerID {
		t.Fatalf("directory: %+v", dir)
	}
	var rel organisations.Relation
	if res := api.JSON(http.MethodPost, base+"/relations", map[string]any{"related_organisation_id": partnerID, "kind": "affiliate"}, &rel); res.StatusCode != http.StatusCreated ||
		rel.RelatedName != "Saint-Louis Start-up Hub" {
		t.Fatalf("add relation: %d %s", res.StatusCode, res.Body)
	}
	var rels struct{ Relations []organisations.Relation }
	if api.JSON(http.MethodGet, base+"/relations", nil, &rels); len(rels.Relations) != 1 {
		t.Fatalf("relations: %+v", rels)
	}
	if res := api.JSON(http.MethodDelete, base+"/relations/"+rel.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("remove relation: %d", res.StatusCode)
	}

	// Withdraw an invitation.
	api.JSON(http.MethodPost, base+"/invitations", map[string]any{"email": "late@example.org", "role": "owner"}, &inv)
	if res := api.JSON(http.MethodDelete, base+"/invitations/"+inv.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("withdraw: %d", res.StatusCode)
	}
	if res := api.JSON(http.MethodDelete, base+"/invitations/"+inv.ID, nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("withdraw twice: %d", res.StatusCode)
	}

	// The document describes every route.
	var doc struct{ Paths map[string]map[string]any }
	api.JSON(http.MethodGet, "/api/v1/openapi.json", nil, &doc)
	for p, methods := range map[string][]string{
		"/organisations": {"get", "post"}, "/organisations/{id}": {"get", "patch"}, "/organisations/{id}/members": {"get"},
		"/organisations/{id}/members/{user_id}": {"patch", "delete"}, "/organisations/{id}/invitations": {"get", "post"},
		"/organisations/{id}/invitations/{inv_id}": {"delete"}, "/invitations/{token}/accept": {"post"},
		"/organisations/{id}/relations": {"get", "post"}, "/organisations/{id}/relations/{rel_id}": {"delete"},
	} {
		for _, m := range methods {
			if doc.Paths[p][m] == nil {
				t.Errorf("OpenAPI lacks %s %s", m, p)
			}
		}
	}
}

func TestOrganisationAPIRefusesBadInput(t *testing.T) {
	env := apptest.New(t)
	owner, orgID := env.Applicant("owner@example.org", "Accra Dockworkers")
	member, _ := env.User("member@example.org", "", "")
	if _, err := env.Organisations.Invite(t.Context(), audit.Actor{UserID: owner.ID}, orgID, member.Email, "member", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Organisations.AcceptInvitation(t.Context(), audit.Actor{UserID: member.ID}, member.Email,
		strings.TrimPrefix(invitationPath(t, env, member.Email), "/invitations/")); err != nil {
		t.Fatal(err)
	}
	api := bearer(t, env, owner.ID)
	base := "/api/v1/organisations/" + orgID
	cases := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"create without a name", http.MethodPost, "/api/v1/organisations", map[string]any{"type": "cooperative", "country": "SN", "year_founded": 2000}, "name"},
		{"create with extra fields", http.MethodPost, "/api/v1/organisations", map[string]any{"name": "X", "type": "cooperative", "country": "SN", "year_founded": 2000, "created_by": owner.ID}, "created_by"},
		{"year as text", http.MethodPatch, base, map[string]any{"year_founded": "1990"}, "year_founded"},
		{"unknown country", http.MethodPatch, base, map[string]any{"country": "ZZ"}, "country"},
		{"script website", http.MethodPatch, base, map[string]any{"website": "javascript:alert(1)"}, "website"},
		{"NUL in name", http.MethodPatch, base, map[string]any{"name": "A\x00B"}, "name"},
		{"invite a bad address", http.MethodPost, base + "/invitations", map[string]any{"email": "nope", "role": "member"}, "email"},
		{"invite as admin", http.MethodPost, base + "/invitations", map[string]any{"email": "x@example.org", "role": "admin"}, "role"},
		{"invite a member", http.MethodPost, base + "/invitations", map[string]any{"email": "member@example.org", "role": "member"}, "email"},
		{"unknown role", http.MethodPatch, base + "/members/" + member.ID, map[string]any{"role": "boss"}, "role"},
		{"relation to itself", http.MethodPost, base + "/relations", map[string]any{"related_organisation_id": orgID, "kind": "affiliate"}, "related_organisation_id"},
		{"relation kind", http.MethodPost, base + "/relations", map[string]any{"related_organisation_id": orgID, "kind": "rival"}, "kind"},
		{"not JSON", http.MethodPost, base + "/relations", nil, "body"},
	}
	before := orgState(t, env)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				Error struct {
					Code   string
					Fields []struct{ Field, Code, Message string }
				}
			}
			res := api.JSON(tc.method, tc.path, tc.body, &out)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", res.StatusCode, res.Body)
			}
			found := false
			for _, f := range out.Error.Fields {
				found = found || (f.Field == tc.field && f.Message != "")
			}
			if !found {
				t.Fatalf("no message for %s: %s", tc.field, res.Body)
			}
		})
	}
	if after := orgState(t, env); after != before {
		t.Fatalf("refused requests changed the database:\n%s\n---\n%s", before, after)
	}
}

func TestOrganisationFormsRefuseBadInput(t *testing.T) {
	env := apptest.New(t)
	owner, orgID := env.Applicant("owner@example.org", "Accra Dockworkers")
	member, _ := env.User("member@example.org", "", "")
	if _, err := env.Organisations.Invite(t.Context(), audit.Actor{UserID: owner.ID}, orgID, member.Email, "member", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Organisations.AcceptInvitation(t.Context(), audit.Actor{UserID: member.ID}, member.Email,
		strings.TrimPrefix(invitationPath(t, env, member.Email), "/invitations/")); err != nil {
		t.Fatal(err)
	}
	_, partner := env.Applicant("partner@example.org", "Partner Hub")
	c := env.Client()
	c.SignIn("owner@example.org", "")
	page := "/organisations/" + orgID

	orgCases := map[string]struct{ field, value string }{
		"no name":         {"organisation_name", ""},
		"NUL in name":     {"organisation_name", "Dock\x00workers"},
		"bidi override":   {"organisation_name", "Dock \u202eworkers"},
		"name too long":   {"organisation_name", strings.Repeat("a", 201)},
		"unknown type":    {"organisation_type", "pirates"},
		"no country":      {"organisation_country", ""},
		"unknown country": {"organisation_country", "ZZ"},
		"year as words":   {"organisation_year_founded", "nineteen ninety"},
		"future year":     {"organisation_year_founded", "2999"},
		"script website":  {"organisation_website", "javascript:alert(1)"},
	}
	type formCase struct {
		name, path string
		values     url.Values
		field      string
	}
	var cases []formCase
	for name, oc := range orgCases {
		v := orgForm("Valid Name")
		v.Set(oc.field, oc.value)
		cases = append(cases, formCase{"create: " + name, "/organisations", v, oc.field}, formCase{"edit: " + name, page, v, oc.field})
	}
	cases = append(cases,
		formCase{"invite a bad address", page + "/invitations", url.Values{"invite_email": {"nope"}, "invite_role": {"member"}}, "invite_email"},
		formCase{"invite as admin", page + "/invitations", url.Values{"invite_email": {"x@example.org"}, "invite_role": {"admin"}}, "invite_role"},
		formCase{"invite a member", page + "/invitations", url.Values{"invite_email": {"member@example.org"}, "invite_role": {"member"}}, "invite_email"},
		formCase{"unknown role", page + "/members/" + member.ID + "/role", url.Values{"role": {"boss"}}, "members"},
		formCase{"demote the last owner", page + "/members/" + owner.ID + "/role", url.Values{"role": {"member"}}, "members"},
		formCase{"remove the last owner", page + "/members/" + owner.ID + "/remove", nil, "members"},
		formCase{"relation to itself", page + "/relations", url.Values{"related_organisation_id": {orgID}, "kind": {"affiliate"}}, "related_organisation_id"},
		formCase{"relation to nothing", page + "/relations", url.Values{"related_organisation_id": {"Partner Hub"}, "kind": {"affiliate"}}, "related_organisation_id"},
		formCase{"relation kind", page + "/relations", url.Values{"related_organisation_id": {partner}, "kind": {"rival"}, "partner_q": {"partner"}}, "kind"},
	)
	before := orgState(t, env)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.PostForm(tc.path, tc.values)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", res.StatusCode)
			}
			if !hasFieldError(res.Body, tc.field) {
				t.Fatalf("no error on %s: %s", tc.field, apptest.FirstError(res.Body))
			}
			if !strings.Contains(res.Body, `class="error-summary"`) {
				t.Fatal("no error summary")
			}
		})
	}
	if after := orgState(t, env); after != before {
		t.Fatalf("refused forms changed the database:\n%s\n---\n%s", before, after)
	}
	// A refused form keeps what was typed.
	v := orgForm("Typed Name")
	v.Set("organisation_year_founded", "soon")
	if res := c.PostForm(page, v); !strings.Contains(res.Body, `value="Typed Name"`) {
		t.Fatal("the edit form lost what was typed")
	}
	// A refused partner choice shows the search results again.
	res := c.PostForm(page+"/relations", url.Values{"related_organisation_id": {partner}, "kind": {"rival"}, "partner_q": {"partner"}})
	if !strings.Contains(res.Body, `value="`+partner+`" checked`) {
		t.Fatal("the partner list was not shown again with the choice")
	}
}

func TestInvitationForAnotherAddressIsRefused(t *testing.T) {
	env := apptest.New(t)
	owner, orgID := env.Applicant("owner@example.org", "Accra Dockworkers")
	if _, err := env.Organisations.Invite(t.Context(), audit.Actor{UserID: owner.ID}, orgID, "kofi@example.org", "owner", "en"); err != nil {
		t.Fatal(err)
	}
	link := invitationPath(t, env, "kofi@example.org")
	other, _ := env.User("yaw@example.org", "", "")
	c := env.Client()
	c.SignIn("yaw@example.org", "")
	res := c.Get(link)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "another e-mail address") || strings.Contains(res.Body, `action="`+link+`"`) {
		t.Fatalf("invitation page for another address: %d", res.StatusCode)
	}
	before := orgState(t, env)
	if res := c.PostForm(link, nil); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "another e-mail address") {
		t.Fatalf("accept by another address: %d", res.StatusCode)
	}
	if orgState(t, env) != before || memberRole(t, env, orgID, other.ID) != "" {
		t.Fatal("the other person was let in")
	}
	// The invitation still works for the person it was sent to.
	env.User("kofi@example.org", "", "")
	k := env.Client()
	k.SignIn("kofi@example.org", "")
	if res := k.PostForm(link, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept by the invited person: %d", res.StatusCode)
	}
	if res := env.Client().Get("/invitations/not-a-real-token"); res.StatusCode != http.StatusGone {
		t.Fatalf("unknown token: %d", res.StatusCode)
	}
}

// TestOrganisationIsolation: an applicant of organisation A learns nothing
// about organisation B and changes nothing in it, through the pages or the
// API; every refusal is audited.
func TestOrganisationIsolation(t *testing.T) {
	env := apptest.New(t)
	ctx := t.Context()
	_, orgA := env.Applicant("a@example.org", "Alpha Growers")
	ownerB, orgB := env.Applicant("b@example.org", "Bravo Secret Cooperative")
	_, orgC := env.Applicant("c@example.org", "Charlie Hub")
	memberB, _ := env.User("bm@example.org", "", "")
	by := audit.Actor{UserID: ownerB.ID}
	if _, err := env.Organisations.Invite(ctx, by, orgB, memberB.Email, "member", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Organisations.AcceptInvitation(ctx, audit.Actor{UserID: memberB.ID}, memberB.Email,
		strings.TrimPrefix(invitationPath(t, env, memberB.Email), "/invitations/")); err != nil {
		t.Fatal(err)
	}
	inv, err := env.Organisations.Invite(ctx, by, orgB, "pending@example.org", "member", "en")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := env.Organisations.AddRelation(ctx, by, orgB, orgC, "affiliate")
	if err != nil {
		t.Fatal(err)
	}
	applicant, _ := env.User("a2@example.org", "", "")
	_ = orgA

	pages := env.Client()
	pages.SignIn("a@example.org", "")
	ua, _ := env.Accounts.UserByEmail(ctx, "a@example.org")
	api := bearer(t, env, ua.ID)

	b := "/organisations/" + orgB
	form := orgForm("Hijacked")
	pageReqs := []struct {
		method, path string
		values       url.Values
	}{
		{http.MethodGet, b, nil},
		{http.MethodGet, b + "?partner_q=charlie", nil},
		{http.MethodPost, b, form},
		{http.MethodPost, b + "/invitations", url.Values{"invite_email": {"spy@example.org"}, "invite_role": {"owner"}}},
		{http.MethodPost, b + "/invitations/" + inv.ID + "/revoke", nil},
		{http.MethodPost, b + "/members/" + memberB.ID + "/role", url.Values{"role": {"owner"}}},
		{http.MethodPost, b + "/members/" + memberB.ID + "/remove", nil},
		{http.MethodPost, b + "/members/" + ua.ID + "/role", url.Values{"role": {"owner"}}},
		{http.MethodPost, b + "/relations", url.Values{"related_organisation_id": {orgA}, "kind": {"affiliate"}}},
		{http.MethodPost, b + "/relations/" + rel.ID + "/remove", nil},
		{http.MethodGet, "/organisations/0190a5b0-0000-7000-8000-000000000000", nil},
	}
	a := "/api/v1" + b
	apiReqs := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, a, nil},
		{http.MethodPatch, a, map[string]any{"name": "Hijacked"}},
		{http.MethodGet, a + "/members", nil},
		{http.MethodPatch, a + "/members/" + memberB.ID, map[string]any{"role": "owner"}},
		{http.MethodDelete, a + "/members/" + memberB.ID, nil},
		{http.MethodGet, a + "/invitations", nil},
		{http.MethodPost, a + "/invitations", map[string]any{"email": "spy@example.org", "role": "owner"}},
		{http.MethodDelete, a + "/invitations/" + inv.ID, nil},
		{http.MethodGet, a + "/relations", nil},
		{http.MethodPost, a + "/relations", map[string]any{"related_organisation_id": orgA, "kind": "affiliate"}},
		{http.MethodDelete, a + "/relations/" + rel.ID, nil},
		{http.MethodGet, "/api/v1/organisations/0190a5b0-0000-7000-8000-000000000000", nil},
	}

	before := orgState(t, env)
	check := func(t *testing.T, res *apptest.Response, denied0 int64) {
		t.Helper()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", res.StatusCode)
		}
		for _, secret := range []string{"Bravo Secret", "bm@example.org", "pending@example.org", "Charlie Hub"} {
			if strings.Contains(res.Body, secret) {
				t.Fatalf("answer reveals %q", secret)
			}
		}
		if denials(t, env) != denied0+1 {
			t.Fatal("the refusal was not audited")
		}
	}
	for _, r := range pageReqs {
		t.Run("page "+r.method+" "+r.path, func(t *testing.T) {
			d := denials(t, env)
			var res *apptest.Response
			if r.method == http.MethodGet {
				res = pages.Get(r.path)
			} else {
				res = pages.PostForm(r.path, r.values)
			}
			check(t, res, d)
		})
	}
	for _, r := range apiReqs {
		t.Run("api "+r.method+" "+r.path, func(t *testing.T) {
			d := denials(t, env)
			check(t, api.JSON(r.method, r.path, r.body, nil), d)
		})
	}
	if after := orgState(t, env); after != before {
		t.Fatalf("refused requests changed the database:\n%s\n---\n%s", before, after)
	}
	var rec audit.Record
	if err := env.DB.Gorm.Where("action = ? AND domain = ?", "authz.deny", authz.OrgDomain(orgB)).Order("seq DESC").Take(&rec).Error; err != nil {
		t.Fatalf("no denial recorded in B's domain: %v", err)
	}
	if rec.ActorID != ua.ID {
		t.Fatalf("denial recorded for %q, want the applicant", rec.ActorID)
	}

	// Someone in no organisation at all fares the same.
	loner := env.Client()
	loner.SignIn(applicant.Email, "")
	if res := loner.Get(b); res.StatusCode != http.StatusNotFound {
		t.Fatalf("outsider: %d", res.StatusCode)
	}

	// Staff with read-only system grants read, and change nothing.
	_, auditorSecret := env.User("auditor@example.org", authz.RoleAuditor, "system")
	aud := env.Client()
	aud.SignIn("auditor@example.org", auditorSecret)
	if res := aud.Get(b); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Bravo Secret") || strings.Contains(res.Body, `action="`+b+`/invitations"`) {
		t.Fatalf("auditor reads: %d", res.StatusCode)
	}
	if res := aud.PostForm(b, form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor edits: %d", res.StatusCode)
	}
	_, adminSecret := env.User("admin@example.org", authz.RoleAdmin, "system")
	adm := env.Client()
	adm.SignIn("admin@example.org", adminSecret)
	if res := adm.Get(b); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "bm@example.org") {
		t.Fatalf("admin reads: %d", res.StatusCode)
	}
	if res := adm.PostForm(b+"/members/"+memberB.ID+"/remove", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("admin removes a member: %d", res.StatusCode)
	}
	if after := orgState(t, env); after != before {
		t.Fatal("staff changed the organisation")
	}
}
