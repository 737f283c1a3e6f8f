package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// A JSON field the API does not know is named as the caller sent it, not
// by an untranslated message id.
func TestUnknownJSONFieldNamedAsSent(t *testing.T) {
	w := twoRoundWorld(t)
	a, _ := w.eligibleNote(t, "ama@example.org")
	applicant := w.env.Client()
	applicant.SignIn("ama@example.org", "")
	check := func(who string, res int, body string) {
		t.Helper()
		if res != http.StatusUnprocessableEntity || !strings.Contains(body, `"message":"extra is not a known field."`) || strings.Contains(body, "field_extra") {
			t.Errorf("%s: %d %s", who, res, body)
		}
	}
	res := w.manager.JSON(http.MethodPost, "/api/v1/manage/calls/"+w.call.ID+"/invite", map[string]any{"proposal_ids": []string{a.ID}, "extra": 1}, nil)
	check("invitation", res.StatusCode, res.Body)
	res = applicant.JSON(http.MethodPost, "/api/v1/proposals", map[string]any{"call_id": w.call.ID, "extra": 1}, nil)
	check("new proposal", res.StatusCode, res.Body)
	if round(t, w, a.ID) != 1 {
		t.Error("a refused invitation changed the proposal")
	}
}
