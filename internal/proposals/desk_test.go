package proposals_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/idempotency"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// sub is a submission of p by the fixture's applicant with key, answered
// with the receipt number.
func (f fixture) sub(p *proposals.Proposal, key string) proposals.Submission {
	return proposals.Submission{Actor: f.actor, ProposalID: p.ID, Locale: "en", UserID: f.actor.UserID, Key: key,
		RequestHash: idempotency.Hash("test-submit", p.ID),
		Respond: func(sp *proposals.Proposal) (idempotency.Response, error) {
			b, err := json.Marshal(map[string]string{"receipt": sp.ReceiptNumber})
			return idempotency.Response{Status: 200, Body: b}, err
		}}
}

func (f fixture) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.env.DB.Gorm.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (f fixture) verifyAudit(t *testing.T) {
	t.Helper()
	_, problems, err := audit.Verify(t.Context(), f.env.DB.Gorm)
	if err != nil || len(problems) > 0 {
		t.Fatalf("audit chains: %v %+v", err, problems)
	}
}

func TestSubmitAllGivesEachItsOwnAnswer(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	accepted := f.complete(t)
	incomplete, err := f.env.Proposals.Start(ctx, f.actor, proposals.StartInput{CallID: f.call.ID, OrganisationID: f.org, Title: "Unfinished", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	wrongStatus := f.complete(t)
	if _, err := f.env.Proposals.Submit(ctx, f.actor, wrongStatus.ID, "en"); err != nil {
		t.Fatal(err)
	}
	stored := f.complete(t)
	first := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{f.sub(stored, "k-stored")})
	if first[0].Err != nil || first[0].Response.Status != 200 {
		t.Fatalf("first submission: %+v", first[0])
	}
	reused := f.complete(t)
	oneKey := f.complete(t)
	twoKeys := f.complete(t)
	// A late proposal: its call closed after the draft was complete.
	lateCall, _ := f.env.PublishedCall(apptest.CallInput(-time.Hour, 24*time.Hour))
	lateFixture := f
	lateFixture.call = lateCall
	late := lateFixture.complete(t)
	f.env.DB.Gorm.Exec("UPDATE calls SET closes_at = ?, grace_minutes = 0 WHERE id = ?", time.Now().UTC().Add(-time.Minute), lateCall.ID)

	reusedSub := f.sub(reused, "k-stored") // another request with a used key
	out := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{
		f.sub(accepted, "k-accepted"),
		f.sub(late, "k-late"),
		f.sub(incomplete, "k-incomplete"),
		f.sub(wrongStatus, "k-wrong"),
		f.sub(stored, "k-stored"),
		reusedSub,
		f.sub(oneKey, "k-one"),
		f.sub(oneKey, "k-one"),
		f.sub(twoKeys, "k-two-a"),
		f.sub(twoKeys, "k-two-b"),
	})
	check := func(i int, name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %+v (%s)", name, out[i], out[i].Response.Body)
		}
	}
	check(0, "accepted", out[0].Err == nil && !out[0].Replayed && strings.Contains(string(out[0].Response.Body), "receipt"))
	check(1, "late", errors.As(out[1].Err, new(*proposals.DeadlineError)))
	_, isValidation := validate.As(out[2].Err)
	check(2, "incomplete", isValidation)
	check(3, "wrong status", errors.Is(out[3].Err, proposals.ErrWrongStatus))
	check(4, "replay of a stored key", out[4].Err == nil && out[4].Replayed && string(out[4].Response.Body) == string(first[0].Response.Body))
	check(5, "key of another request", errors.Is(out[5].Err, idempotency.ErrMismatch))
	check(6, "one key, first", out[6].Err == nil && !out[6].Replayed)
	check(7, "one key, second", out[7].Err == nil && out[7].Replayed && string(out[7].Response.Body) == string(out[6].Response.Body))
	check(8, "two keys, first", out[8].Err == nil && !out[8].Replayed)
	check(9, "two keys, second", errors.Is(out[9].Err, proposals.ErrWrongStatus))

	// Only the accepted ones were done, each once.
	for _, c := range []struct {
		p    *proposals.Proposal
		want string
	}{{accepted, "submitted"}, {late, "draft"}, {incomplete, "draft"}, {reused, "draft"}, {oneKey, "submitted"}, {twoKeys, "submitted"}} {
		got, _ := f.env.Proposals.Get(ctx, c.p.ID)
		if got.Status != c.want {
			t.Errorf("%s: status %s, want %s", c.p.Title, got.Status, c.want)
		}
		want := int64(0)
		if c.want == "submitted" {
			want = 1
		}
		if n := f.count(t, "audit_log", "action = 'proposal.submit' AND object_id = ?", c.p.ID); n != want {
			t.Errorf("%s: %d submit records", c.p.ID, n)
		}
		if n := f.count(t, "proposal_rounds", "proposal_id = ?", c.p.ID); n != want {
			t.Errorf("%s: %d rounds", c.p.ID, n)
		}
	}
	// Receipts: the earlier two submissions and the three accepted now.
	if n := f.count(t, "outbox", "kind = 'proposal_receipt'"); n != 5 {
		t.Errorf("%d receipts", n)
	}
	// Keys: refused requests leave theirs free for a retry.
	for key, want := range map[string]int64{"k-accepted": 1, "k-late": 0, "k-incomplete": 0, "k-wrong": 0, "k-stored": 1, "k-one": 1, "k-two-a": 1, "k-two-b": 0} {
		if n := f.count(t, "idempotency_keys", "key = ? AND status_code = 200", key); n != want {
			t.Errorf("key %s: %d stored", key, n)
		}
	}
	f.verifyAudit(t)
}

func TestSubmitAllFallsBackToOneByOne(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	a, b := f.complete(t), f.complete(t)
	incomplete, err := f.env.Proposals.Start(ctx, f.actor, proposals.StartInput{CallID: f.call.ID, OrganisationID: f.org, Title: "Unfinished", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	// The batch's set-based update fails the first time: a database error
	// of the batch as a whole, which the submissions made one by one after
	// it do not meet.
	var failed atomic.Int32
	db := f.env.DB.Gorm
	if err := db.Callback().Raw().Before("gorm:raw").Register("test:fail_batch", func(d *gorm.DB) {
		if strings.Contains(d.Statement.SQL.String(), "submitted_by = v.by_user") && failed.CompareAndSwap(0, 1) {
			_ = d.AddError(errors.New("injected failure"))
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Callback().Raw().Remove("test:fail_batch") })

	out := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{f.sub(a, "k-a"), f.sub(incomplete, "k-i"), f.sub(b, "k-b"), f.sub(a, "k-a")})
	if failed.Load() != 1 {
		t.Fatalf("the batch failed %d times", failed.Load())
	}
	if out[0].Err != nil || out[2].Err != nil || out[0].Replayed || out[2].Replayed {
		t.Fatalf("one by one: %+v %+v", out[0], out[2])
	}
	if _, ok := validate.As(out[1].Err); !ok {
		t.Fatalf("incomplete: %v", out[1].Err)
	}
	if out[3].Err != nil || !out[3].Replayed || string(out[3].Response.Body) != string(out[0].Response.Body) {
		t.Fatalf("repetition: %+v", out[3])
	}
	if n := f.count(t, "audit_log", "action = 'proposal.submit'"); n != 2 {
		t.Fatalf("%d submit records", n)
	}
	if n := f.count(t, "outbox", "kind = 'proposal_receipt'"); n != 2 {
		t.Fatalf("%d receipts", n)
	}
	f.verifyAudit(t)
}

func TestDeskConcurrentRepetitionsMakeOneSubmissionEach(t *testing.T) {
	f := setup(t)
	ps := make([]*proposals.Proposal, 200)
	for i := range ps {
		ps[i] = f.complete(t)
	}
	type answer struct {
		res      idempotency.Response
		replayed bool
		err      error
	}
	got := make([][5]answer, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		for j := range 5 {
			wg.Go(func() {
				res, replayed, err := f.env.Desk.Submit(t.Context(), f.sub(p, fmt.Sprintf("key-%d", i)))
				got[i][j] = answer{res, replayed, err}
			})
		}
	}
	wg.Wait()
	for i, as := range got {
		fresh := 0
		for _, a := range as {
			if a.err != nil || a.res.Status != 200 || string(a.res.Body) != string(as[0].res.Body) {
				t.Fatalf("proposal %d: %+v, first %+v", i, a, as[0])
			}
			if !a.replayed {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("proposal %d: %d fresh answers", i, fresh)
		}
	}
	if n := f.count(t, "proposals", "status = 'submitted'"); n != 200 {
		t.Fatalf("%d submitted", n)
	}
	if n := f.count(t, "audit_log", "action = 'proposal.submit'"); n != 200 {
		t.Fatalf("%d submit records", n)
	}
	if n := f.count(t, "proposal_rounds", "1 = 1"); n != 200 {
		t.Fatalf("%d rounds", n)
	}
	if n := f.count(t, "outbox", "kind = 'proposal_receipt'"); n != 200 {
		t.Fatalf("%d receipts", n)
	}
	f.verifyAudit(t)
}

// A submission is made only by someone with the right to submit, read in
// the transaction that submits: a stranger is refused as if the proposal
// were hidden, a team viewer is refused openly, and neither changes it.
func TestSubmitAllChecksTheRightToSubmit(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	p := f.complete(t)
	stranger, _ := f.env.User("stranger@example.org", "", "")
	viewer, _ := f.env.User("viewer@example.org", "", "")
	if _, err := f.env.Proposals.AddMember(ctx, f.actor, p.ID, viewer.Email, proposals.RightView); err != nil {
		t.Fatal(err)
	}
	as := func(userID, key string) proposals.Submission {
		sub := f.sub(p, key)
		sub.Actor.UserID, sub.UserID = userID, userID
		return sub
	}
	out := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{as(stranger.ID, "k-s"), as(viewer.ID, "k-v")})
	for i, hidden := range []bool{true, false} {
		var ae *proposals.AccessError
		if !errors.As(out[i].Err, &ae) || ae.Hidden != hidden || ae.OrganisationID != f.org {
			t.Errorf("submission %d: %v, want an access error (hidden %v)", i, out[i].Err, hidden)
		}
	}
	if got, err := f.env.Proposals.Get(ctx, p.ID); err != nil || got.Status != proposals.StatusDraft {
		t.Fatalf("refused submissions changed the proposal: %v %v", got.Status, err)
	}
	if n := f.count(t, "idempotency_keys", "key IN ('k-s', 'k-v')"); n != 0 {
		t.Errorf("refused submissions kept %d keys", n)
	}
	if out := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{f.sub(p, "k-owner")}); out[0].Err != nil {
		t.Fatalf("owner: %v", out[0].Err)
	}
}
