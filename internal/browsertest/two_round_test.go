package browsertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTwoRoundCall follows a two-round call: the manager publishes
// a copy of the demo call as a two-round call (concept note, then a full
// proposal by invitation, through the design API from the page); the demo
// applicant submits a concept note; the manager screens it eligible and
// invites it to the full proposal from the screening queue; the applicant
// fills the full proposal's new section and submits; the receipt page
// shows both rounds. Each person has a browser of their own.
func TestBrowserTwoRoundCall(t *testing.T) {
	tj := &twoRoundJourney{journeys: newJourneys(t)}
	runSteps(t, []step{
		{"ManagerPublishesTwoRoundCall", tj.managerPublishes},
		{"ApplicantSubmitsConceptNote", tj.applicantSubmitsConceptNote},
		{"ManagerScreensAndInvites", tj.managerInvites},
		{"ApplicantSubmitsFullProposal", tj.applicantSubmitsFullProposal},
	})
}

type twoRoundJourney struct {
	*journeys
	manager     totpState
	callID      string
	proposalID  string
	title       string
	conceptNote string // the concept note's receipt number
	fullCloses  time.Time
}

const (
	fullSectionTitle = "Full proposal: work plan"
	workplanText     = "Months 1-3: train 120 young workers in solar drying. Months 4-12: equip six cooperatives."
	inviteMessage    = "Congratulations. Please detail the budget per activity."
)

// managerPublishes: the demo manager copies the demo call's design into a
// new two-round call with a full-proposal section, and takes it through G0
// to publication, with the design API from the page.
func (tj *twoRoundJourney) managerPublishes(t *testing.T) {
	b := newBrowser(t, tj.srv.URL)
	tj.signInStaff(b, managerEmail, &tj.manager)
	now := time.Now().UTC()
	tj.fullCloses = now.Add(40 * 24 * time.Hour).Truncate(time.Minute)
	const layout = "2006-01-02T15:04"
	id := await[string](b, fmt.Sprintf(`(async () => {
		const api = async (method, path, body) => {
			const r = await fetch("/api/v1" + path, {method, credentials: "same-origin",
				headers: {"Content-Type": "application/json"}, body: body ? JSON.stringify(body) : undefined});
			const text = await r.text();
			if (!r.ok) throw new Error(method + " " + path + ": " + r.status + " " + text);
			return text ? JSON.parse(text) : null;
		};
		const mine = (await api("GET", "/manage/calls")).calls;
		const demo = mine.find(c => c.status === "published");
		const input = (await api("GET", "/manage/calls/" + demo.id)).input;
		const each = s => Object.fromEntries(input.languages.map(l => [l, s]));
		input.title = each("Two rounds: green jobs for young cocoa workers");
		input.two_round = true;
		input.timezone = "UTC";
		input.opens = %q;
		input.closes = %q;
		input.full_proposal_closes = %q;
		input.form.sections.push({id: "full", round: 2, title: each(%q), questions: [
			{id: "workplan", kind: "long_text", label: each("Work plan in detail"), required: true, max_words: 500}]});
		const call = (await api("POST", "/manage/calls", input)).call;
		await api("POST", "/manage/calls/" + call.id + "/submit-for-approval");
		await api("POST", "/manage/calls/" + call.id + "/g0", {decision: "approve", reason: ""});
		await api("POST", "/manage/calls/" + call.id + "/publish");
		return call.id;
	})()`, now.Add(-24*time.Hour).Format(layout), now.Add(10*24*time.Hour).Format(layout), tj.fullCloses.Format(layout), fullSectionTitle))
	if len(id) != 36 {
		t.Fatalf("call id %q", id)
	}
	tj.callID = id
	// Its public page shows the full proposal's deadline.
	b.open("/calls/" + id)
	if d := b.text("#full-proposal-closes"); !strings.Contains(d, tj.fullCloses.Format("2006-01-02 15:04")) {
		t.Errorf("the public page shows the full proposal closing at %q", d)
	}
	b.shot("two-round-public-call")
}

// applicantSubmitsConceptNote: the demo applicant submits a concept note to
// the new call through the proposals API from the page.
func (tj *twoRoundJourney) applicantSubmitsConceptNote(t *testing.T) {
	b := newBrowser(t, tj.srv.URL)
	a := tj.srv.account(t, applicantEmail)
	tj.signIn(b, "two-round-applicant-login", a.Email, a.Password)
	tj.title = "Solar drying for young cocoa workers"
	id := await[string](b, fmt.Sprintf(`(async () => {
		const api = async (method, path, body, headers) => {
			const r = await fetch("/api/v1" + path, {method, credentials: "same-origin",
				headers: Object.assign({"Content-Type": "application/json"}, headers || {}), body: body ? JSON.stringify(body) : undefined});
			const text = await r.text();
			if (!r.ok) throw new Error(method + " " + path + ": " + r.status + " " + text);
			return text ? JSON.parse(text) : null;
		};
		const orgs = (await api("GET", "/organisations")).organisations;
		let p = await api("POST", "/proposals", {call_id: %q, organisation_id: orgs[0].id, title: %q, language: "en"});
		p = await api("PATCH", "/proposals/" + p.id, {version: p.version, requested_minor: 2500000,
			answers: {summary: "Train 120 young workers in solar drying of cocoa.", pilot: false, country: "GH"}});
		await api("POST", "/proposals/" + p.id + "/submit", null, {"Idempotency-Key": "two-round-" + p.id});
		return p.id;
	})()`, tj.callID, tj.title))
	if len(id) != 36 {
		t.Fatalf("proposal id %q", id)
	}
	tj.proposalID = id
	b.open("/proposals/" + id)
	lang := b.lang()
	if r := b.text("#proposal-round"); r != tj.T(lang, "rounds_name_1", nil) {
		t.Errorf("the proposal's round reads %q", r)
	}
	b.open("/proposals/" + id + "/receipt")
	tj.conceptNote = b.text("#receipt-number")
	if tj.conceptNote == "" || strings.HasSuffix(tj.conceptNote, "-F") {
		t.Fatalf("concept note receipt %q", tj.conceptNote)
	}
	b.shot("two-round-concept-note-receipt")
}

// managerInvites: the manager marks the concept note eligible in the
// screening queue, then selects it again and invites it to the full
// proposal with a message.
func (tj *twoRoundJourney) managerInvites(t *testing.T) {
	b := newBrowser(t, tj.srv.URL)
	tj.signInStaff(b, managerEmail, &tj.manager)
	lang := b.lang()
	queue := "/manage/calls/" + tj.callID + "/proposals"
	b.open(queue)
	row := func(section string) string {
		return js[string](b, fmt.Sprintf(`(() => {
			const a = document.querySelector('%s a[href="/manage/proposals/%s"]');
			return a ? a.closest("tr").textContent.replace(/\s+/g, " ").trim() : "";
		})()`, section, tj.proposalID))
	}
	if r := row("#submitted"); !strings.Contains(r, tj.title) || !strings.Contains(r, tj.T(lang, "rounds_name_1", nil)) || !strings.Contains(r, tj.conceptNote) {
		t.Fatalf("the queue row reads %q", r)
	}
	b.step("select the concept note", chromedp.Click(chromedp.CSS("#sel-"+tj.proposalID)))
	if st := b.submit(`#submitted button[name="decision"][value="eligible"]`); st != 200 {
		t.Fatalf("mark eligible: status %d, error %q", st, tj.firstError(b))
	}
	b.expectPath(queue)

	// Invite with nothing selected: refused on the page, nothing changes.
	if st := b.submit("#invite-bulk"); st != 422 {
		t.Fatalf("invite nothing: status %d", st)
	}
	if e := b.text("#e-invite_proposal_ids"); !strings.Contains(e, tj.T(lang, "field_invite_proposal_ids", nil)) {
		t.Errorf("the empty invitation's error reads %q", e)
	}
	b.open(queue)
	b.step("select the concept note again", chromedp.Click(chromedp.CSS("#sel-"+tj.proposalID)))
	b.fill("#f-invite_message", inviteMessage)
	b.shot("two-round-invite")
	if st := b.submit("#invite-bulk"); st != 200 {
		t.Fatalf("invite: status %d, error %q", st, tj.firstError(b))
	}
	b.expectPath(queue)
	if f := b.text(".flash"); f != tj.T(lang, "flash_rounds_invited", nil) {
		t.Errorf("after inviting, the message is %q", f)
	}
	// Now a full proposal in progress: listed with the drafts, marked round 2.
	if r := row("#drafts"); !strings.Contains(r, tj.T(lang, "rounds_name_2", nil)) {
		t.Errorf("the drafts row reads %q", r)
	}
	b.shot("two-round-invited")
	var told bool
	for _, m := range tj.srv.outbox(t, applicantEmail) {
		told = told || m.Kind == "full_proposal_invitation" && strings.Contains(m.Body, inviteMessage) &&
			strings.Contains(m.Body, "/proposals/"+tj.proposalID) && strings.Contains(m.Body, tj.fullCloses.Format("2006-01-02 15:04"))
	}
	if !told {
		t.Error("the applicant was not invited by e-mail")
	}
}

// applicantSubmitsFullProposal: the applicant finds the full proposal with
// the concept note's answers, fills the new section, submits, and reads
// both rounds' receipts.
func (tj *twoRoundJourney) applicantSubmitsFullProposal(t *testing.T) {
	b := newBrowser(t, tj.srv.URL)
	a := tj.srv.account(t, applicantEmail)
	tj.signIn(b, "two-round-applicant-login-again", a.Email, a.Password)
	page := "/proposals/" + tj.proposalID
	b.open(page)
	lang := b.lang()
	if r := b.text("#proposal-round"); r != tj.T(lang, "rounds_name_2", nil) {
		t.Errorf("the proposal's round reads %q", r)
	}
	if d := b.text("#deadline"); !strings.Contains(d, tj.fullCloses.Format("2006-01-02")) {
		t.Errorf("the deadline shown is %q, want the full proposal's", d)
	}
	link := fmt.Sprintf(`nav ol.stages a[href="/proposals/%s?section=full"]`, tj.proposalID)
	if st := b.navigate("open the full proposal's section", chromedp.Click(chromedp.CSS(link))); st != 200 {
		t.Fatalf("full proposal section: status %d", st)
	}
	if h := b.text("#section-title"); h != fullSectionTitle {
		t.Errorf("the section is %q", h)
	}
	b.fill(`[id="f-answers.workplan"]`, workplanText)
	b.shot("two-round-full-proposal")
	if st := b.submit(`#proposal-form > button[type=submit]`); st != 200 {
		t.Fatalf("save: status %d, error %q", st, tj.firstError(b))
	}
	if st := b.submit(`#submit-form button[type=submit]`); st != 200 {
		t.Fatalf("submit: status %d, error %q", st, tj.firstError(b))
	}
	b.expectPath(page + "/receipt")
	full := b.text("#receipt-number")
	if !strings.HasSuffix(full, "-F") || full == tj.conceptNote {
		t.Errorf("full proposal receipt %q (concept note %q)", full, tj.conceptNote)
	}
	if r := b.text("#round-1 .receipt-number"); r != tj.conceptNote {
		t.Errorf("the concept note's row shows %q, want %q", r, tj.conceptNote)
	}
	if r := b.text("#round-2 .receipt-number"); r != full {
		t.Errorf("the full proposal's row shows %q, want %q", r, full)
	}
	if n := js[int](b, `document.querySelectorAll("#rounds tbody tr").length`); n != 2 {
		t.Errorf("%d rounds on the receipt, want 2", n)
	}
	b.shot("two-round-receipt")
}
