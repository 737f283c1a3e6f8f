package screening_test

import (
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/mail"
	"facility/internal/screening"
)

// An eligible concept note of a two-round call waits for an invitation to
// the full proposal: its e-mail says so, in the proposal's language, and
// does not promise an evaluation. A one-round proposal's e-mail still does.
func TestEligibleConceptNoteMailTalksOfTheInvitation(t *testing.T) {
	f := twoRound(t)
	ctx := t.Context()
	note, _ := f.conceptNote(t, "ama@example.org", "fr", false)
	withNote, _ := f.conceptNote(t, "awa@example.org", "es", false)
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{note.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{withNote.ID}, screening.Eligible, "Bien hecho.", "en"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ email, want, note string }{
		{"ama@example.org", "invitées à soumettre une proposition complète", ""},
		{"awa@example.org", "invitadas a presentar una propuesta completa", "Bien hecho."},
	} {
		ms, _ := mail.Outbox(ctx, f.env.DB.Gorm, c.email, 5)
		if len(ms) == 0 || ms[0].Kind != "screening_eligible" {
			t.Fatalf("%s: no eligibility mail: %+v", c.email, ms)
		}
		if b := ms[0].Body; !strings.Contains(b, c.want) || !strings.Contains(b, c.note) || strings.Contains(b, "évaluation") || strings.Contains(b, "evaluación") {
			t.Errorf("%s: eligibility mail of a concept note:\n%s", c.email, b)
		}
	}

	one := fixture{env: apptest.New(t)}
	c, mgr := one.env.PublishedCall(trilingual(apptest.CallInput(-time.Hour, time.Hour)))
	one.call, one.manager = c, f.manager
	one.manager.UserID = mgr
	p, _ := one.conceptNote(t, "kofi@example.org", "en", true)
	ms, _ := mail.Outbox(ctx, one.env.DB.Gorm, "kofi@example.org", 5)
	if len(ms) == 0 || !strings.Contains(ms[0].Body, "goes on to evaluation") || strings.Contains(ms[0].Body, "full proposal") {
		t.Errorf("eligibility mail of a one-round proposal %s: %+v", p.ID, ms)
	}
}
