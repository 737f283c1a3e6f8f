package screening_test

import (
	"errors"
	"strings"
	"testing"

	"facility/internal/audit"
	"facility/internal/mail"
	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/validate"
)

// asked is a submitted proposal of a new applicant for which the manager
// requested more information.
func (f fixture) asked(t *testing.T, email, lang, request string) (*proposals.Proposal, applicant) {
	t.Helper()
	a := f.applicant(t, email, 1990)
	p := f.draft(t, f.call.ID, a, lang, 2_000_000)
	p, err := f.env.Proposals.Submit(t.Context(), a.Actor, p.ID, lang)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Decide(t.Context(), f.manager, f.call.ID, []string{p.ID}, screening.MoreInformation, request, "en"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.env.Proposals.Get(t.Context(), p.ID)
	return p, a
}

func TestReplyOnlyWhileMoreInformationIsRequested(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	pending := f.submitted(t, "pending@example.org", "en", 1990, 2_000_000)
	da := f.applicant(t, "draft@example.org", 1990)
	draft := f.draft(t, f.call.ID, da, "en", 2_000_000)
	eligible, ea := f.asked(t, "eligible@example.org", "en", "Send the statutes.")
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{eligible.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	wa := f.applicant(t, "withdrawn@example.org", 1990)
	w := f.draft(t, f.call.ID, wa, "en", 2_000_000)
	if _, err := f.env.Proposals.Submit(ctx, wa.Actor, w.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Proposals.Withdraw(ctx, wa.Actor, w.ID); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		id    string
		actor audit.Actor
	}{
		"not yet screened": {pending.ID, f.manager}, "draft": {draft.ID, da.Actor},
		"already eligible": {eligible.ID, ea.Actor}, "withdrawn": {w.ID, wa.Actor},
	} {
		_, err := f.env.Screening.Reply(ctx, c.actor, c.id, "Here are our statutes.", "en")
		if !errors.Is(err, screening.ErrNotAwaitingReply) || !errors.Is(err, proposals.ErrWrongStatus) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.env.Screening.Reply(ctx, f.manager, "00000000-0000-7000-8000-000000000000", "x", "en"); !errors.Is(err, screening.ErrNotFound) {
		t.Errorf("unknown proposal: %v", err)
	}
	if n := countRows(t, f.env, "screening_replies", "1 = 1"); n != 0 {
		t.Fatalf("%d replies stored", n)
	}

	// Asked: one answer is taken; a second finds nothing to answer.
	p, a := f.asked(t, "ama@example.org", "en", "Send the statutes.")
	if _, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, "Attached to our website: https://example.org/statutes", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, "Again.", "en"); !errors.Is(err, screening.ErrNotAwaitingReply) {
		t.Fatalf("second answer: %v", err)
	}
}

func TestBadRepliesChangeNothing(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	p, a := f.asked(t, "ama@example.org", "en", "Send the statutes.")
	mails := countRows(t, f.env, "outbox", "1 = 1")
	for name, c := range map[string]struct{ body, code string }{
		"empty":        {"", "required"},
		"blank":        {" \n\t ", "required"},
		"oversized":    {strings.Repeat("é", screening.MaxReply+1), "too_long"},
		"NUL":          {"statutes\x00", "control_character"},
		"invalid UTF8": {"statutes \xff\xfe", "invalid_utf8"},
		"RTL override": {"statutes \u202efdp.exe", "bidi_control"},
		"escape":       {"statutes \x1b[31m", "control_character"},
	} {
		_, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, c.body, "en")
		fe, ok := validate.As(err)
		if !ok || len(fe) != 1 || fe[0].Field != "body" || fe[0].Code != c.code {
			t.Errorf("%s: %v", name, err)
		}
	}
	got, _ := f.env.Proposals.Get(ctx, p.ID)
	if got.Screening != screening.MoreInformation || got.Version != p.Version || got.ScreeningReason != "Send the statutes." {
		t.Fatalf("a refused answer changed the proposal: %+v", got)
	}
	if n := countRows(t, f.env, "screening_replies", "1 = 1"); n != 0 {
		t.Fatalf("%d replies stored", n)
	}
	if n := countRows(t, f.env, "outbox", "1 = 1"); n != mails {
		t.Fatalf("%d mails queued", n-mails)
	}
	if recs, _ := audit.List(ctx, f.env.DB.Gorm, audit.Filter{Action: "proposal.screening_reply"}); len(recs) != 0 {
		t.Fatalf("audited: %+v", recs)
	}
	// Exactly the limit, with line breaks as a browser sends them, is fine.
	body := strings.Repeat("a", screening.MaxReply-2) + "\r\nb"
	if _, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, body, "en"); err != nil {
		t.Fatalf("answer at the limit: %v", err)
	}
}

func TestReplyReopensScreeningAndTellsTheManagerWhoAsked(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	p, a := f.asked(t, "awa@example.org", "fr", "Envoyez vos statuts.")
	// The manager reads French; the applicant's request came in English.
	if err := f.env.DB.Gorm.Exec("UPDATE users SET locale = 'fr' WHERE id = ?", f.manager.UserID).Error; err != nil {
		t.Fatal(err)
	}
	h, _ := screening.History(ctx, f.env.DB.Gorm, p.ID)
	r, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, "  Nos statuts sont en ligne.\r\nÀ bientôt.  ", "en")
	if err != nil {
		t.Fatal(err)
	}
	if r.DecisionID != h[len(h)-1].ID || r.Body != "Nos statuts sont en ligne.\nÀ bientôt." || r.RepliedBy != a.UserID {
		t.Fatalf("reply %+v", r)
	}
	got, _ := f.env.Proposals.Get(ctx, p.ID)
	if got.Screening != proposals.ScreeningPending || got.Version != p.Version+1 || got.ScreeningReason != "" {
		t.Fatalf("screening %q version %d (was %d) reason %q", got.Screening, got.Version, p.Version, got.ScreeningReason)
	}
	// The submission itself is untouched.
	if got.ContentHash != p.ContentHash || got.ReceiptNumber != p.ReceiptNumber || !got.SubmittedAt.Equal(*p.SubmittedAt) ||
		got.Answers.V["summary"] != p.Answers.V["summary"] || got.Status != proposals.StatusSubmitted {
		t.Fatalf("submission changed: %+v", got)
	}
	recs, _ := audit.List(ctx, f.env.DB.Gorm, audit.Filter{Action: "proposal.screening_reply", ObjectID: p.ID})
	if len(recs) != 1 || recs[0].ActorID != a.UserID || recs[0].Domain != "org:"+a.org || !strings.Contains(recs[0].Details, r.ID) {
		t.Fatalf("audit %+v", recs)
	}
	var mgrEmail string
	f.env.DB.Gorm.Table("users").Select("email").Where("id = ?", f.manager.UserID).Scan(&mgrEmail)
	ms, _ := mail.Outbox(ctx, f.env.DB.Gorm, mgrEmail, 5)
	if len(ms) != 1 || ms[0].Kind != "screening_reply" || !strings.Contains(ms[0].Subject, "Réponse reçue") ||
		!strings.Contains(ms[0].Body, "http://facility.test/manage/proposals/"+p.ID) || !strings.Contains(ms[0].Body, "Awa Tester") {
		t.Fatalf("mail to the manager: %+v", ms)
	}

	// Back in the queue, marked as answered.
	q, err := f.env.Screening.Queue(ctx, f.call.ID, screening.FilterReplied)
	if err != nil || len(q) != 1 || q[0].Proposal.ID != p.ID || q[0].RepliedAt == nil || !q[0].RepliedAt.Equal(r.CreatedAt) {
		t.Fatalf("replied filter: %+v %v", q, err)
	}
	other := f.submitted(t, "ama@example.org", "en", 1990, 2_000_000)
	q, _ = f.env.Screening.Queue(ctx, f.call.ID, proposals.ScreeningPending)
	if len(q) != 2 {
		t.Fatalf("pending lists %d", len(q))
	}
	for _, e := range q {
		if (e.RepliedAt != nil) != (e.Proposal.ID == p.ID) {
			t.Errorf("%s marked answered: %v", e.Proposal.Title, e.RepliedAt)
		}
	}
	// Once decided, the mark goes: the answer was read.
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID, other.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	if q, _ := f.env.Screening.Queue(ctx, f.call.ID, screening.FilterReplied); len(q) != 0 {
		t.Fatalf("replied after the decision: %+v", q)
	}
	if q, _ := f.env.Screening.Queue(ctx, f.call.ID, screening.Eligible); len(q) != 2 || q[0].RepliedAt != nil || q[1].RepliedAt != nil {
		t.Fatalf("eligible: %+v", q)
	}

	// Replies are append-only in the database too.
	f.env.DB.Gorm.Exec("UPDATE screening_replies SET body = 'changed' WHERE id = ?", r.ID)
	f.env.DB.Gorm.Exec("DELETE FROM screening_replies WHERE id = ?", r.ID)
	var body string
	f.env.DB.Gorm.Table("screening_replies").Select("body").Where("id = ?", r.ID).Scan(&body)
	if body != r.Body {
		t.Fatalf("a reply was changed or deleted: %q", body)
	}
}

func TestConversationOldestFirst(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	p, a := f.asked(t, "ama@example.org", "en", "Send the statutes.")
	if _, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, "Statutes: https://example.org/s", "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.MoreInformation, "The link is broken.", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Screening.Reply(ctx, a.Actor, p.ID, "Fixed: https://example.org/statutes", "en"); err != nil {
		t.Fatal(err)
	}
	// An eligible decision is not part of the conversation.
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	ms, err := f.env.Screening.Conversation(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ kind, body string }{
		{screening.MessageRequest, "Send the statutes."}, {screening.MessageReply, "Statutes: https://example.org/s"},
		{screening.MessageRequest, "The link is broken."}, {screening.MessageReply, "Fixed: https://example.org/statutes"},
	}
	if len(ms) != len(want) {
		t.Fatalf("conversation %+v", ms)
	}
	for i, w := range want {
		if ms[i].Kind != w.kind || ms[i].Body != w.body || ms[i].ByName == "" {
			t.Errorf("message %d: %+v, want %s %q", i, ms[i], w.kind, w.body)
		}
	}
	if ms[1].DecisionID != ms[0].ID || ms[3].DecisionID != ms[2].ID || ms[0].By != f.manager.UserID || ms[1].By != a.UserID {
		t.Fatalf("links: %+v", ms)
	}
	if ms, err := f.env.Screening.Conversation(ctx, "not-an-id"); err != nil || len(ms) != 0 {
		t.Fatalf("unknown proposal: %+v %v", ms, err)
	}
}
