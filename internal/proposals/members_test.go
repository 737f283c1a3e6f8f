package proposals_test

import (
	"errors"
	"testing"

	"facility/internal/proposals"
	"facility/internal/validate"
)

func TestTeamMembersGetTheirRights(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	guest, _ := f.env.User("guest@example.org", "", "")
	if _, r, err := f.env.Proposals.ForPerson(t.Context(), guest.ID, p.ID); err != nil || r != "" {
		t.Fatalf("stranger has rights %q (%v)", r, err)
	}
	if _, err := f.env.Proposals.AddMember(t.Context(), f.actor, p.ID, " Guest@Example.org ", proposals.RightView); err != nil {
		t.Fatal(err)
	}
	if _, r, err := f.env.Proposals.ForPerson(t.Context(), guest.ID, p.ID); err != nil || r != proposals.RightView {
		t.Fatalf("viewer has rights %q (%v)", r, err)
	}
	// Adding again changes the rights instead of adding a second row.
	if _, err := f.env.Proposals.AddMember(t.Context(), f.actor, p.ID, "guest@example.org", proposals.RightEdit); err != nil {
		t.Fatal(err)
	}
	ms, err := f.env.Proposals.Members(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range ms {
		if m.UserID == guest.ID {
			found++
			if m.Rights != proposals.RightEdit || m.Email != "guest@example.org" {
				t.Fatalf("member %+v", m)
			}
		}
	}
	if found != 1 {
		t.Fatalf("guest listed %d times", found)
	}
	if err := f.env.Proposals.RemoveMember(t.Context(), f.actor, p.ID, guest.ID); err != nil {
		t.Fatal(err)
	}
	if _, r, err := f.env.Proposals.ForPerson(t.Context(), guest.ID, p.ID); err != nil || r != "" {
		t.Fatalf("removed member has rights %q (%v)", r, err)
	}
	if err := f.env.Proposals.RemoveMember(t.Context(), f.actor, p.ID, guest.ID); !errors.Is(err, proposals.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}

func TestBadMemberInputChangesNothing(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	f.env.User("guest@example.org", "", "")
	before, _ := f.env.Proposals.Members(t.Context(), p.ID)
	for name, in := range map[string][2]string{
		"no account":     {"nobody@example.org", proposals.RightView},
		"not an address": {"guest", proposals.RightView},
		"unknown right":  {"guest@example.org", "owner"},
		"no right":       {"guest@example.org", ""},
	} {
		_, err := f.env.Proposals.AddMember(t.Context(), f.actor, p.ID, in[0], in[1])
		if fe, ok := validate.As(err); !ok || len(fe) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	after, _ := f.env.Proposals.Members(t.Context(), p.ID)
	if len(after) != len(before) {
		t.Fatalf("members %d -> %d", len(before), len(after))
	}
}
