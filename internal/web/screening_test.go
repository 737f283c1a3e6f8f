package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/mail"
	"facility/internal/organisations"
	"facility/internal/proposals"
)

// screeningWorld is a published call of facility A with its manager signed
// in, and proposals written by applicants.
type screeningWorld struct {
	env     *apptest.Env
	call    *calls.Call
	manager *apptest.Client
}

func newScreeningWorld(t *testing.T) screeningWorld {
	t.Helper()
	env := apptest.New(t)
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	in.FacilityCode = facilityA
	c, _ := env.PublishedCall(in)
	m, _ := signedIn(t, env, "screener@example.org", authz.RoleManager, authz.FacilityDomain(facilityA))
	return screeningWorld{env: env, call: c, manager: m}
}

// proposal writes a complete proposal of a new applicant whose organisation
// was founded in founded, submitted unless draft is set.
func (w screeningWorld) proposal(t *testing.T, call *calls.Call, email, lang string, founded int, amount int64, draft bool) (*proposals.Proposal, audit.Actor) {
	t.Helper()
	ctx := t.Context()
	u, _ := w.env.User(email, "", "")
	a := audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "test"}
	o, err := w.env.Organisations.Create(ctx, a, organisations.Input{Name: "Cooperative " + strings.Split(email, "@")[0],
		TypeCode: "workers_org_trade_union", CountryISO2: "GH", YearFounded: founded, Website: "https://example.org"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.env.Proposals.Start(ctx, a, proposals.StartInput{CallID: call.ID, OrganisationID: o.ID, Title: "Solar dryers by " + email, Language: lang})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = w.env.Proposals.Save(ctx, a, p.ID, proposals.SaveInput{Version: p.Version, RequestedMinor: &amount,
		Answers: map[string]any{"summary": "Cooperatives <script>alert(1)</script> dry cocoa.", "pilot": true, "pilot_results": "Yields up 20%.", "country": "GH"}}); err != nil {
		t.Fatal(err)
	}
	if !draft {
		if p, err = w.env.Proposals.Submit(ctx, a, p.ID, lang); err != nil {
			t.Fatal(err)
		}
	}
	return p, a
}

func screeningState(t *testing.T, env *apptest.Env, id string) string {
	t.Helper()
	p, err := env.Proposals.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Screening
}

func TestScreeningQueueShowsEligibilityAndDecidesInBulk(t *testing.T) {
	w := newScreeningWorld(t)
	year := time.Now().UTC().Year()
	young, _ := w.proposal(t, w.call, "young@example.org", "fr", year-1, 2_000_000, false)
	greedy, _ := w.proposal(t, w.call, "greedy@example.org", "en", 1990, 20_000_000, false)
	good, _ := w.proposal(t, w.call, "good@example.org", "en", 1990, 2_000_000, false)
	draft, _ := w.proposal(t, w.call, "slow@example.org", "en", 1990, 2_000_000, true)

	queue := "/manage/calls/" + w.call.ID + "/proposals"
	res := w.manager.Get(queue)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	for _, want := range []string{
		"Age of the organisation: 1 year(s), but the call requires at least 2 years.",
		"Amount requested: USD 200,000.00, outside the call&#39;s limits (USD 10,000.00 to USD 100,000.00).",
		"All rules passed", "Cooperative good", "USD 20,000.00", young.Title, greedy.Title, good.Title,
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	// The draft is listed apart, for an extension, and cannot be selected.
	if !strings.Contains(res.Body, "/manage/proposals/"+draft.ID) || strings.Contains(res.Body, `value="`+draft.ID+`"`) {
		t.Error("draft listed wrongly")
	}
	res = w.manager.Get(queue + "?screening=auto_failed")
	if !strings.Contains(res.Body, young.Title) || !strings.Contains(res.Body, greedy.Title) || strings.Contains(res.Body, good.Title) {
		t.Error("auto-failed filter")
	}
	// In French, the reasons are in French.
	w.manager.PostForm("/language", url.Values{"lang": {"fr"}, "back": {queue}})
	res = w.manager.Get(queue)
	if !strings.Contains(res.Body, "Ancienneté de l&#39;organisation : 1 an(s), alors que l&#39;appel exige au moins 2 ans.") {
		t.Errorf("French reasons missing")
	}
	w.manager.PostForm("/language", url.Values{"lang": {"en"}, "back": {queue}})

	// Ineligible without a reason: a field error, and nothing changes.
	bulk := "/manage/calls/" + w.call.ID + "/screening"
	ids := []string{young.ID, greedy.ID}
	res = w.manager.PostForm(bulk, url.Values{"proposal_ids": ids, "decision": {"ineligible"}, "reason": {" "}})
	if res.StatusCode != http.StatusUnprocessableEntity || !hasFieldError(res.Body, "reason") ||
		!strings.Contains(res.Body, `value="`+young.ID+`" checked`) {
		t.Fatalf("ineligible without reason: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if screeningState(t, w.env, young.ID) != "pending" {
		t.Fatal("refused decision changed the proposal")
	}

	res = w.manager.PostForm(bulk, url.Values{"proposal_ids": ids, "decision": {"ineligible"}, "reason": {"Outside the call's rules."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk ineligible: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	for _, id := range ids {
		if s := screeningState(t, w.env, id); s != "ineligible" {
			t.Errorf("%s: %s", id, s)
		}
	}
	res = w.manager.PostForm(bulk, url.Values{"proposal_ids": {good.ID}, "decision": {"eligible"}})
	if res.StatusCode != http.StatusSeeOther || screeningState(t, w.env, good.ID) != "eligible" {
		t.Fatalf("eligible: %d", res.StatusCode)
	}
	// The French applicant was told in French, with a link to the proposal.
	ms, _ := mail.Outbox(t.Context(), w.env.DB.Gorm, "young@example.org", 5)
	if len(ms) == 0 || !strings.Contains(ms[0].Subject, "n'est pas éligible") || !strings.Contains(ms[0].Body, "/proposals/"+young.ID) {
		t.Fatalf("mail to the French applicant: %+v", ms)
	}

	// The proposal page: answers with labels in the proposal's language,
	// escaped; the G1 history; the decision form.
	res = w.manager.Get("/manage/proposals/" + young.ID)
	for _, want := range []string{"Résumé", "Résultats du test", "&lt;script&gt;alert(1)&lt;/script&gt;", "Outside the call&#39;s rules.",
		"Screening decisions (G1)", `action="/manage/proposals/` + young.ID + `/screening"`, "Ineligible"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("proposal page lacks %q", want)
		}
	}
	if strings.Contains(res.Body, "<script>alert(1)") {
		t.Fatal("answer not escaped")
	}
	// A correction from the proposal page is a new G1 record.
	res = w.manager.PostForm("/manage/proposals/"+young.ID+"/screening", url.Values{"decision": {"more_information"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !hasFieldError(res.Body, "reason") {
		t.Fatalf("more information without a message: %d", res.StatusCode)
	}
	res = w.manager.PostForm("/manage/proposals/"+young.ID+"/screening", url.Values{"decision": {"more_information"}, "reason": {"Send your statutes."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("correction: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	var gates struct {
		Decisions []struct{ Gate, Decision, Reason string } `json:"decisions"`
	}
	res = w.manager.JSON(http.MethodGet, "/api/v1/manage/proposals/"+young.ID+"/gates", nil, &gates)
	if res.StatusCode != http.StatusOK || len(gates.Decisions) != 2 || gates.Decisions[0].Decision != "ineligible" ||
		gates.Decisions[1].Decision != "more_information" || gates.Decisions[1].Reason != "Send your statutes." {
		t.Fatalf("gates: %d %+v", res.StatusCode, gates)
	}
}

func TestScreeningAPI(t *testing.T) {
	w := newScreeningWorld(t)
	a, _ := w.proposal(t, w.call, "ama@example.org", "en", 1990, 2_000_000, false)
	b, _ := w.proposal(t, w.call, "awa@example.org", "fr", 1990, 2_000_000, false)
	c, _ := w.proposal(t, w.call, "ana@example.org", "en", 1990, 2_000_000, false)
	draft, _ := w.proposal(t, w.call, "slow@example.org", "en", 1990, 2_000_000, true)
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	other, _ := w.env.PublishedCall(in)
	o, _ := w.proposal(t, other, "other@example.org", "en", 1990, 2_000_000, false)
	api := "/api/v1/manage/calls/" + w.call.ID

	var list struct {
		Proposals []struct {
			ID           string `json:"id"`
			AutoEligible bool   `json:"auto_eligible"`
			Screening    string `json:"screening"`
			Eligibility  []struct {
				Passed  bool   `json:"passed"`
				Message string `json:"message"`
			} `json:"eligibility"`
		} `json:"proposals"`
	}
	res := w.manager.JSON(http.MethodGet, api+"/proposals?screening=pending", nil, &list)
	if res.StatusCode != http.StatusOK || len(list.Proposals) != 3 || !list.Proposals[0].AutoEligible ||
		!strings.Contains(list.Proposals[0].Eligibility[0].Message, "USD 20,000.00") {
		t.Fatalf("list: %d %s", res.StatusCode, res.Body)
	}
	if res := w.manager.JSON(http.MethodGet, api+"/proposals?screening=nonsense", nil, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad filter: %d", res.StatusCode)
	}

	type fieldErrs struct {
		Error struct {
			Fields []struct{ Field, Code string } `json:"fields"`
		} `json:"error"`
	}
	refused := func(body map[string]any, field string) {
		t.Helper()
		var e fieldErrs
		res := w.manager.JSON(http.MethodPost, api+"/screening", body, &e)
		if res.StatusCode != http.StatusUnprocessableEntity || len(e.Error.Fields) == 0 || e.Error.Fields[0].Field != field {
			t.Fatalf("%v: %d %s", body, res.StatusCode, res.Body)
		}
		for _, id := range []string{a.ID, b.ID, c.ID, o.ID} {
			if s := screeningState(t, w.env, id); s != "pending" {
				t.Fatalf("refused decision changed %s to %s", id, s)
			}
		}
	}
	refused(map[string]any{"proposal_ids": []string{a.ID, b.ID}, "decision": "ineligible"}, "reason")
	refused(map[string]any{"proposal_ids": []string{a.ID, o.ID}, "decision": "eligible"}, "proposal_ids")
	refused(map[string]any{"proposal_ids": []string{a.ID, draft.ID}, "decision": "eligible"}, "proposal_ids")
	refused(map[string]any{"proposal_ids": []string{a.ID}, "decision": "eligible", "status": "selected"}, "status")
	refused(map[string]any{"proposal_ids": []string{a.ID}, "decision": "go"}, "decision")

	var done struct {
		ProposalIDs []string `json:"proposal_ids"`
	}
	res = w.manager.JSON(http.MethodPost, api+"/screening", map[string]any{"proposal_ids": []string{a.ID, b.ID, c.ID},
		"decision": "more_information", "reason": "Send a budget per activity."}, &done)
	if res.StatusCode != http.StatusOK || len(done.ProposalIDs) != 3 {
		t.Fatalf("bulk: %d %s", res.StatusCode, res.Body)
	}
	var one struct {
		Proposal struct {
			Screening       string `json:"screening"`
			ScreeningReason string `json:"screening_reason"`
		} `json:"proposal"`
		History []struct{ Decision string } `json:"g1_history"`
	}
	res = w.manager.JSON(http.MethodGet, "/api/v1/manage/proposals/"+b.ID, nil, &one)
	if res.StatusCode != http.StatusOK || one.Proposal.Screening != "more_information" || one.Proposal.ScreeningReason != "Send a budget per activity." || len(one.History) != 1 {
		t.Fatalf("proposal: %d %s", res.StatusCode, res.Body)
	}
	ms, _ := mail.Outbox(t.Context(), w.env.DB.Gorm, "awa@example.org", 5)
	if len(ms) == 0 || !strings.Contains(ms[0].Subject, "informations complémentaires") {
		t.Fatalf("French mail: %+v", ms)
	}
}

func TestExtensionLetsALateProposalBeSubmitted(t *testing.T) {
	w := newScreeningWorld(t)
	p, applicant := w.proposal(t, w.call, "late@example.org", "en", 1990, 2_000_000, true)
	// The call closed an hour ago.
	w.env.DB.Gorm.Exec("UPDATE calls SET closes_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Hour), w.call.ID)
	if _, err := w.env.Proposals.Submit(t.Context(), applicant, p.ID, "en"); err == nil {
		t.Fatal("late submission accepted")
	}
	page := "/manage/proposals/" + p.ID
	res := w.manager.Get(page)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `action="`+page+`/extension"`) {
		t.Fatalf("draft page: %d", res.StatusCode)
	}
	// Bad input: no reason, a time that is not one, a time before the deadline.
	for name, form := range map[string]url.Values{
		"no reason":   {"extension_closes_at": {time.Now().UTC().Add(2 * time.Hour).Format("2006-01-02T15:04")}, "extension_reason": {""}},
		"not a time":  {"extension_closes_at": {"tomorrow"}, "extension_reason": {"Flood"}},
		"not later":   {"extension_closes_at": {time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")}, "extension_reason": {"Flood"}},
		"bidi reason": {"extension_closes_at": {time.Now().UTC().Add(2 * time.Hour).Format("2006-01-02T15:04")}, "extension_reason": {"x\u202e"}},
	} {
		res := w.manager.PostForm(page+"/extension", form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `class="field-error"`) {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if d, _ := w.env.Proposals.Deadline(t.Context(), p); !d.Equal(w.call.Deadline()) && d.After(time.Now()) {
		t.Fatal("a refused extension was stored")
	}
	res = w.manager.PostForm(page+"/extension", url.Values{"extension_closes_at": {time.Now().UTC().Add(2 * time.Hour).Format("2006-01-02T15:04")},
		"extension_reason": {"Power cut in Accra on the closing day."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("extension: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	got, err := w.env.Proposals.Submit(t.Context(), applicant, p.ID, "en")
	if err != nil || got.Status != proposals.StatusSubmitted {
		t.Fatalf("submission after the extension: %v", err)
	}
	recs := records(t, w.env, audit.Filter{Action: "proposal.extend_deadline", ObjectID: p.ID})
	if len(recs) != 1 || !strings.Contains(recs[0].Details, "Power cut") || recs[0].Domain != authz.FacilityDomain(facilityA) {
		t.Fatalf("audit: %+v", recs)
	}
	// The API too, with an RFC 3339 time; a wrong one is a field error.
	var e struct {
		Error struct {
			Fields []struct{ Field string } `json:"fields"`
		} `json:"error"`
	}
	res = w.manager.JSON(http.MethodPost, "/api/v1/manage/proposals/"+p.ID+"/extension", map[string]any{"closes_at": "2026-13-01", "reason": "x"}, &e)
	if res.StatusCode != http.StatusUnprocessableEntity || len(e.Error.Fields) == 0 || e.Error.Fields[0].Field != "closes_at" {
		t.Fatalf("bad closes_at: %d %s", res.StatusCode, res.Body)
	}
	res = w.manager.JSON(http.MethodPost, "/api/v1/manage/proposals/"+p.ID+"/extension", map[string]any{
		"closes_at": time.Now().Add(3 * time.Hour).Format(time.RFC3339), "reason": "Second power cut."}, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("API extension: %d %s", res.StatusCode, res.Body)
	}
}

func TestScreeningIsForTheCallsManagersOnly(t *testing.T) {
	w := newScreeningWorld(t)
	p, _ := w.proposal(t, w.call, "ama@example.org", "en", 1990, 2_000_000, false)
	inB := apptest.CallInput(-time.Hour, 24*time.Hour)
	inB.FacilityCode = facilityB
	callB, _ := w.env.PublishedCall(inB)
	pB, _ := w.proposal(t, callB, "bea@example.org", "en", 1990, 2_000_000, false)

	evaluator, _ := signedIn(t, w.env, "eva@example.org", authz.RoleEvaluator, authz.FacilityDomain(facilityA))
	managerB, _ := signedIn(t, w.env, "bob@example.org", authz.RoleManager, authz.FacilityDomain(facilityB))
	applicant := w.env.Client()
	applicant.SignIn("ama@example.org", "")

	decide := map[string]any{"proposal_ids": []string{p.ID}, "decision": "eligible"}
	pages := []string{"/manage/calls/" + w.call.ID + "/proposals", "/manage/proposals/" + p.ID}
	apis := []string{"/api/v1/manage/calls/" + w.call.ID + "/proposals", "/api/v1/manage/proposals/" + p.ID, "/api/v1/manage/proposals/" + p.ID + "/gates"}
	for _, who := range []struct {
		name   string
		c      *apptest.Client
		status int
	}{
		{"evaluator of the facility", evaluator, http.StatusForbidden}, // SEC-21
		{"manager of another facility", managerB, http.StatusNotFound}, // SEC-22
		{"applicant", applicant, http.StatusNotFound},
	} {
		before := denials(t, w.env)
		for _, path := range pages {
			if res := who.c.Get(path); res.StatusCode != who.status || strings.Contains(res.Body, p.Title) {
				t.Errorf("%s GET %s: %d", who.name, path, res.StatusCode)
			}
		}
		for _, path := range apis {
			if res := who.c.JSON(http.MethodGet, path, nil, nil); res.StatusCode != who.status || strings.Contains(res.Body, p.Title) {
				t.Errorf("%s GET %s: %d", who.name, path, res.StatusCode)
			}
		}
		if res := who.c.JSON(http.MethodPost, "/api/v1/manage/calls/"+w.call.ID+"/screening", decide, nil); res.StatusCode != who.status {
			t.Errorf("%s decides: %d", who.name, res.StatusCode)
		}
		if res := who.c.PostForm("/manage/calls/"+w.call.ID+"/screening", url.Values{"proposal_ids": {p.ID}, "decision": {"eligible"}}); res.StatusCode != who.status {
			t.Errorf("%s decides by form: %d", who.name, res.StatusCode)
		}
		if res := who.c.JSON(http.MethodPost, "/api/v1/manage/proposals/"+p.ID+"/extension", map[string]any{
			"closes_at": time.Now().Add(48 * time.Hour).Format(time.RFC3339), "reason": "x"}, nil); res.StatusCode != who.status {
			t.Errorf("%s extends: %d", who.name, res.StatusCode)
		}
		if n := denials(t, w.env) - before; n < int64(len(pages)+len(apis)+3) {
			t.Errorf("%s: %d denials audited", who.name, n)
		}
	}
	if screeningState(t, w.env, p.ID) != "pending" {
		t.Fatal("an outsider screened a proposal")
	}
	// Facility B's manager sees only B's proposals, and cannot reach A's
	// through B's call.
	var list struct {
		Proposals []struct{ ID string } `json:"proposals"`
	}
	res := managerB.JSON(http.MethodGet, "/api/v1/manage/calls/"+callB.ID+"/proposals", nil, &list)
	if res.StatusCode != http.StatusOK || len(list.Proposals) != 1 || list.Proposals[0].ID != pB.ID {
		t.Fatalf("B's queue: %d %s", res.StatusCode, res.Body)
	}
	res = managerB.JSON(http.MethodPost, "/api/v1/manage/calls/"+callB.ID+"/screening", decide, nil)
	if res.StatusCode != http.StatusUnprocessableEntity || screeningState(t, w.env, p.ID) != "pending" {
		t.Fatalf("A's proposal through B's call: %d", res.StatusCode)
	}
	if res := w.manager.Get("/manage/calls/" + callB.ID + "/proposals"); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, pB.Title) {
		t.Fatalf("A's manager on B's queue: %d", res.StatusCode)
	}
	if res := w.manager.Get("/manage/proposals/00000000-0000-7000-8000-000000000000"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown proposal: %d", res.StatusCode)
	}
}
