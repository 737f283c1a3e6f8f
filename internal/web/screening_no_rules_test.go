package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
)

// A call without eligibility rules has no automatic result to show: the
// queue and the proposal page both say so, rather than "All rules passed"
// on one and "no automatic result" on the other.
func TestScreeningCallWithoutRulesSaysSo(t *testing.T) {
	w := newScreeningWorld(t)
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	in.FacilityCode = facilityA
	in.Eligibility = nil
	c, _ := w.env.PublishedCall(in)
	p, _ := w.proposal(t, c, "ama@example.org", "en", 1990, 2_000_000, false)
	for _, page := range []string{"/manage/calls/" + c.ID + "/proposals", "/manage/proposals/" + p.ID} {
		res := w.manager.Get(page)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", page, res.StatusCode, apptest.FirstError(res.Body))
		}
		if !strings.Contains(res.Body, "No automatic rules for this call") || strings.Contains(res.Body, "All rules passed") ||
			strings.Contains(res.Body, "No automatic result") {
			t.Errorf("%s does not say the call has no automatic rules", page)
		}
	}
}
