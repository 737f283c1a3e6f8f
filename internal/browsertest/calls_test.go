package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the call's timezone, as the server (which embeds the database) reads it

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

const (
	managerEmail   = "manager@facility.demo"
	applicantEmail = "applicant@facility.demo" // Ghana General Agricultural Workers' Union
)

// step is one part of a journey: later steps need the earlier ones.
type step struct {
	name string
	run  func(*testing.T)
}

// runSteps runs a journey's steps in order, as subtests, and stops at the
// first that fails.
func runSteps(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("%s failed; the later steps need it", s.name)
		}
	}
}

// TestBrowserCallJourney follows one challenge call from design to
// screening: a manager designs a call with a conditional question, a file
// question, eligibility rules and criteria, takes it through G0 and
// publishes it; a visitor finds it; an applicant in French starts a
// proposal, leaves it (autosave keeps the typing), comes back in another
// browser, uploads a PDF and submits; the manager screens it. The steps
// share one demo server and run in order; each person has a browser of
// their own.
func TestBrowserCallJourney(t *testing.T) {
	cj := &callJourney{journeys: newJourneys(t)}
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	// Open since yesterday; closes at 17:00 Geneva time in about a month.
	now := time.Now().In(zurich)
	cj.opens = time.Date(now.Year(), now.Month(), now.Day()-1, 9, 0, 0, 0, zurich)
	cj.closes = time.Date(now.Year(), now.Month(), now.Day()+30, 17, 0, 0, 0, zurich)

	runSteps(t, []step{
		{"ManagerDesignsAndPublishes", cj.managerDesigns},
		{"PublicCallPage", cj.publicPage},
		{"ApplicantFirstSession", cj.applicantFirstSession},
		{"ApplicantSecondSession", cj.applicantSecondSession},
		{"ManagerScreens", cj.managerScreens},
	})
}

// callJourney is what the steps hand on to each other.
type callJourney struct {
	*journeys
	manager        totpState
	opens, closes  time.Time // in the call's timezone
	callID         string
	reference      string
	proposalID     string
	pilotText      string // typed in the first session, left to autosave
	receiptNumber  string
	contentHash    string
	proposalTitle  string
	attachmentName string
}

// The call as the manager writes it, in English and French.
var (
	callTitle = map[string]string{
		"en": "Decent work in cocoa cooperatives",
		"fr": "Travail décent dans les coopératives de cacao",
	}
	callChallenge = map[string]string{
		"en": "How can cocoa cooperatives offer young workers safe, fairly paid jobs?",
		"fr": "Comment les coopératives de cacao peuvent-elles offrir aux jeunes des emplois sûrs et justement rémunérés ?",
	}
)

// question is one question the manager adds with the form builder.
type question struct {
	id, kind, en, fr string
	required         bool
	maxWords         string
	visibleIf        string // the question it depends on, shown for "yes"
	pdf              bool
}

var callQuestions = []question{
	{id: "summary", kind: "long_text", en: "Summary of the project", fr: "Résumé du projet", required: true, maxWords: "300"},
	{id: "piloted", kind: "yes_no", en: "Has it been piloted?", fr: "A-t-il été testé ?", required: true},
	{id: "pilot_results", kind: "long_text", en: "What did the pilot show?", fr: "Qu'a montré le test ?", required: true, maxWords: "200", visibleIf: "piloted"},
	{id: "work_plan", kind: "file", en: "Work plan (PDF)", fr: "Plan de travail (PDF)", required: true, pdf: true},
}

var callPath = regexp.MustCompile(`^/manage/calls/([0-9a-f-]{36})$`)

// managerDesigns: the manager sets up the second factor, designs a call
// with the no-JavaScript form builder, submits it for G0 approval,
// approves it with a reason and publishes it.
func (cj *callJourney) managerDesigns(t *testing.T) {
	b := newBrowser(t, cj.srv.URL)
	cj.signInStaff(b, managerEmail, &cj.manager)
	lang := b.lang()

	if st := b.navigate("open Manage calls", chromedp.Click(chromedp.CSS(`nav a[href="/manage/calls"]`))); st != 200 {
		t.Fatalf("Manage calls: status %d", st)
	}
	b.expectPath("/manage/calls")
	if h, want := b.text("h1"), cj.T(lang, "calls_manage_title", nil); h != want {
		t.Errorf("Manage calls heading %q, want %q", h, want)
	}
	b.shot("manage-calls")
	if st := b.navigate("new call", chromedp.Click(chromedp.CSS(`main a[href="/manage/calls/new"]`))); st != 200 {
		t.Fatalf("new call form: status %d", st)
	}
	b.expectPath("/manage/calls/new")

	// The basics, in English and French.
	f := `#form-basics `
	b.step("facility and French", b.choose(f+`select[name="facility"]`, "sustainable_enterprises"),
		chromedp.Click(chromedp.CSS(f+`input[name="languages"][value="fr"]`)))
	for _, l := range []string{"en", "fr"} {
		b.fill(f+fmt.Sprintf(`[name="title.%s"]`, l), callTitle[l])
		b.fill(f+fmt.Sprintf(`[name="challenge.%s"]`, l), callChallenge[l])
	}
	const wall = "2006-01-02T15:04"
	b.step("timeline", b.choose(f+`[name="opens"]`, cj.opens.Format(wall)), b.choose(f+`[name="closes"]`, cj.closes.Format(wall)),
		b.choose(f+`select[name="timezone"]`, "Europe/Zurich"))
	b.fill(f+`[name="grace_minutes"]`, "30")
	b.step("currency", b.choose(f+`select[name="currency"]`, "USD"))
	b.fill(f+`[name="budget"]`, "250000")
	b.fill(f+`[name="min_grant"]`, "10000")
	b.fill(f+`[name="max_grant"]`, "50000")
	b.fill(f+`[name="donors"]`, "Government of Sweden")
	b.shot("call-new-filled")
	if st := b.submit(f + `button[type=submit]`); st != 200 {
		t.Fatalf("create the call: status %d, error %q", st, cj.firstError(b))
	}
	m := callPath.FindStringSubmatch(b.path())
	if m == nil {
		t.Fatalf("after creating the call the browser shows %s", b.path())
	}
	cj.callID = m[1]
	design := "/manage/calls/" + cj.callID
	if f := b.text(".flash"); f != cj.T(lang, "flash_call_created", nil) {
		t.Errorf("after creating the call, the message is %q", f)
	}
	cj.expectStatus(b, lang, "draft")
	cj.reference = strings.TrimSpace(strings.SplitN(b.text("h1"), "·", 2)[0])
	b.shot("call-created")

	// A section, then its questions.
	b.fill(`#form-section-new [name="id"]`, "project")
	b.fill(`#form-section-new [name="title.en"]`, "Your project")
	b.fill(`#form-section-new [name="title.fr"]`, "Votre projet")
	if st := b.submit(`#form-section-new button[type=submit]`); st != 200 {
		t.Fatalf("add a section: status %d, error %q", st, cj.firstError(b))
	}
	b.expectPath(design)
	if !b.has("#section-project") {
		t.Fatal("the new section is not on the design page")
	}
	b.shot("call-section-added")

	for _, q := range callQuestions {
		cj.addQuestion(b, lang, q)
	}
	// The conditional question says when it is shown.
	if cond := b.text("#question-pilot_results .muted"); !strings.Contains(cond, callQuestions[1].label(lang)) || !strings.Contains(cond, "yes") {
		t.Errorf("the conditional question reads %q; want it to name %q and the answer yes", cond, callQuestions[1].label(lang))
	}
	b.shot("call-questions-added")

	// Eligibility: workers' or employers' organisations, and piloted.
	picked := js[int](b, `(() => {
		const s = document.querySelector('#form-rule-organisation_type select[name="values"]');
		for (const o of s.options) o.selected = ["workers_org_trade_union", "employers_org"].includes(o.value);
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return s.selectedOptions.length;
	})()`)
	if picked != 2 {
		t.Fatalf("%d organisation types chosen, want 2", picked)
	}
	if st := b.submit(`#form-rule-organisation_type button[type=submit]`); st != 200 {
		t.Fatalf("add the organisation type rule: status %d, error %q", st, cj.firstError(b))
	}
	b.step("yes/no rule", b.choose(`#form-rule-yes_no select[name="question"]`, "piloted"), b.choose(`#form-rule-yes_no select[name="expect"]`, "yes"))
	if st := b.submit(`#form-rule-yes_no button[type=submit]`); st != 200 {
		t.Fatalf("add the yes/no rule: status %d, error %q", st, cj.firstError(b))
	}
	if n := js[int](b, `document.querySelectorAll("#eligibility li[id^='rule-']").length`); n != 2 {
		t.Errorf("%d eligibility rules listed, want 2", n)
	}
	b.shot("call-rules-added")

	// Two weighted criteria.
	for _, cr := range []struct{ id, en, fr, weight, threshold string }{
		{"impact", "Impact on decent work", "Impact sur le travail décent", "2", "3"},
		{"feasibility", "Feasibility", "Faisabilité", "1", ""},
	} {
		f := `#form-criterion-new `
		b.fill(f+`[name="id"]`, cr.id)
		b.fill(f+`[name="name.en"]`, cr.en)
		b.fill(f+`[name="name.fr"]`, cr.fr)
		b.fill(f+`[name="weight"]`, cr.weight)
		b.fill(f+`[name="threshold"]`, cr.threshold)
		if st := b.submit(f + `button[type=submit]`); st != 200 {
			t.Fatalf("add criterion %s: status %d, error %q", cr.id, st, cj.firstError(b))
		}
		if !b.has("#criterion-" + cr.id) {
			t.Fatalf("criterion %s is not listed", cr.id)
		}
	}
	b.shot("call-criteria-added")

	// The preview shows the form as applicants will see it.
	b.open(design + "/preview?lang=fr")
	if body := b.text("main"); !strings.Contains(body, callQuestions[2].fr) {
		t.Errorf("the French preview does not show %q", callQuestions[2].fr)
	}
	b.shot("call-preview-fr")
	b.open(design)

	// G0: submit, approve with a reason, publish.
	if st := b.submit(`#form-submit button[type=submit]`); st != 200 {
		t.Fatalf("submit for approval: status %d, error %q", st, cj.firstError(b))
	}
	cj.expectStatus(b, lang, "in_review")
	b.shot("call-in-review")
	const reason = "Clear challenge; the budget fits the facility's envelope."
	b.step("approve", chromedp.Click(chromedp.CSS(`#form-g0 input[name="decision"][value="approve"]`)))
	b.fill(`#form-g0 [name="reason"]`, reason)
	b.shot("call-g0-filled")
	if st := b.submit(`#form-g0 button[type=submit]`); st != 200 {
		t.Fatalf("G0 approval: status %d, error %q", st, cj.firstError(b))
	}
	cj.expectStatus(b, lang, "approved")
	if h := b.text("#g0-history"); !strings.Contains(h, reason) || !strings.Contains(h, cj.T(lang, "calls_g0_approve", nil)) {
		t.Errorf("the G0 history does not show the approval and its reason: %q", h)
	}
	b.shot("call-approved")
	if st := b.submit(`#form-publish button[type=submit]`); st != 200 {
		t.Fatalf("publish: status %d, error %q", st, cj.firstError(b))
	}
	cj.expectStatus(b, lang, "published")
	if !b.has(fmt.Sprintf(`#workflow a[href="/calls/%s"]`, cj.callID)) {
		t.Error("the published call has no link to its public page")
	}
	if !b.has(fmt.Sprintf(`#workflow a[href="/manage/calls/%s/proposals"]`, cj.callID)) {
		t.Error("the published call has no link to its proposals and their screening")
	}
	b.shot("call-published")
}

func (q question) label(lang string) string {
	if lang == "fr" {
		return q.fr
	}
	return q.en
}

// addQuestion adds q to the section "project" with the question form.
func (cj *callJourney) addQuestion(b *browser, lang string, q question) {
	b.t.Helper()
	t := b.t
	link := fmt.Sprintf(`#section-project a[href="/manage/calls/%s/sections/project/questions/new"]`, cj.callID)
	if st := b.navigate("add a question", chromedp.Click(chromedp.CSS(link))); st != 200 {
		t.Fatalf("question form: status %d", st)
	}
	f := `#form-question `
	b.fill(f+`[name="id"]`, q.id)
	b.step("kind", b.choose(f+`select[name="kind"]`, q.kind))
	b.fill(f+`[name="label.en"]`, q.en)
	b.fill(f+`[name="label.fr"]`, q.fr)
	if q.required {
		b.step("required", chromedp.Click(chromedp.CSS(f+`input[name="required"]`)))
	}
	if q.maxWords != "" {
		b.fill(f+`[name="max_words"]`, q.maxWords)
	}
	if q.visibleIf != "" {
		b.step("condition", b.choose(f+`select[name="visible_if"]`, q.visibleIf))
		b.fill(f+`[name="visible_values"]`, "yes")
	}
	if q.pdf {
		b.step("pdf", chromedp.Click(chromedp.CSS(f+`input[name="file_types"][value="pdf"]`)))
		b.fill(f+`[name="max_file_mb"]`, "5")
	}
	b.shot("question-" + q.id)
	if st := b.submit(f + `button[type=submit]`); st != 200 {
		t.Fatalf("add question %s: status %d, error %q", q.id, st, cj.firstError(b))
	}
	b.expectPath("/manage/calls/" + cj.callID)
	if !b.has("#question-" + q.id) {
		t.Fatalf("question %s is not listed after adding it", q.id)
	}
	// The design page shows texts in the reader's language if the call has
	// it, else in the call's first (English).
	if got, want := b.text(fmt.Sprintf("#question-%s strong", q.id)), q.label(lang); got != want {
		t.Errorf("question %s is labelled %q, want %q", q.id, got, want)
	}
}

// expectStatus checks the status badge of the design page.
func (cj *callJourney) expectStatus(b *browser, lang, status string) {
	b.t.Helper()
	if got, want := b.text("#call-status"), cj.T(lang, "calls_status_"+status, nil); got != want {
		b.fatalf("the call's status reads %q, want %q", got, want)
	}
}

// publicPage: a visitor (signed out, in Nairobi) finds the call on /calls,
// opens it, reads the deadline in the call's time, in UTC and in their
// own, with the grace period; then reads the page in French.
func (cj *callJourney) publicPage(t *testing.T) {
	b := newBrowser(t, cj.srv.URL)
	b.step("Nairobi time", timezone("Africa/Nairobi"))
	b.open("/calls")
	link := fmt.Sprintf(`main a[href="/calls/%s"]`, cj.callID)
	if !b.has(link) {
		t.Fatalf("/calls does not list the new call: %q", b.text("main"))
	}
	if got := b.text(link); got != callTitle["en"] {
		t.Errorf("/calls names the call %q, want %q", got, callTitle["en"])
	}
	b.shot("public-calls")

	if st := b.navigate("open the call", chromedp.Click(chromedp.CSS(link))); st != 200 {
		t.Fatalf("public call page: status %d", st)
	}
	b.expectPath("/calls/" + cj.callID)
	if h := b.text("h1"); h != callTitle["en"] {
		t.Errorf("public call heading %q", h)
	}
	deadline := b.text("#deadline")
	callTime := cj.closes.Format("2006-01-02 15:04 MST")
	utc := cj.closes.UTC().Format("2006-01-02 15:04") + " UTC"
	for _, want := range []string{callTime, utc, cj.T("en", "public_grace", map[string]any{"Minutes": 30,
		"Time": cj.closes.Add(30*time.Minute).UTC().Format("2006-01-02 15:04") + " UTC"})} {
		if !strings.Contains(deadline, want) {
			t.Errorf("the deadline section does not show %q:\n%s", want, deadline)
		}
	}
	// The script adds the reader's own time and counts down.
	if local := b.text(`#deadline dd:nth-of-type(2) [data-local-time]`); !strings.Contains(local, "(Africa/Nairobi)") {
		t.Errorf("the deadline in the reader's timezone reads %q", local)
	}
	if cd := b.text("#deadline .countdown"); cd == "" || strings.Contains(cd, utc) {
		t.Errorf("the countdown reads %q (the script should replace the fixed time)", cd)
	}
	if body := b.text("main"); !strings.Contains(body, callChallenge["en"]) || !strings.Contains(body, callQuestions[1].en) {
		t.Errorf("the public page lacks the challenge or the questions")
	}
	b.shot("public-call-en")

	cj.chooseLanguage(b, "fr")
	b.expectPath("/calls/" + cj.callID)
	if h := b.text("h1"); h != callTitle["fr"] {
		t.Errorf("French heading %q, want %q", h, callTitle["fr"])
	}
	if body := b.text("main"); !strings.Contains(body, callChallenge["fr"]) || !strings.Contains(body, callQuestions[2].fr) {
		t.Errorf("the French page lacks the French challenge or questions")
	}
	if !strings.Contains(b.text("#deadline"), utc) {
		t.Error("the French page does not show the deadline in UTC")
	}
	b.shot("public-call-fr")
}

// timezone makes the browser's clock read in zone, as for a person there.
func timezone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// chooseLanguage picks a language with the switcher of the page shown (the
// script submits it).
func (j *journeys) chooseLanguage(b *browser, l string) {
	b.t.Helper()
	if st := b.navigate("choose "+l, b.choose("#language-select", l)); st != 200 {
		b.fatalf("switch to %s: status %d", l, st)
	}
	if got := b.lang(); got != l {
		b.fatalf("after choosing %s the page is in %q", l, got)
	}
}

// signInFrench opens /login, switches to French and signs the applicant in.
func (cj *callJourney) signInFrench(b *browser, shot string) {
	b.t.Helper()
	b.open("/login")
	cj.chooseLanguage(b, "fr")
	a := cj.srv.account(b.t, applicantEmail)
	cj.signIn(b, shot, a.Email, a.Password)
	b.expectPath("/")
	if l := b.lang(); l != "fr" {
		b.fatalf("after signing in the page is in %q, want fr", l)
	}
}

const (
	saveButton  = `#proposal-form button[type=submit]:not([form])`
	pilotAnswer = `[id="f-answers.pilot_results"]`
)

// applicantFirstSession: the applicant, in French, starts a proposal from
// the call page, saves the title and amount, answers yes to the piloted
// question, sees the follow-up question appear, types into it, waits for
// autosave to say it saved, and signs out.
func (cj *callJourney) applicantFirstSession(t *testing.T) {
	b := newBrowser(t, cj.srv.URL)
	cj.signInFrench(b, "applicant-login-fr")

	b.open("/calls/" + cj.callID)
	if h := b.text("h1"); h != callTitle["fr"] {
		t.Errorf("call heading %q, want %q", h, callTitle["fr"])
	}
	if st := b.submit(`#start form button[type=submit]`); st != 200 {
		t.Fatalf("start a proposal: status %d", st)
	}
	if h, want := b.text("h1"), cj.T("fr", "proposal_new_title", nil); h != want {
		t.Fatalf("start form heading %q, want %q", h, want)
	}
	if v := b.value("#f-language"); v != "fr" {
		t.Errorf("the proposal language is %q, want fr (the call speaks French)", v)
	}
	if v := b.value("#f-organisation_id"); v == "" {
		t.Error("the applicant's only organisation is not chosen")
	}
	cj.proposalTitle = "Jeunes et cacao : des emplois sûrs dans nos coopératives"
	b.fill("#f-title", cj.proposalTitle)
	b.shot("proposal-start-fr")
	if st := b.submit(fmt.Sprintf(`main form[action="/calls/%s/proposals"] button[type=submit]`, cj.callID)); st != 200 {
		t.Fatalf("start: status %d, error %q", st, cj.firstError(b))
	}
	p := b.path()
	id, ok := strings.CutPrefix(p, "/proposals/")
	if !ok || strings.Contains(id, "/") {
		t.Fatalf("after starting, the browser shows %s", p)
	}
	cj.proposalID = id
	if f := b.text(".flash"); f != cj.T("fr", "flash_proposal_started", nil) {
		t.Errorf("after starting, the message is %q", f)
	}

	// The details, saved with the button (as without JavaScript).
	if v := b.value("#f-title"); v != cj.proposalTitle {
		t.Errorf("the title field holds %q", v)
	}
	b.fill("#f-requested_minor", "35000")
	b.shot("proposal-details-fr")
	if st := b.submit(saveButton); st != 200 {
		t.Fatalf("save the details: status %d, error %q", st, cj.firstError(b))
	}
	if f := b.text(".flash"); f != cj.T("fr", "flash_proposal_saved", nil) {
		t.Errorf("after saving, the message is %q", f)
	}
	if v := b.value("#f-requested_minor"); v != "35000.00" {
		t.Errorf("the amount reads %q after saving, want 35000.00", v)
	}

	// The project section: the follow-up question appears on "yes".
	cj.openSection(b, "project")
	if !js[bool](b, `document.querySelector("#q-pilot_results").hidden`) {
		t.Error("the follow-up question shows before the piloted question is answered")
	}
	b.shot("proposal-project-fr")
	b.step("answer yes", chromedp.Click(chromedp.CSS(`input[name="answers.piloted"][value="yes"]`)),
		chromedp.WaitVisible(chromedp.CSS(pilotAnswer)))
	cj.pilotText = "Un test dans trois coopératives de la région Ashanti : 120 jeunes formés, aucun accident."
	b.step("type the pilot results", chromedp.SendKeys(chromedp.CSS(pilotAnswer), cj.pilotText))
	saved := strings.SplitN(cj.T("fr", "proposal_autosave_saved", map[string]any{"Time": "{time}"}), "{time}", 2)[0]
	cj.waitText(b, "#autosave-status", saved)
	b.shot("proposal-autosaved-fr")

	if st := b.submit("#sign-out"); st != 200 {
		t.Fatalf("sign out: status %d", st)
	}
	if b.has("#sign-out") {
		t.Fatal("still signed in after signing out")
	}
	b.shot("applicant-signed-out-fr")
}

// openSection follows the editor's link to a section.
func (cj *callJourney) openSection(b *browser, id string) {
	b.t.Helper()
	link := fmt.Sprintf(`nav ol.stages a[href="/proposals/%s?section=%s"]`, cj.proposalID, id)
	if st := b.navigate("open section "+id, chromedp.Click(chromedp.CSS(link))); st != 200 {
		b.fatalf("section %s: status %d", id, st)
	}
	if !b.has(`#proposal-form input[name="section"][value="` + id + `"]`) {
		b.fatalf("section %s is not the one shown", id)
	}
}

// waitText waits (at most a step's time) until the text of sel starts with prefix.
func (cj *callJourney) waitText(b *browser, sel, prefix string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	expr := fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent.trim().startsWith(%q)`, sel, prefix)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		b.fatalf("waiting for %s to say %q (it says %q): %v", sel, prefix, js[string](b, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel)), err)
	}
}

// applicantSecondSession: in another browser, the applicant finds the
// proposal with the autosaved text, uploads the work plan, fills the
// summary that is still missing, submits and gets a receipt, on the page
// and by e-mail.
func (cj *callJourney) applicantSecondSession(t *testing.T) {
	b := newBrowser(t, cj.srv.URL)
	cj.signInFrench(b, "applicant-login-again-fr")

	if st := b.navigate("my proposals", chromedp.Click(chromedp.CSS(`nav a[href="/proposals"]`))); st != 200 {
		t.Fatalf("my proposals: status %d", st)
	}
	link := fmt.Sprintf(`main a[href="/proposals/%s"]`, cj.proposalID)
	if !b.has(link) {
		t.Fatalf("my proposals does not list the proposal: %q", b.text("main"))
	}
	b.shot("my-proposals-fr")
	if st := b.navigate("open the proposal", chromedp.Click(chromedp.CSS(link))); st != 200 {
		t.Fatalf("proposal: status %d", st)
	}
	// Two things are missing: the summary and the work plan.
	missing := b.text("#missing")
	for _, q := range []question{callQuestions[0], callQuestions[3]} {
		if !strings.Contains(missing, q.fr) {
			t.Errorf("the missing list does not name %q:\n%s", q.fr, missing)
		}
	}
	cj.openSection(b, "project")
	if !js[bool](b, `document.querySelector('input[name="answers.piloted"][value="yes"]').checked`) {
		t.Error("the yes answer to the piloted question was not kept")
	}
	if js[bool](b, `document.querySelector("#q-pilot_results").hidden`) {
		t.Fatal("the follow-up question is hidden although the answer is yes")
	}
	if v := b.value(pilotAnswer); v != cj.pilotText {
		t.Fatalf("the autosaved text was not kept: the field holds %q, want %q", v, cj.pilotText)
	}
	b.shot("proposal-autosave-kept-fr")

	// The work plan, a small PDF.
	cj.attachmentName = "plan-de-travail.pdf"
	file := filepath.Join(t.TempDir(), cj.attachmentName)
	if err := os.WriteFile(file, []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.step("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`[id="f-answers.work_plan"]`), []string{file}))
	if st := b.submit(`button[form="upload-work_plan"]`); st != 200 {
		t.Fatalf("upload: status %d, error %q", st, cj.firstError(b))
	}
	b.expectPath("/proposals/" + cj.proposalID + "/attachments")
	if f := b.text(".flash"); f != cj.T("fr", "flash_attachment_uploaded", nil) {
		t.Errorf("after uploading, the message is %q", f)
	}
	if !strings.Contains(b.text("#q-work_plan"), cj.attachmentName) {
		t.Errorf("the attachments page does not list %s", cj.attachmentName)
	}
	b.shot("proposal-uploaded-fr")

	if st := b.navigate("back to the proposal", chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href="/proposals/%s"]`, cj.proposalID)))); st != 200 {
		t.Fatalf("back to the proposal: status %d", st)
	}
	cj.openSection(b, "project")
	if !strings.Contains(b.text("#q-work_plan"), cj.attachmentName) {
		t.Errorf("the editor does not list the uploaded %s", cj.attachmentName)
	}
	b.fill(`[id="f-answers.summary"]`, "Former 300 jeunes aux pratiques sûres et leur garantir un salaire minimum dans 12 coopératives.")
	if st := b.submit(saveButton); st != 200 {
		t.Fatalf("save the summary: status %d, error %q", st, cj.firstError(b))
	}
	if m, want := b.text("#missing p:not(.hint)"), cj.T("fr", "proposal_nothing_missing", nil); m != want {
		t.Fatalf("after filling everything, the missing section says %q, want %q", m, want)
	}
	b.shot("proposal-complete-fr")

	if st := b.submit(`#submit-form button[type=submit]`); st != 200 {
		t.Fatalf("submit: status %d, error %q", st, cj.firstError(b))
	}
	b.expectPath("/proposals/" + cj.proposalID + "/receipt")
	if f := b.text(".flash"); f != cj.T("fr", "flash_proposal_submitted", nil) {
		t.Errorf("after submitting, the message is %q", f)
	}
	cj.receiptNumber = b.text("#receipt-number")
	cj.contentHash = b.text("#content-hash")
	if !strings.HasPrefix(cj.receiptNumber, cj.reference+"-") {
		t.Errorf("receipt number %q does not start with the call's reference %s", cj.receiptNumber, cj.reference)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(cj.contentHash) {
		t.Errorf("content hash %q is not a SHA-256", cj.contentHash)
	}
	if !js[bool](b, `!document.querySelector("[data-print]").hidden`) {
		t.Error("the print button is not shown")
	}
	b.shot("proposal-receipt-fr")

	// The same receipt, by e-mail, in French.
	var found bool
	for _, m := range cj.srv.outbox(t, applicantEmail) {
		if m.Kind != "proposal_receipt" {
			continue
		}
		found = true
		if want := cj.T("fr", "mail_receipt_subject", map[string]any{"Receipt": cj.receiptNumber}); m.Subject != want {
			t.Errorf("receipt e-mail subject %q, want %q", m.Subject, want)
		}
		for _, want := range []string{cj.receiptNumber, cj.contentHash, "/proposals/" + cj.proposalID + "/receipt"} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("the receipt e-mail does not contain %q:\n%s", want, m.Body)
			}
		}
		break
	}
	if !found {
		t.Errorf("no receipt e-mail to %s in the outbox", applicantEmail)
	}

	// After submission the proposal reads, it does not edit.
	b.open("/proposals/" + cj.proposalID + "?section=project")
	if b.has("#proposal-form") {
		t.Error("the submitted proposal still shows an editable form")
	}
	if !strings.Contains(b.text("#section"), cj.pilotText) {
		t.Error("the submitted proposal does not show the pilot results")
	}
	b.shot("proposal-submitted-fr")
}

// managerScreens: the manager opens the call's screening queue, sees the
// proposal with its automatic eligibility result, marks it eligible with
// the bulk action, and the applicant is told.
func (cj *callJourney) managerScreens(t *testing.T) {
	b := newBrowser(t, cj.srv.URL)
	cj.signInStaff(b, managerEmail, &cj.manager)
	lang := b.lang()

	b.open("/manage/calls")
	if st := b.navigate("open the call", chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href="/manage/calls/%s"]`, cj.callID)))); st != 200 {
		t.Fatalf("design page: status %d", st)
	}
	queue := "/manage/calls/" + cj.callID + "/proposals"
	if st := b.navigate("open the screening queue", chromedp.Click(chromedp.CSS(fmt.Sprintf(`main a[href="%s"]`, queue)))); st != 200 {
		t.Fatalf("screening queue: status %d", st)
	}
	b.expectPath(queue)
	row := func() string {
		return js[string](b, fmt.Sprintf(`(() => {
			const a = document.querySelector('#submitted a[href="/manage/proposals/%s"]');
			return a ? a.closest("tr").textContent.replace(/\s+/g, " ").trim() : "";
		})()`, cj.proposalID))
	}
	r := row()
	if r == "" {
		t.Fatalf("the screening queue does not list the proposal:\n%s", b.text("main"))
	}
	for _, want := range []string{cj.proposalTitle, cj.receiptNumber, "Ghana General Agricultural Workers' Union", "USD 35,000.00",
		cj.T(lang, "screening_auto_passed", nil), cj.T(lang, "screening_state_pending", nil)} {
		if !strings.Contains(r, want) {
			t.Errorf("the queue row does not show %q: %q", want, r)
		}
	}
	b.shot("screening-queue")

	// The proposal itself, with each rule's result.
	if st := b.navigate("open the proposal", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#submitted a[href="/manage/proposals/%s"]`, cj.proposalID)))); st != 200 {
		t.Fatalf("screening proposal page: status %d", st)
	}
	if n := js[int](b, `document.querySelectorAll("#eligibility li").length`); n != 2 {
		t.Errorf("%d rule results shown, want 2", n)
	}
	if body := b.text("#answers"); !strings.Contains(body, cj.pilotText) || !strings.Contains(body, cj.attachmentName) {
		t.Errorf("the manager's view lacks the pilot results or the work plan:\n%s", body)
	}
	b.shot("screening-proposal")

	b.open(queue)
	b.step("select the proposal", chromedp.Click(chromedp.CSS("#sel-"+cj.proposalID)))
	b.shot("screening-selected")
	if st := b.submit(`#submitted button[name="decision"][value="eligible"]`); st != 200 {
		t.Fatalf("mark eligible: status %d, error %q", st, cj.firstError(b))
	}
	b.expectPath(queue)
	if f := b.text(".flash"); f != cj.T(lang, "flash_screening_decided", nil) {
		t.Errorf("after deciding, the message is %q", f)
	}
	if r := row(); !strings.Contains(r, cj.T(lang, "screening_state_eligible", nil)) {
		t.Errorf("after marking it eligible, the row reads %q", r)
	}
	b.shot("screening-eligible")

	var told bool
	for _, m := range cj.srv.outbox(t, applicantEmail) {
		told = told || m.Kind == "screening_eligible"
	}
	if !told {
		t.Error("the applicant was not told the proposal is eligible")
	}
}
