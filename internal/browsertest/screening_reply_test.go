package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserScreeningReply follows a request for more information at
// screening (G1): the applicant, in French, has a proposal submitted to the
// demo call; the manager asks for more information; the applicant answers
// on the proposal's page (after an empty answer is refused); the manager
// finds the proposal marked in the queue, reads the answer and marks it
// eligible. Each person has a browser of their own.
func TestBrowserScreeningReply(t *testing.T) {
	rj := &replyJourney{journeys: newJourneys(t)}
	runSteps(t, []step{
		{"ApplicantSubmits", rj.applicantSubmits},
		{"ManagerAsks", rj.managerAsks},
		{"ApplicantAnswers", rj.applicantAnswers},
		{"ManagerReadsAndDecides", rj.managerDecides},
	})
}

type replyJourney struct {
	*journeys
	manager    totpState
	proposalID string
	title      string
}

const (
	replyRequest = "Merci d'envoyer les statuts de votre syndicat et le budget détaillé par activité."
	replyAnswer  = "Nos statuts sont en ligne : https://gawu.example.org/statuts\nLe budget par activité : formation 60 %, équipement 40 %."
)

// await evaluates an expression whose value is a promise and returns what
// it resolves to.
func await[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatalf("evaluate: %v", err)
	}
	return v
}

// signInFrench signs the demo applicant in, in French.
func (rj *replyJourney) signInFrench(b *browser) {
	b.t.Helper()
	b.open("/login")
	rj.chooseLanguage(b, "fr")
	a := rj.srv.account(b.t, applicantEmail)
	rj.signIn(b, "reply-applicant-login-fr", a.Email, a.Password)
	b.expectPath("/")
}

// applicantSubmits: the demo applicant signs in, chooses French, and a
// complete French proposal to the demo call is started, filled and
// submitted through the JSON API from the page (the journey of filling the
// form is TestBrowserCallJourney's).
func (rj *replyJourney) applicantSubmits(t *testing.T) {
	b := newBrowser(t, rj.srv.URL)
	rj.signInFrench(b)
	rj.title = "Coopératives de cacao : emplois verts pour les jeunes"
	id := await[string](b, fmt.Sprintf(`(async () => {
		const api = async (method, path, body, headers) => {
			const r = await fetch("/api/v1" + path, {method, credentials: "same-origin",
				headers: Object.assign({"Content-Type": "application/json"}, headers || {}), body: body ? JSON.stringify(body) : undefined});
			const text = await r.text();
			if (!r.ok) throw new Error(method + " " + path + ": " + r.status + " " + text);
			return text ? JSON.parse(text) : null;
		};
		const calls = (await api("GET", "/public/calls")).calls;
		const orgs = (await api("GET", "/organisations")).organisations;
		let p = await api("POST", "/proposals", {call_id: calls[0].id, organisation_id: orgs[0].id, title: %q, language: "fr"});
		p = await api("PATCH", "/proposals/" + p.id, {version: p.version, requested_minor: 2500000,
			answers: {summary: "Former 120 jeunes au séchage solaire du cacao.", pilot: false, country: "GH"}});
		await api("POST", "/proposals/" + p.id + "/submit", null, {"Idempotency-Key": "reply-journey-" + p.id});
		return p.id;
	})()`, rj.title))
	if len(id) != 36 {
		t.Fatalf("proposal id %q", id)
	}
	rj.proposalID = id
	b.open("/proposals/" + id)
	if b.has("#reply-form") {
		t.Fatal("the answer form shows before anything was asked")
	}
	b.shot("reply-submitted-fr")
}

// managerAsks: the manager opens the proposal from the screening queue and
// asks for more information; the applicant is told by e-mail.
func (rj *replyJourney) managerAsks(t *testing.T) {
	b := newBrowser(t, rj.srv.URL)
	rj.signInStaff(b, managerEmail, &rj.manager)
	lang := b.lang()
	b.open("/manage/proposals/" + rj.proposalID)
	if h := b.text("h1"); h != rj.title {
		t.Fatalf("the manager's page is about %q", h)
	}
	b.step("ask for more information", chromedp.Click(chromedp.CSS("#decision-more_information")))
	b.fill("#f-reason", replyRequest)
	b.shot("reply-manager-asks")
	if st := b.submit(`#decision button[type=submit]`); st != 200 {
		t.Fatalf("record the request: status %d, error %q", st, rj.firstError(b))
	}
	if f := b.text(".flash"); f != rj.T(lang, "flash_screening_decided", nil) {
		t.Errorf("after asking, the message is %q", f)
	}
	if c := b.text("#conversation"); !strings.Contains(c, "Merci d'envoyer les statuts") {
		t.Errorf("the manager's page does not show the request: %q", c)
	}
	var told bool
	for _, m := range rj.srv.outbox(t, applicantEmail) {
		told = told || m.Kind == "screening_more_information" && strings.Contains(m.Body, "/proposals/"+rj.proposalID)
	}
	if !told {
		t.Error("the applicant was not asked by e-mail")
	}
}

// applicantAnswers: the applicant reads the request on the proposal's page
// in French, sends an empty answer (refused on the field), then the answer.
func (rj *replyJourney) applicantAnswers(t *testing.T) {
	b := newBrowser(t, rj.srv.URL)
	rj.signInFrench(b)
	page := "/proposals/" + rj.proposalID
	b.open(page)
	if h := b.text("#conversation-title"); h != rj.T("fr", "screening_reply_title", nil) {
		t.Errorf("the request's heading is %q", h)
	}
	if c := b.text("#screening-conversation"); !strings.Contains(c, "Merci d'envoyer les statuts") || !strings.Contains(c, rj.T("fr", "screening_conversation_request", nil)) {
		t.Errorf("the page does not show the request: %q", c)
	}
	b.shot("reply-asked-fr")

	if st := b.submit(`#reply-form button[type=submit]`); st != 422 {
		t.Fatalf("empty answer: status %d", st)
	}
	if e := b.text("#e-body"); !strings.Contains(e, rj.T("fr", "proposal_field_body", nil)) {
		t.Errorf("the empty answer's error reads %q", e)
	}
	b.shot("reply-empty-refused-fr")

	b.fill("#f-body", replyAnswer)
	if st := b.submit(`#reply-form button[type=submit]`); st != 200 {
		t.Fatalf("answer: status %d, error %q", st, rj.firstError(b))
	}
	b.expectPath(page)
	if f := b.text(".flash"); f != rj.T("fr", "flash_screening_replied", nil) {
		t.Errorf("after answering, the message is %q", f)
	}
	if b.has("#reply-form") {
		t.Error("the answer form is still offered")
	}
	c := b.text("#screening-conversation")
	if !strings.Contains(c, "https://gawu.example.org/statuts") || !strings.Contains(c, "formation 60 %") {
		t.Errorf("the conversation does not show the answer: %q", c)
	}
	if n := js[int](b, `document.querySelectorAll("#screening-conversation li").length`); n != 2 {
		t.Errorf("%d messages in the conversation, want 2", n)
	}
	b.shot("reply-answered-fr")
}

// managerDecides: the manager, told by e-mail, finds the proposal marked
// in the queue (and with the "answer received" filter), reads the answer
// and marks the proposal eligible.
func (rj *replyJourney) managerDecides(t *testing.T) {
	var link bool
	for _, m := range rj.srv.outbox(t, managerEmail) {
		link = link || m.Kind == "screening_reply" && strings.Contains(m.Body, "/manage/proposals/"+rj.proposalID)
	}
	if !link {
		t.Error("the manager was not told of the answer")
	}
	b := newBrowser(t, rj.srv.URL)
	rj.signInStaff(b, managerEmail, &rj.manager)
	lang := b.lang()
	callID := await[string](b, `fetch("/api/v1/manage/proposals/`+rj.proposalID+`").then(r => r.json()).then(v => v.proposal.call_id)`)
	queue := "/manage/calls/" + callID + "/proposals"
	b.open(queue)
	row := func() string {
		return js[string](b, fmt.Sprintf(`(() => {
			const a = document.querySelector('#submitted a[href="/manage/proposals/%s"]');
			return a ? a.closest("tr").textContent.replace(/\s+/g, " ").trim() : "";
		})()`, rj.proposalID))
	}
	if r := row(); !strings.Contains(r, rj.T(lang, "screening_reply_received", nil)) || !strings.Contains(r, rj.T(lang, "screening_state_pending", nil)) {
		t.Errorf("the queue row does not say an answer came: %q", r)
	}
	if st := b.navigate("filter answered", b.choose("#f-screening", "replied"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`))); st != 200 {
		t.Fatalf("filter: status %d", st)
	}
	if r := row(); r == "" {
		t.Error("the answered filter does not list the proposal")
	}
	b.shot("reply-queue-answered")

	b.open("/manage/proposals/" + rj.proposalID)
	c := b.text("#conversation")
	if !strings.Contains(c, "https://gawu.example.org/statuts") || !strings.Contains(c, "Merci d'envoyer les statuts") {
		t.Errorf("the manager's page does not show the conversation: %q", c)
	}
	b.step("mark eligible", chromedp.Click(chromedp.CSS("#decision-eligible")))
	b.shot("reply-manager-reads")
	if st := b.submit(`#decision button[type=submit]`); st != 200 {
		t.Fatalf("mark eligible: status %d, error %q", st, rj.firstError(b))
	}
	b.open(queue)
	if r := row(); !strings.Contains(r, rj.T(lang, "screening_state_eligible", nil)) || strings.Contains(r, rj.T(lang, "screening_reply_received", nil)) {
		t.Errorf("after marking it eligible, the row reads %q", r)
	}
	b.shot("reply-eligible")
	var told bool
	for _, m := range rj.srv.outbox(t, applicantEmail) {
		told = told || m.Kind == "screening_eligible"
	}
	if !told {
		t.Error("the applicant was not told the proposal is eligible")
	}
}
