package web_test

import (
	"net/http"
	"strings"
	"testing"

	"facility/internal/audit"
)

// Back in a proposal after the invitation, the applicant reads why (the
// concept note was selected, the full proposal is due) and finds the
// concept note's receipt, which the list and the editor otherwise no
// longer link once the proposal is a draft again.
func TestFullProposalEditorSaysWhyAndLinksTheConceptNote(t *testing.T) {
	w := twoRoundWorld(t)
	a, _ := w.eligibleNote(t, "ama@example.org")
	applicant := w.env.Client()
	applicant.SignIn("ama@example.org", "")
	page := "/proposals/" + a.ID
	if res := applicant.Get(page); strings.Contains(res.Body, `id="rounds-invited"`) {
		t.Fatal("the invitation notice shows on a concept note")
	}
	mgr := audit.Actor{UserID: w.call.CreatedBy, IP: "127.0.0.1"}
	if err := w.env.Screening.Invite(t.Context(), mgr, w.call.ID, []string{a.ID}, "", "en"); err != nil {
		t.Fatal(err)
	}
	res := applicant.Get(page)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `id="rounds-invited"`) ||
		!strings.Contains(res.Body, "Your concept note was selected") || !strings.Contains(res.Body, `href="`+page+`/receipt"`) {
		t.Fatalf("editor of an invited proposal: %d", res.StatusCode)
	}
	if res = applicant.Get(page + "/receipt"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, a.ReceiptNumber) {
		t.Errorf("the linked receipt: %d", res.StatusCode)
	}
}
