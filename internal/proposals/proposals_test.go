package proposals_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/calls"
	"facility/internal/mail"
	"facility/internal/proposals"
	"facility/internal/validate"
)

type fixture struct {
	env   *apptest.Env
	call  *calls.Call
	actor audit.Actor
	org   string
}

func setup(t *testing.T) fixture {
	env := apptest.New(t)
	c, _ := env.PublishedCall(apptest.CallInput(-time.Hour, 24*time.Hour))
	u, org := env.Applicant("ama@example.org", "Ghana Cocoa Cooperative")
	return fixture{env: env, call: c, actor: audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "test"}, org: org}
}

func (f fixture) complete(t *testing.T) *proposals.Proposal {
	t.Helper()
	p, err := f.env.Proposals.Start(t.Context(), f.actor, proposals.StartInput{CallID: f.call.ID, OrganisationID: f.org, Title: "Solar dryers", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	amount := int64(2_000_000)
	p, err = f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, RequestedMinor: &amount,
		Answers: map[string]any{"summary": "Cooperatives dry cocoa with solar power.", "pilot": false, "country": "GH"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTwoEditorsNeverOverwriteEachOther(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	a, err := f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"summary": "first editor"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"summary": "second editor"}})
	var ce *proposals.ConflictError
	if !errors.As(err, &ce) || ce.Current.Answers.V["summary"] != "first editor" || ce.Current.Version != a.Version {
		t.Fatalf("second editor: %v", err)
	}
	got, _ := f.env.Proposals.Get(t.Context(), p.ID)
	if got.Answers.V["summary"] != "first editor" {
		t.Fatalf("stored summary %q", got.Answers.V["summary"])
	}
}

func TestConditionalAnswersAndCompleteness(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	// Saying the idea was piloted makes the results question appear and required.
	p, err := f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"pilot": true}})
	if err != nil {
		t.Fatal(err)
	}
	missing, _ := f.env.Proposals.Missing(t.Context(), p)
	if !missing.Has("answers.pilot_results") {
		t.Fatalf("missing: %v", missing)
	}
	if _, err := f.env.Proposals.Submit(t.Context(), f.actor, p.ID, "fr"); !errors.As(err, new(validate.Errors)) {
		t.Fatalf("incomplete submit: %v", err)
	}
	p, err = f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"pilot_results": "Yields up 20%."}})
	if err != nil {
		t.Fatal(err)
	}
	// Back to "no": the hidden answer is dropped, not kept behind the condition.
	p, err = f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"pilot": false}})
	if err != nil {
		t.Fatal(err)
	}
	if _, kept := p.Answers.V["pilot_results"]; kept {
		t.Fatal("answer to a hidden question kept")
	}
}

func TestBadAnswersChangeNothing(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	for name, answers := range map[string]map[string]any{
		"unknown question":  {"nonsense": "x"},
		"NUL":               {"summary": "a\x00b"},
		"bidi override":     {"summary": "evil \u202e txt"},
		"invalid UTF-8":     {"summary": "\xff"},
		"too many words":    {"summary": longText(301)},
		"script is text ok": {"country": "<script>"},
		"yes/no as text":    {"pilot": "maybe"},
		"country unknown":   {"country": "ZZ"},
	} {
		_, err := f.env.Proposals.Save(t.Context(), f.actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: answers})
		if fe, ok := validate.As(err); !ok || len(fe) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	got, _ := f.env.Proposals.Get(t.Context(), p.ID)
	if got.Version != p.Version {
		t.Fatalf("refused edits changed the proposal: version %d -> %d", p.Version, got.Version)
	}
}

func longText(words int) string {
	b := make([]byte, 0, words*5)
	for range words {
		b = append(b, "word "...)
	}
	return string(b)
}

func TestSubmitDeadlineUsesTheDatabaseClock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration // deadline relative to now
		ok     bool
	}{
		{"one second before", 2 * time.Second, true},
		{"one second after", -time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			p := f.complete(t)
			// Closing time plus a grace period of 10 minutes lands on the offset.
			closes := time.Now().UTC().Add(tc.offset - 10*time.Minute)
			f.env.DB.Gorm.Exec("UPDATE calls SET closes_at = ?, grace_minutes = 10 WHERE id = ?", closes, f.call.ID)
			got, err := f.env.Proposals.Submit(t.Context(), f.actor, p.ID, "fr")
			var de *proposals.DeadlineError
			if tc.ok && (err != nil || got.Status != proposals.StatusSubmitted || got.ReceiptNumber == "" || len(got.ContentHash) != 64) {
				t.Fatalf("before the deadline: %v", err)
			}
			if !tc.ok && !errors.As(err, &de) {
				t.Fatalf("after the deadline: %v", err)
			}
		})
	}
}

func TestConcurrentSubmitsMakeOneSubmission(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	var wg sync.WaitGroup
	results := make(chan error, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.env.Proposals.Submit(t.Context(), f.actor, p.ID, "fr")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		if err == nil {
			ok++
		} else if !errors.Is(err, proposals.ErrWrongStatus) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d submissions succeeded", ok)
	}
	var receipts int64
	f.env.DB.Gorm.Table("outbox").Where("kind = 'proposal_receipt'").Count(&receipts)
	if receipts != 1 {
		t.Fatalf("%d receipts", receipts)
	}
	msgs, _ := mail.Outbox(t.Context(), f.env.DB.Gorm, "ama@example.org", 5)
	if len(msgs) == 0 || !strings.Contains(msgs[0].Subject, "soumise") {
		t.Fatalf("receipt not in French: %+v", msgs)
	}
}

func TestWithdrawAndExtension(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	if _, err := f.env.Proposals.Submit(t.Context(), f.actor, p.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Proposals.Withdraw(t.Context(), f.actor, p.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.env.Proposals.Get(t.Context(), p.ID)
	if got.Status != proposals.StatusWithdrawn {
		t.Fatalf("status %s", got.Status)
	}
	// A late proposal with an individual extension is accepted.
	late := f.complete(t)
	f.env.DB.Gorm.Exec("UPDATE calls SET closes_at = ?, grace_minutes = 0 WHERE id = ?", time.Now().UTC().Add(-time.Hour), f.call.ID)
	if _, err := f.env.Proposals.Submit(t.Context(), f.actor, late.ID, "en"); !errors.As(err, new(*proposals.DeadlineError)) {
		t.Fatalf("late without extension: %v", err)
	}
	mgr := audit.Actor{UserID: f.actor.UserID, IP: "127.0.0.1"}
	if err := f.env.Proposals.GrantExtension(t.Context(), mgr, late.ID, time.Now().UTC().Add(time.Hour), "flood in the region"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Proposals.Submit(t.Context(), f.actor, late.ID, "en"); err != nil {
		t.Fatalf("late with extension: %v", err)
	}
	var n int64
	f.env.DB.Gorm.Table("audit_log").Where("action = 'proposal.extend_deadline'").Count(&n)
	if n != 1 {
		t.Fatal("extension not audited")
	}
}

// A manager who revises an extension to an earlier date is taken at their
// latest word everywhere the deadline is read: the submit check and the
// applicant's list alike.
func TestTheLatestExtensionIsInForceEverywhere(t *testing.T) {
	f := setup(t)
	p := f.complete(t)
	f.env.DB.Gorm.Exec("UPDATE calls SET closes_at = ?, grace_minutes = 0 WHERE id = ?", time.Now().UTC().Add(-time.Hour), f.call.ID)
	mgr := audit.Actor{UserID: f.actor.UserID, IP: "127.0.0.1"}
	first, revised := time.Now().UTC().Add(48*time.Hour).Truncate(time.Second), time.Now().UTC().Add(24*time.Hour).Truncate(time.Second)
	for _, at := range []time.Time{first, revised} {
		if err := f.env.Proposals.GrantExtension(t.Context(), mgr, p.ID, at, "flood in the region"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // grants are ordered by their time
	}
	got, _ := f.env.Proposals.Get(t.Context(), p.ID)
	d, err := f.env.Proposals.Deadline(t.Context(), got)
	if err != nil || !d.Equal(revised) {
		t.Fatalf("deadline %v (%v), want the revised %v", d, err, revised)
	}
	list, err := f.env.Proposals.MineWithDetails(t.Context(), f.actor.UserID)
	if err != nil || len(list) != 1 || !list[0].Deadline.Equal(revised) {
		t.Fatalf("the list's deadline: %+v %v, want the revised %v", list, err, revised)
	}
}
