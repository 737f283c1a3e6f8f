package screening_test

import (
	"strings"
	"testing"

	"facility/internal/mail"
)

// The invitation says how long after its deadline a full proposal is still
// accepted, in the proposal's language, and says nothing of a grace period
// the call does not have.
func TestInvitationMailStatesTheGracePeriod(t *testing.T) {
	f := twoRound(t)
	ctx := t.Context()
	none, _ := f.conceptNote(t, "yaw@example.org", "en", true)
	if err := f.env.Screening.Invite(ctx, f.manager, f.call.ID, []string{none.ID}, "", "en"); err != nil {
		t.Fatal(err)
	}
	if body := invitationBody(t, f, "yaw@example.org"); body == "" || strings.Contains(body, "grace") {
		t.Fatalf("invitation without a grace period: %q", body)
	}
	if err := f.env.DB.Gorm.Exec("UPDATE calls SET grace_minutes = 15 WHERE id = ?", f.call.ID).Error; err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ama@example.org": "up to 15 minutes after", "awa@example.org": "jusqu'à 15 minutes après",
		"kofi@example.org": "hasta 15 minutos después"}
	langs := map[string]string{"ama@example.org": "en", "awa@example.org": "fr", "kofi@example.org": "es"}
	for email, lang := range langs {
		p, _ := f.conceptNote(t, email, lang, true)
		msg := ""
		if lang == "fr" {
			msg = "Détaillez le budget."
		}
		if err := f.env.Screening.Invite(ctx, f.manager, f.call.ID, []string{p.ID}, msg, "en"); err != nil {
			t.Fatal(err)
		}
		if body := invitationBody(t, f, email); !strings.Contains(body, want[email]) {
			t.Errorf("%s invitation does not state the grace period %q: %q", lang, want[email], body)
		}
	}
}

// invitationBody is the body of the latest invitation mailed to email.
func invitationBody(t *testing.T, f fixture, email string) string {
	t.Helper()
	ms, err := mail.Outbox(t.Context(), f.env.DB.Gorm, email, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Kind == "full_proposal_invitation" {
			return m.Body
		}
	}
	return ""
}
