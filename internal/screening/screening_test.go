package screening_test

import (
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/calls"
	"facility/internal/gates"
	"facility/internal/mail"
	"facility/internal/organisations"
	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/validate"
)

type fixture struct {
	env     *apptest.Env
	call    *calls.Call
	manager audit.Actor
}

// trilingual adds Spanish to a call design so proposals may be written in
// English, French or Spanish.
func trilingual(in calls.Input) calls.Input {
	es := func(t calls.Text, s string) calls.Text { t["es"] = s; return t }
	in.Languages = []string{"en", "fr", "es"}
	in.Title = es(in.Title, "Empleos verdes para pequeñas empresas")
	in.Challenge = es(in.Challenge, "¿Cómo pueden las pequeñas empresas crear empleos verdes decentes?")
	for i := range in.Form.Sections {
		s := &in.Form.Sections[i]
		s.Title = es(s.Title, "ES "+s.Title["en"])
		for j := range s.Questions {
			q := &s.Questions[j]
			q.Label = es(q.Label, "ES "+q.Label["en"])
		}
	}
	for i := range in.Criteria {
		in.Criteria[i].Name = es(in.Criteria[i].Name, "ES "+in.Criteria[i].Name["en"])
	}
	return in
}

func setup(t *testing.T) fixture {
	env := apptest.New(t)
	c, mgr := env.PublishedCall(trilingual(apptest.CallInput(-time.Hour, 24*time.Hour)))
	return fixture{env: env, call: c, manager: audit.Actor{UserID: mgr, IP: "127.0.0.1", RequestID: "test"}}
}

// applicant is a person acting for an organisation.
type applicant struct {
	audit.Actor
	org string
}

// applicant creates a person with an organisation founded in founded.
func (f fixture) applicant(t *testing.T, email string, founded int) applicant {
	t.Helper()
	u, _ := f.env.User(email, "", "")
	a := audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "test"}
	o, err := f.env.Organisations.Create(t.Context(), a, organisations.Input{Name: "Org of " + email, TypeCode: "workers_org_trade_union",
		CountryISO2: "GH", YearFounded: founded, Website: "https://example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return applicant{Actor: a, org: o.ID}
}

// draft starts and completes a proposal in lang asking for amount.
func (f fixture) draft(t *testing.T, callID string, a applicant, lang string, amount int64) *proposals.Proposal {
	t.Helper()
	ctx := t.Context()
	p, err := f.env.Proposals.Start(ctx, a.Actor, proposals.StartInput{CallID: callID, OrganisationID: a.org, Title: "Proposal " + lang, Language: lang})
	if err != nil {
		t.Fatal(err)
	}
	p, err = f.env.Proposals.Save(ctx, a.Actor, p.ID, proposals.SaveInput{Version: p.Version, RequestedMinor: &amount,
		Answers: map[string]any{"summary": "Solar dryers for cooperatives.", "pilot": false, "country": "GH"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f fixture) submitted(t *testing.T, email, lang string, founded int, amount int64) *proposals.Proposal {
	t.Helper()
	a := f.applicant(t, email, founded)
	p := f.draft(t, f.call.ID, a, lang, amount)
	p, err := f.env.Proposals.Submit(t.Context(), a.Actor, p.ID, lang)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func outcome(p *proposals.Proposal, kind string) calls.Outcome {
	for _, o := range p.Eligibility.V {
		if o.Rule.Kind == kind {
			return o
		}
	}
	return calls.Outcome{}
}

func TestAutomaticEligibilityResultsWithReasons(t *testing.T) {
	f := setup(t)
	year := time.Now().UTC().Year()
	good := f.submitted(t, "good@example.org", "en", 1990, 2_000_000)
	young := f.submitted(t, "young@example.org", "en", year-1, 2_000_000)
	greedy := f.submitted(t, "greedy@example.org", "en", 1990, 20_000_000)

	if !calls.Eligible(good.Eligibility.V) || len(good.Eligibility.V) != 2 {
		t.Fatalf("good proposal: %+v", good.Eligibility.V)
	}
	age := outcome(young, calls.RuleOrgAge)
	if age.Passed || age.Reason != "eligibility_org_age" || age.Params["Min"] != 2 || age.Params["Years"] != 1 {
		t.Fatalf("organisation founded last year: %+v", age)
	}
	amount := outcome(greedy, calls.RuleAmount)
	if amount.Passed || amount.Reason != "eligibility_amount" || amount.Params["Requested"] != int64(20_000_000) {
		t.Fatalf("amount above the maximum: %+v", amount)
	}

	failed, err := f.env.Screening.Queue(t.Context(), f.call.ID, screening.FilterAutoFailed)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range failed {
		got[e.Proposal.ID] = true
		if len(failedRules(e)) != 1 {
			t.Errorf("%s: failed rules %+v", e.Proposal.Title, failedRules(e))
		}
	}
	if len(got) != 2 || !got[young.ID] || !got[greedy.ID] {
		t.Fatalf("auto-failed filter lists %v", got)
	}
	all, _ := f.env.Screening.Queue(t.Context(), f.call.ID, screening.FilterAll)
	if len(all) != 3 || all[0].Organisation.Name == "" {
		t.Fatalf("queue: %+v", all)
	}
	if _, err := f.env.Screening.Queue(t.Context(), f.call.ID, "bogus"); !isField(err, "screening") {
		t.Fatalf("unknown filter: %v", err)
	}
}

func isField(err error, field string) bool {
	fe, ok := validate.As(err)
	return ok && fe.Has(field)
}

func countRows(t *testing.T, env *apptest.Env, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := env.DB.Gorm.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBulkDecisionRecordsGatesAuditAndTranslatedMails(t *testing.T) {
	f := setup(t)
	en := f.submitted(t, "ama@example.org", "en", 1990, 2_000_000)
	fr := f.submitted(t, "awa@example.org", "fr", 1990, 2_000_000)
	es := f.submitted(t, "ana@example.org", "es", 1990, 2_000_000)
	ids := []string{en.ID, fr.ID, es.ID}
	mailsBefore := countRows(t, f.env, "outbox", "kind = ?", "screening_ineligible")

	if err := f.env.Screening.Decide(t.Context(), f.manager, f.call.ID, ids, screening.Ineligible, "Budget <b>not</b> itemised", "en"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p, _ := f.env.Proposals.Get(t.Context(), id)
		if p.Screening != proposals.ScreeningIneligible || p.ScreeningReason != "Budget <b>not</b> itemised" {
			t.Errorf("%s: screening %q reason %q", p.Language, p.Screening, p.ScreeningReason)
		}
		h, err := screening.History(t.Context(), f.env.DB.Gorm, id)
		if err != nil || len(h) != 1 || h[0].Decision != "ineligible" || h[0].DecidedBy != f.manager.UserID || h[0].Reason == "" {
			t.Errorf("%s: G1 history %+v %v", p.Language, h, err)
		}
		recs, _ := audit.List(t.Context(), f.env.DB.Gorm, audit.Filter{Action: "proposal.screen", ObjectID: id})
		if len(recs) != 1 || recs[0].ActorID != f.manager.UserID || recs[0].Domain != "facility:sustainable_enterprises" {
			t.Errorf("%s: audit %+v", p.Language, recs)
		}
	}
	if n := countRows(t, f.env, "outbox", "kind = ?", "screening_ineligible"); n-mailsBefore != 3 {
		t.Fatalf("%d mails, want 3", n-mailsBefore)
	}
	for email, want := range map[string]string{
		"ama@example.org": "is not eligible",
		"awa@example.org": "n'est pas éligible",
		"ana@example.org": "no es elegible",
	} {
		ms, err := mail.Outbox(t.Context(), f.env.DB.Gorm, email, 10)
		if err != nil || len(ms) == 0 {
			t.Fatalf("no mail to %s: %v", email, err)
		}
		m := ms[0]
		if m.Kind != "screening_ineligible" || !strings.Contains(m.Subject, want) || !strings.Contains(m.Body, "Budget <b>not</b> itemised") ||
			!strings.Contains(m.Body, "http://facility.test/proposals/") {
			t.Errorf("mail to %s: %q\n%s", email, m.Subject, m.Body)
		}
	}
}

func TestCorrectionIsANewRecord(t *testing.T) {
	f := setup(t)
	p := f.submitted(t, "ama@example.org", "en", 1990, 2_000_000)
	ctx := t.Context()
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.MoreInformation, "Send the audited accounts.", "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{p.ID}, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	h, _ := screening.History(ctx, f.env.DB.Gorm, p.ID)
	if len(h) != 2 || h[0].Decision != "more_information" || h[1].Decision != "eligible" {
		t.Fatalf("history %+v", h)
	}
	got, _ := f.env.Proposals.Get(ctx, p.ID)
	if got.Screening != "eligible" || got.ScreeningReason != "" {
		t.Fatalf("in force: %q %q", got.Screening, got.ScreeningReason)
	}
	// Gate records are append-only in the database too.
	if err := f.env.DB.Gorm.Exec("UPDATE gate_decisions SET decision = 'ineligible' WHERE subject_id = ?", p.ID).Error; err == nil {
		if h2, _ := gates.History(ctx, f.env.DB.Gorm, "proposal", p.ID); h2[0].Decision != "more_information" {
			t.Fatal("a gate decision was overwritten")
		}
	}
}

// refused checks a decision is refused on field and that nothing changed.
func refused(t *testing.T, f fixture, err error, field string, ids ...string) {
	t.Helper()
	if !isField(err, field) {
		t.Fatalf("want a field error on %s, got %v", field, err)
	}
	for _, id := range ids {
		p, _ := f.env.Proposals.Get(t.Context(), id)
		if p.Screening != proposals.ScreeningPending {
			t.Errorf("%s screened anyway: %s", id, p.Screening)
		}
		if h, _ := screening.History(t.Context(), f.env.DB.Gorm, id); len(h) != 0 {
			t.Errorf("%s has G1 records: %+v", id, h)
		}
	}
	if n := countRows(t, f.env, "outbox", "kind LIKE ?", "screening_%"); n != 0 {
		t.Errorf("%d screening mails queued", n)
	}
}

func TestRefusedDecisionsChangeNothing(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	a := f.submitted(t, "ama@example.org", "en", 1990, 2_000_000)
	b := f.submitted(t, "awa@example.org", "fr", 1990, 2_000_000)

	err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID, b.ID}, screening.Ineligible, "  ", "en")
	refused(t, f, err, "reason", a.ID, b.ID)
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID}, screening.MoreInformation, "", "en")
	refused(t, f, err, "reason", a.ID)
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID}, "selected", "x", "en")
	refused(t, f, err, "decision", a.ID)
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, nil, screening.Eligible, "", "en")
	refused(t, f, err, "proposal_ids")
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID, "not-an-id"}, screening.Eligible, "", "en")
	refused(t, f, err, "proposal_ids", a.ID)
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID}, screening.Ineligible, "bad \u202e reason", "en")
	refused(t, f, err, "reason", a.ID)
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID}, screening.Ineligible, "nul \x00", "en")
	refused(t, f, err, "reason", a.ID)

	// A second call of the same facility: one decision cannot span both.
	other, _ := f.env.PublishedCall(trilingual(apptest.CallInput(-time.Hour, 24*time.Hour)))
	oa := f.applicant(t, "other@example.org", 1990)
	op := f.draft(t, other.ID, oa, "en", 2_000_000)
	if _, err := f.env.Proposals.Submit(ctx, oa.Actor, op.ID, "en"); err != nil {
		t.Fatal(err)
	}
	err = f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{a.ID, op.ID}, screening.Eligible, "", "en")
	refused(t, f, err, "proposal_ids", a.ID, op.ID)
	err = f.env.Screening.Decide(ctx, f.manager, other.ID, []string{a.ID, op.ID}, screening.Eligible, "", "en")
	refused(t, f, err, "proposal_ids", a.ID, op.ID)
}

func TestDraftsAndWithdrawnProposalsCannotBeScreened(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	ok := f.submitted(t, "ama@example.org", "en", 1990, 2_000_000)
	da := f.applicant(t, "draft@example.org", 1990)
	draft := f.draft(t, f.call.ID, da, "en", 2_000_000)
	wa := f.applicant(t, "withdrawn@example.org", 1990)
	w := f.draft(t, f.call.ID, wa, "en", 2_000_000)
	if _, err := f.env.Proposals.Submit(ctx, wa.Actor, w.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Proposals.Withdraw(ctx, wa.Actor, w.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{draft.ID, w.ID} {
		err := f.env.Screening.Decide(ctx, f.manager, f.call.ID, []string{ok.ID, id}, screening.Eligible, "", "en")
		refused(t, f, err, "proposal_ids", ok.ID, id)
	}
	q, _ := f.env.Screening.Queue(ctx, f.call.ID, "")
	if len(q) != 1 || q[0].Proposal.ID != ok.ID {
		t.Fatalf("queue lists %+v", q)
	}
	d, _ := f.env.Screening.Drafts(ctx, f.call.ID)
	if len(d) != 1 || d[0].Proposal.ID != draft.ID || !d[0].Deadline.Equal(f.call.Deadline()) {
		t.Fatalf("drafts list %+v", d)
	}
}

// failedRules lists the automatic rules a proposal did not pass.
func failedRules(e screening.Entry) []calls.Outcome {
	var out []calls.Outcome
	for _, o := range e.Proposal.Eligibility.V {
		if !o.Passed {
			out = append(out, o)
		}
	}
	return out
}
