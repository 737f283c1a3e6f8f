package screening_test

import (
	"testing"

	"facility/internal/calls"
)

// A call no longer published (cancelled) invites nobody to the full proposal.
func TestInviteRefusedForACallNotPublished(t *testing.T) {
	f := twoRound(t)
	p, _ := f.conceptNote(t, "ama@example.org", "en", true)
	if err := f.env.DB.Gorm.Exec("UPDATE calls SET status = ? WHERE id = ?", calls.StatusCancelled, f.call.ID).Error; err != nil {
		t.Fatal(err)
	}
	err := f.env.Screening.Invite(t.Context(), f.manager, f.call.ID, []string{p.ID}, "", "en")
	if c := code(err, "proposal_ids"); c != "invite_call_not_published" {
		t.Fatalf("cancelled call: %v", err)
	}
	unchanged(t, f, p.ID)
}
