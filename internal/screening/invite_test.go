package screening_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/calls"
	"facility/internal/mail"
	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/validate"
)

// twoRound is a fixture with a two-round call open for concept notes for
// an hour, full proposals closing in two days.
func twoRound(t *testing.T) fixture {
	env := apptest.New(t)
	c, mgr := env.PublishedCall(trilingual(apptest.TwoRoundCallInput(-time.Hour, time.Hour, 48*time.Hour)))
	return fixture{env: env, call: c, manager: audit.Actor{UserID: mgr, IP: "127.0.0.1", RequestID: "test"}}
}

// conceptNote is a submitted concept note, screened eligible when eligible.
func (f fixture) conceptNote(t *testing.T, email, lang string, eligible bool) (*proposals.Proposal, applicant) {
	t.Helper()
	a := f.applicant(t, email, 1990)
	p := f.draft(t, f.call.ID, a, lang, 2_000_000)
	p, err := f.env.Proposals.Submit(t.Context(), a.Actor, p.ID, lang)
	if err != nil {
		t.Fatal(err)
	}
	if eligible {
		if err := f.env.Screening.Decide(t.Context(), f.manager, f.call.ID, []string{p.ID}, screening.Eligible, "", "en"); err != nil {
			t.Fatal(err)
		}
		p, _ = f.env.Proposals.Get(t.Context(), p.ID)
	}
	return p, a
}

func code(err error, field string) string {
	fe, ok := validate.As(err)
	if !ok {
		return ""
	}
	for _, e := range fe {
		if e.Field == field {
			return e.Code
		}
	}
	return ""
}

// unchanged checks a refused invitation left the proposal a round-1 submission.
func unchanged(t *testing.T, f fixture, ids ...string) {
	t.Helper()
	for _, id := range ids {
		p, _ := f.env.Proposals.Get(t.Context(), id)
		if p.Round != 1 || (p.Status == proposals.StatusSubmitted && p.ReceiptNumber == "") {
			t.Errorf("%s changed: round %d, status %s, receipt %q", id, p.Round, p.Status, p.ReceiptNumber)
		}
	}
	if n := countRows(t, f.env, "outbox", "kind = ?", "full_proposal_invitation"); n != 0 {
		t.Errorf("%d invitations mailed", n)
	}
}

func TestInviteRefusals(t *testing.T) {
	f := twoRound(t)
	ctx := t.Context()
	eligible, _ := f.conceptNote(t, "ama@example.org", "en", true)
	pending, _ := f.conceptNote(t, "awa@example.org", "fr", false)
	draft := f.draft(t, f.call.ID, f.applicant(t, "kofi@example.org", 1990), "en", 2_000_000)
	invite := func(ids []string, message string) error {
		return f.env.Screening.Invite(ctx, f.manager, f.call.ID, ids, message, "en")
	}
	for _, tc := range []struct {
		name, field, code string
		err               error
	}{
		{"nothing chosen", "proposal_ids", "required", invite(nil, "")},
		{"not eligible", "proposal_ids", "invite_not_eligible", invite([]string{pending.ID}, "")},
		{"not submitted", "proposal_ids", "invite_not_submitted", invite([]string{draft.ID}, "")},
		// All or none: one proposal that cannot be invited stops the others.
		{"mixed", "proposal_ids", "invite_not_eligible", invite([]string{eligible.ID, pending.ID}, "")},
		{"not an id", "proposal_ids", "screening_not_in_call", invite([]string{eligible.ID, "x"}, "")},
		{"message too long", "message", "too_long", invite([]string{eligible.ID}, strings.Repeat("a", screening.MaxMessage+1))},
		{"hostile message", "message", "", invite([]string{eligible.ID}, "hi \u202e there")},
		{"too many", "proposal_ids", "screening_too_many", invite(manyIDs(screening.MaxBulk+1), "")},
	} {
		if tc.code == "" && code(tc.err, tc.field) == "" || tc.code != "" && code(tc.err, tc.field) != tc.code {
			t.Errorf("%s: want %s on %s, got %v", tc.name, tc.code, tc.field, tc.err)
		}
	}
	unchanged(t, f, eligible.ID, pending.ID, draft.ID)

	// Another call's proposal, even a two-round one of the same facility.
	other, _ := f.env.PublishedCall(trilingual(apptest.TwoRoundCallInput(-time.Hour, time.Hour, 48*time.Hour)))
	g := fixture{env: f.env, call: other, manager: f.manager}
	foreign, _ := g.conceptNote(t, "efua@example.org", "en", false)
	if c := code(invite([]string{eligible.ID, foreign.ID}, ""), "proposal_ids"); c != "screening_not_in_call" {
		t.Errorf("other call's proposal: %s", c)
	}
	unchanged(t, f, eligible.ID, foreign.ID)

	// A one-round call invites nobody.
	single, _ := f.env.PublishedCall(trilingual(apptest.CallInput(-time.Hour, time.Hour)))
	h := fixture{env: f.env, call: single, manager: f.manager}
	one, _ := h.conceptNote(t, "yaw@example.org", "en", true)
	err := f.env.Screening.Invite(ctx, f.manager, single.ID, []string{one.ID}, "", "en")
	if c := code(err, "proposal_ids"); c != "invite_not_two_round" {
		t.Errorf("one-round call: %v", err)
	}
	unchanged(t, f, one.ID)

	// Invited once, not twice.
	if err := invite([]string{eligible.ID}, ""); err != nil {
		t.Fatal(err)
	}
	if c := code(invite([]string{eligible.ID}, ""), "proposal_ids"); c != "invite_already_invited" {
		t.Errorf("second invitation: %s", c)
	}

	// Once the full proposal closes (database clock), no more invitations.
	late, _ := f.conceptNote(t, "esi@example.org", "en", true)
	f.env.DB.Gorm.Exec("UPDATE calls SET opens_at = ?, closes_at = ?, full_proposal_closes_at = ? WHERE id = ?",
		time.Now().UTC().Add(-3*time.Hour), time.Now().UTC().Add(-2*time.Hour), time.Now().UTC().Add(-time.Second), f.call.ID)
	if c := code(invite([]string{late.ID}, ""), "proposal_ids"); c != "invite_full_proposal_closed" {
		t.Errorf("after the full proposal closed: %s", c)
	}
	if p, _ := f.env.Proposals.Get(ctx, late.ID); p.Round != 1 || p.Status != proposals.StatusSubmitted {
		t.Errorf("late invitation changed the proposal: %+v", p)
	}
}

func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	return out
}

func TestInvitationOpensTheFullProposal(t *testing.T) {
	f := twoRound(t)
	ctx := t.Context()
	a, ama := f.conceptNote(t, "ama@example.org", "fr", true)
	b, _ := f.conceptNote(t, "awa@example.org", "es", true)
	if err := f.env.Screening.Invite(ctx, f.manager, f.call.ID, []string{b.ID, a.ID}, "Merci ! Détaillez le budget.", "en"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.env.Proposals.Get(ctx, a.ID)
	if got.Round != 2 || got.Status != proposals.StatusDraft || got.Screening != proposals.ScreeningPending || got.ScreeningReason != "" ||
		got.SubmittedAt != nil || got.SubmittedBy != nil || got.ReceiptNumber != "" || got.ContentHash != "" || got.Version != a.Version+1 {
		t.Fatalf("after the invitation: %+v", got)
	}
	if got.Answers.V["summary"] != a.Answers.V["summary"] {
		t.Fatalf("concept note answers not carried over: %v", got.Answers.V)
	}
	// The concept note stays as submitted.
	rounds, err := f.env.Proposals.Rounds(ctx, a.ID)
	if err != nil || len(rounds) != 1 || rounds[0].Round != 1 || rounds[0].ReceiptNumber != a.ReceiptNumber ||
		rounds[0].ContentHash != a.ContentHash || !rounds[0].SubmittedAt.Equal(a.SubmittedAt.UTC()) {
		t.Fatalf("round 1 record %+v (%v), want %s %s", rounds, err, a.ReceiptNumber, a.ContentHash)
	}
	// Audited, mailed in the proposal's language with the deadline and the note.
	if n := countRows(t, f.env, "audit_log", "action = ? AND object_id = ?", "proposal.invite_full_proposal", a.ID); n != 1 {
		t.Fatalf("%d audit records", n)
	}
	ms, _ := mail.Outbox(ctx, f.env.DB.Gorm, "ama@example.org", 5)
	if len(ms) == 0 || ms[0].Kind != "full_proposal_invitation" || !strings.Contains(ms[0].Subject, "proposition complète") ||
		!strings.Contains(ms[0].Body, "Détaillez le budget.") || !strings.Contains(ms[0].Body, f.call.FullProposalClosesAt.UTC().Format("2006-01-02 15:04")) ||
		!strings.Contains(ms[0].Body, "http://facility.test/proposals/"+a.ID) {
		t.Fatalf("invitation mail: %+v", ms)
	}
	if es, _ := mail.Outbox(ctx, f.env.DB.Gorm, "awa@example.org", 5); len(es) == 0 || !strings.Contains(es[0].Subject, "propuesta completa") {
		t.Fatalf("Spanish invitation: %+v", es)
	}

	// The full proposal asks for its own sections before it can be submitted.
	missing, _ := f.env.Proposals.Missing(ctx, got)
	if !missing.Has("answers.workplan") || missing.Has("answers.summary") {
		t.Fatalf("missing in round 2: %v", missing)
	}
	if _, err := f.env.Proposals.Submit(ctx, ama.Actor, a.ID, "fr"); !errors.As(err, new(validate.Errors)) {
		t.Fatalf("incomplete full proposal: %v", err)
	}
	got, err = f.env.Proposals.Save(ctx, ama.Actor, a.ID, proposals.SaveInput{Version: got.Version, Answers: map[string]any{"workplan": "Month 1: build dryers."}})
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.env.Proposals.Submit(ctx, ama.Actor, a.ID, "fr")
	if err != nil {
		t.Fatal(err)
	}
	if full.Round != 2 || full.ReceiptNumber == a.ReceiptNumber || !strings.HasSuffix(full.ReceiptNumber, "-F") || full.ContentHash == a.ContentHash {
		t.Fatalf("full proposal receipt %s %s (concept note %s %s)", full.ReceiptNumber, full.ContentHash, a.ReceiptNumber, a.ContentHash)
	}
	rounds, _ = f.env.Proposals.Rounds(ctx, a.ID)
	if len(rounds) != 2 || rounds[0].ContentHash != a.ContentHash || rounds[1].ReceiptNumber != full.ReceiptNumber ||
		rounds[1].Answers.V["workplan"] != "Month 1: build dryers." || rounds[0].Answers.V["workplan"] != nil {
		t.Fatalf("rounds %+v", rounds)
	}
	// The full proposal goes back to the screening queue, marked round 2.
	q, _ := f.env.Screening.Queue(ctx, f.call.ID, proposals.ScreeningPending)
	if len(q) != 1 || q[0].Proposal.ID != a.ID || q[0].Proposal.Round != 2 {
		t.Fatalf("queue %+v", q)
	}
	// Round records are append-only in the database.
	for _, stmt := range []string{"UPDATE proposal_rounds SET content_hash = 'forged' WHERE proposal_id = ?", "DELETE FROM proposal_rounds WHERE proposal_id = ?"} {
		if err := f.env.DB.Gorm.Exec(stmt, a.ID).Error; err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", stmt, err)
		}
	}
}

// invited is an eligible concept note invited to the full proposal.
func (f fixture) invited(t *testing.T, email string) (*proposals.Proposal, applicant) {
	t.Helper()
	p, a := f.conceptNote(t, email, "en", true)
	if err := f.env.Screening.Invite(t.Context(), f.manager, f.call.ID, []string{p.ID}, "", "en"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.env.Proposals.Get(t.Context(), p.ID)
	p, err := f.env.Proposals.Save(t.Context(), a.Actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"workplan": "Plan."}})
	if err != nil {
		t.Fatal(err)
	}
	return p, a
}

// closeFullProposal moves the full proposal's deadline (closing time plus
// a 10-minute grace period) to now+offset, the concept note long closed.
func (f fixture) closeFullProposal(t *testing.T, offset time.Duration) {
	t.Helper()
	now := time.Now().UTC()
	if err := f.env.DB.Gorm.Exec("UPDATE calls SET opens_at = ?, closes_at = ?, full_proposal_closes_at = ?, grace_minutes = 10 WHERE id = ?",
		now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(offset-10*time.Minute), f.call.ID).Error; err != nil {
		t.Fatal(err)
	}
}

func TestFullProposalDeadlineUsesTheDatabaseClock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"one second before", 2 * time.Second, true},
		{"one second after", -time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := twoRound(t)
			p, a := f.invited(t, "ama@example.org")
			f.closeFullProposal(t, tc.offset)
			got, err := f.env.Proposals.Submit(t.Context(), a.Actor, p.ID, "en")
			var de *proposals.DeadlineError
			if tc.ok && (err != nil || got.Status != proposals.StatusSubmitted || got.Round != 2) {
				t.Fatalf("before the deadline: %v", err)
			}
			if !tc.ok && !errors.As(err, &de) {
				t.Fatalf("after the deadline: %v", err)
			}
		})
	}
}

func TestConceptNoteExtensionDoesNotCarryOver(t *testing.T) {
	f := twoRound(t)
	ctx := t.Context()
	a := f.applicant(t, "ama@example.org", 1990)
	p := f.draft(t, f.call.ID, a, "en", 2_000_000)
	// The concept note gets a generous extension, far beyond the full proposal's closing time.
	ext := time.Now().UTC().Add(100 * time.Hour).Truncate(time.Second)
	if err := f.env.Proposals.GrantExtension(ctx, f.manager, p.ID, ext, "flood in the region"); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.env.Proposals.Deadline(ctx, p); !d.Equal(ext) {
		t.Fatalf("round 1 deadline %v, want %v", d, ext)
	}
	if _, err := f.env.Proposals.Submit(ctx, a.Actor, p.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Invite(ctx, f.manager, f.call.ID, []string{p.ID}, "", "en"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.env.Proposals.Get(ctx, p.ID)
	p, err := f.env.Proposals.Save(ctx, a.Actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"workplan": "Plan."}})
	if err != nil {
		t.Fatal(err)
	}
	f.closeFullProposal(t, -time.Minute)
	c, _ := f.env.Calls.Get(ctx, f.call.ID)
	if d, _ := f.env.Proposals.Deadline(ctx, p); !d.Equal(c.RoundDeadline(calls.RoundFullProposal)) {
		t.Fatalf("round 2 deadline %v, want the full proposal's %v", d, c.RoundDeadline(calls.RoundFullProposal))
	}
	if _, err := f.env.Proposals.Submit(ctx, a.Actor, p.ID, "en"); !errors.As(err, new(*proposals.DeadlineError)) {
		t.Fatalf("full proposal with the concept note's extension: %v", err)
	}
	// Its own extension counts; an extension must be later than the round's deadline.
	if err := f.env.Proposals.GrantExtension(ctx, f.manager, p.ID, c.RoundDeadline(calls.RoundFullProposal), "x"); code(err, "closes_at") != "extension_not_later" {
		t.Fatalf("extension not later than round 2: %v", err)
	}
	if err := f.env.Proposals.GrantExtension(ctx, f.manager, p.ID, time.Now().UTC().Add(time.Hour), "power cut"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Proposals.Submit(ctx, a.Actor, p.ID, "en"); err != nil {
		t.Fatalf("full proposal with its own extension: %v", err)
	}
	es, _ := f.env.Screening.Queue(ctx, f.call.ID, "")
	if len(es) != 1 || !es[0].Deadline.After(c.RoundDeadline(2)) || es[0].Deadline.After(time.Now().Add(2*time.Hour)) {
		t.Fatalf("queue deadline %+v", es)
	}
}

func TestFullProposalIsNotMarkedReplied(t *testing.T) {
	f := twoRound(t)
	ctx := t.Context()
	p, a := f.conceptNote(t, "ama@example.org", "en", false)
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.MoreInformation, "Send the accounts.", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, "Attached to our website.", "en"); err != nil {
		t.Fatal(err)
	}
	if q, _ := f.env.Screening.Queue(ctx, f.call.ID, screening.FilterReplied); len(q) != 1 || q[0].RepliedAt == nil {
		t.Fatalf("answered concept note: %+v", q)
	}
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Invite(ctx, f.manager, f.call.ID, []string{p.ID}, "", "en"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.env.Proposals.Get(ctx, p.ID)
	if _, err := f.env.Proposals.Save(ctx, a.Actor, p.ID, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"workplan": "Plan."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Proposals.Submit(ctx, a.Actor, p.ID, "en"); err != nil {
		t.Fatal(err)
	}
	// Pending because it is a new full proposal, not because of the concept note's answer.
	if q, _ := f.env.Screening.Queue(ctx, f.call.ID, screening.FilterReplied); len(q) != 0 {
		t.Fatalf("full proposal listed as replied: %+v", q)
	}
	if q, _ := f.env.Screening.Queue(ctx, f.call.ID, proposals.ScreeningPending); len(q) != 1 || q[0].RepliedAt != nil {
		t.Fatalf("pending full proposal: %+v", q)
	}
}
