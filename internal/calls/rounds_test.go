package calls_test

import (
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
)

func TestFullProposalClosingTime(t *testing.T) {
	env := apptest.New(t)
	two := func(edit func(in *calls.Input)) calls.Input {
		in := apptest.TwoRoundCallInput(24*time.Hour, 30*24*time.Hour, 60*24*time.Hour)
		if edit != nil {
			edit(&in)
		}
		return in
	}
	for _, tc := range []struct {
		name string
		in   calls.Input
		code string
	}{
		{"two rounds without it", two(func(in *calls.Input) { in.FullProposalCloses = "" }), "required"},
		{"not a time", two(func(in *calls.Input) { in.FullProposalCloses = "next spring" }), "invalid_datetime"},
		{"at the closing time", two(func(in *calls.Input) { in.FullProposalCloses = in.Closes }), "full_proposal_before_closes"},
		{"before the closing time", two(func(in *calls.Input) { in.FullProposalCloses = in.Opens }), "full_proposal_before_closes"},
		{"one round with it", two(func(in *calls.Input) {
			in.TwoRound = false
			in.Form.Sections = in.Form.Sections[:1]
		}), "full_proposal_one_round"},
	} {
		if errs := check(t, env, &tc.in); !hasError(errs, "full_proposal_closes", tc.code) {
			t.Errorf("%s: want %s, got %v", tc.name, tc.code, errs)
		}
	}
	// Round-2 sections need a two-round call (the builder's round field).
	in := design()
	in.Form.Sections[0].Round = 2
	if errs := check(t, env, &in); !hasError(errs, "form.sections.0.round", "invalid_round") {
		t.Errorf("round 2 section in a one-round call: %v", errs)
	}

	// Stored in UTC from the call's timezone; the round's deadline has the grace period.
	in = two(func(in *calls.Input) {
		in.Timezone, in.GraceMinutes = "Europe/Zurich", 30
		in.Opens, in.Closes, in.FullProposalCloses = "2030-01-10T09:00", "2030-02-10T17:00", "2030-07-01T17:00"
	})
	mgr, _ := env.User("mgr@example.org", authz.RoleManager, authz.FacilityDomain(in.FacilityCode))
	c, err := env.Calls.Create(t.Context(), audit.Actor{UserID: mgr.ID}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 7, 1, 15, 0, 0, 0, time.UTC) // CEST is UTC+2
	if c.FullProposalClosesAt == nil || !c.FullProposalClosesAt.Equal(want) {
		t.Fatalf("stored %v, want %v", c.FullProposalClosesAt, want)
	}
	got, _ := env.Calls.Get(t.Context(), c.ID)
	if !got.RoundDeadline(calls.RoundFullProposal).Equal(want.Add(30*time.Minute)) || !got.RoundDeadline(calls.RoundConceptNote).Equal(got.Deadline()) {
		t.Fatalf("deadlines %v %v", got.RoundDeadline(2), got.RoundDeadline(1))
	}
	// Back to one round: the full proposal's time goes with it.
	in.TwoRound, in.FullProposalCloses = false, ""
	in.Form.Sections = in.Form.Sections[:1]
	if c, err = env.Calls.Update(t.Context(), audit.Actor{UserID: mgr.ID}, c.ID, c.Version, in); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Calls.Get(t.Context(), c.ID); got.FullProposalClosesAt != nil {
		t.Fatalf("one-round call keeps %v", got.FullProposalClosesAt)
	}
}
