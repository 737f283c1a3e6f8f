package proposals_test

import (
	"errors"
	"testing"
	"time"

	"facility/internal/database"
	"facility/internal/proposals"
)

// ForPerson reads the proposal and the person's rights in one statement,
// with the rights of the table in every case: organisation owner and
// member, team viewer, editor and submitter, both at once (the stronger
// wins), and a stranger (the proposal comes back with no rights, so the
// refusal can name its organisation). Read together (ForPeople) and in a
// person's list (MineWithDetails) each gets the same rights.
func TestForPersonRights(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	add := func(email, rights string) string {
		t.Helper()
		u, _ := f.env.User(email, "", "")
		if rights != "" {
			if _, err := f.env.Proposals.AddMember(t.Context(), f.actor, p.ID, email, rights); err != nil {
				t.Fatal(err)
			}
		}
		return u.ID
	}
	orgMember := func(userID string) {
		t.Helper()
		if err := f.env.DB.Gorm.Exec("INSERT INTO organisation_members (organisation_id, user_id, role, created_at) VALUES (?, ?, 'member', ?)",
			f.org, userID, time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
	}
	member := add("member@example.org", "")
	orgMember(member)
	memberSubmitter := add("member.submitter@example.org", proposals.RightSubmit)
	orgMember(memberSubmitter)
	memberViewer := add("member.viewer@example.org", proposals.RightView)
	orgMember(memberViewer)
	cases := map[string]struct{ userID, want string }{
		"organisation owner":           {f.actor.UserID, proposals.RightSubmit},
		"organisation member":          {member, proposals.RightEdit},
		"team viewer":                  {add("viewer@example.org", proposals.RightView), proposals.RightView},
		"team editor":                  {add("editor@example.org", proposals.RightEdit), proposals.RightEdit},
		"team submitter":               {add("submitter@example.org", proposals.RightSubmit), proposals.RightSubmit},
		"member who is team submitter": {memberSubmitter, proposals.RightSubmit},
		"member who is team viewer":    {memberViewer, proposals.RightEdit},
		"stranger":                     {add("stranger@example.org", ""), ""},
	}
	want, err := f.env.Proposals.Get(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		got, rights, err := f.env.Proposals.ForPerson(t.Context(), tc.userID, p.ID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rights != tc.want {
			t.Errorf("%s: rights %q, want %q", name, rights, tc.want)
		}
		if got.ID != want.ID || got.OrganisationID != want.OrganisationID || got.Title != want.Title || got.Version != want.Version ||
			got.Answers.V["summary"] != want.Answers.V["summary"] || got.RequestedMinor != want.RequestedMinor || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("%s: proposal %+v, want %+v", name, got, want)
		}
	}
	// Read together, as under load, each gets the answer it got alone; a
	// list of nine is padded to sixteen, which changes nothing.
	var names, users, ids []string
	for name, tc := range cases {
		names, users, ids = append(names, name), append(users, tc.userID), append(ids, p.ID)
	}
	names, users, ids = append(names, "unknown proposal"), append(users, f.actor.UserID), append(ids, database.NewID())
	got, rights, errs := f.env.Proposals.ForPeople(t.Context(), users, ids)
	for i, name := range names {
		if name == "unknown proposal" {
			if got[i] != nil || !errors.Is(errs[i], proposals.ErrNotFound) {
				t.Errorf("together, %s: %v %v", name, got[i], errs[i])
			}
			continue
		}
		if errs[i] != nil || got[i].ID != p.ID || rights[i] != cases[name].want {
			t.Errorf("together, %s: rights %q (%v), want %q", name, rights[i], errs[i], cases[name].want)
		}
	}
	if got[0] == got[1] {
		t.Error("two people share one proposal value")
	}

	// A person's list shows the proposal with the same rights; a stranger's
	// list does not show it.
	for name, tc := range cases {
		list, err := f.env.Proposals.MineWithDetails(t.Context(), tc.userID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		found := false
		for _, s := range list {
			if s.ID == p.ID {
				found = true
				if s.Rights != tc.want {
					t.Errorf("listed, %s: rights %q, want %q", name, s.Rights, tc.want)
				}
			}
		}
		if found != (tc.want != "") {
			t.Errorf("listed, %s: listed %v", name, found)
		}
	}

	for name, id := range map[string]string{"unknown": database.NewID(), "not an id": "x' OR 1=1 --", "empty": ""} {
		if got, rights, err := f.env.Proposals.ForPerson(t.Context(), f.actor.UserID, id); !errors.Is(err, proposals.ErrNotFound) || got != nil || rights != "" {
			t.Errorf("%s proposal: %v %q %v", name, got, rights, err)
		}
	}
}
