package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"facility/internal/accounts"
)

// The receipt shows when the proposal was received once, to the second,
// for a reader in UTC; a reader elsewhere also sees the UTC time.
func TestReceiptShowsTheReceivedTimeOnce(t *testing.T) {
	w := newScreeningWorld(t)
	p, a := w.proposal(t, w.call, "ama@example.org", "en", 1990, 2_000_000, false)
	c := w.env.Client()
	c.SignIn("ama@example.org", "")
	at := p.SubmittedAt.UTC()
	receipt := func() string {
		t.Helper()
		res := c.Get("/proposals/" + p.ID + "/receipt")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("receipt: %d", res.StatusCode)
		}
		return res.Body
	}
	body := receipt()
	if n := strings.Count(body, at.Format("2006-01-02 15:04")); n != 1 || !strings.Contains(body, at.Format("2006-01-02 15:04:05 UTC")) {
		t.Errorf("reader in UTC: the received time is shown %d times, want once to the second", n)
	}

	u, _ := w.env.Accounts.User(t.Context(), a.UserID)
	if err := w.env.Accounts.UpdateProfile(t.Context(), a, accounts.ProfileInput{Name: u.Name, Locale: "en", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	body = receipt()
	for _, want := range []string{at.In(tokyo).Format("2006-01-02 15:04:05 JST"), at.Format("2006-01-02 15:04:05 UTC")} {
		if !strings.Contains(body, want) {
			t.Errorf("reader in Tokyo: receipt lacks %q", want)
		}
	}
}
