package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/proposals"
)

// twoRoundWorld is newScreeningWorld with a two-round call whose concept
// notes close in an hour and full proposals in two days.
func twoRoundWorld(t *testing.T) screeningWorld {
	t.Helper()
	env := apptest.New(t)
	in := apptest.TwoRoundCallInput(-time.Hour, time.Hour, 48*time.Hour)
	in.FacilityCode = facilityA
	c, _ := env.PublishedCall(in)
	m, _ := signedIn(t, env, "screener@example.org", authz.RoleManager, authz.FacilityDomain(facilityA))
	return screeningWorld{env: env, call: c, manager: m}
}

// eligibleNote is a submitted concept note screened eligible.
func (w screeningWorld) eligibleNote(t *testing.T, email string) (*proposals.Proposal, audit.Actor) {
	t.Helper()
	p, a := w.proposal(t, w.call, email, "en", 1990, 2_000_000, false)
	mgr := audit.Actor{UserID: w.call.CreatedBy, IP: "127.0.0.1"}
	if err := w.env.Screening.Decide(t.Context(), mgr, w.call.ID, []string{p.ID}, "eligible", "", "en"); err != nil {
		t.Fatal(err)
	}
	return p, a
}

func round(t *testing.T, w screeningWorld, id string) int {
	t.Helper()
	p, err := w.env.Proposals.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Round
}

func TestInvitationFromTheQueueAndThePages(t *testing.T) {
	w := twoRoundWorld(t)
	a, ama := w.eligibleNote(t, "ama@example.org")
	pending, _ := w.proposal(t, w.call, "awa@example.org", "en", 1990, 2_000_000, false)
	one, _ := w.eligibleNote(t, "kofi@example.org")

	queue := "/manage/calls/" + w.call.ID + "/proposals"
	res := w.manager.Get(queue)
	for _, want := range []string{"Concept note", "Full proposal closes (by invitation)", `formaction="/manage/calls/` + w.call.ID + `/invite"`,
		w.call.FullProposalClosesAt.UTC().Format("2006-01-02 15:04")} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	invite := "/manage/calls/" + w.call.ID + "/invite"
	// Refusals re-show the queue with the reason, the choice kept, nothing changed.
	res = w.manager.PostForm(invite, url.Values{"proposal_ids": {a.ID, pending.ID}, "invite_message": {"Welcome"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "choose only concept notes screened eligible") ||
		!strings.Contains(res.Body, `value="`+a.ID+`" checked`) || !strings.Contains(res.Body, "Welcome") {
		t.Fatalf("invite a pending note: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	res = w.manager.PostForm(invite, url.Values{})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Proposals to invite is required.") {
		t.Fatalf("invite nothing: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if round(t, w, a.ID) != 1 {
		t.Fatal("a refused invitation changed a proposal")
	}
	res = w.manager.PostForm(invite, url.Values{"proposal_ids": {a.ID}, "invite_message": {"Please detail the budget."}})
	if res.StatusCode != http.StatusSeeOther || round(t, w, a.ID) != 2 {
		t.Fatalf("invite: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	res = w.manager.Get(queue)
	if !strings.Contains(res.Body, "Full proposal") || !strings.Contains(res.Body, "The invitation is sent") {
		t.Error("queue after the invitation")
	}

	// The manager's page: the round, the concept note's receipt, the invite form for the others.
	res = w.manager.Get("/manage/proposals/" + a.ID)
	if !strings.Contains(res.Body, "Full proposal") || !strings.Contains(res.Body, a.ReceiptNumber) || !strings.Contains(res.Body, a.ContentHash) ||
		strings.Contains(res.Body, `action="/manage/proposals/`+a.ID+`/invite"`) {
		t.Errorf("manager page of an invited proposal: %s", apptest.FirstError(res.Body))
	}
	page := "/manage/proposals/" + one.ID
	if res = w.manager.Get(page); !strings.Contains(res.Body, `action="`+page+`/invite"`) {
		t.Fatal("no invite form on an eligible concept note")
	}
	if res = w.manager.Get("/manage/proposals/" + pending.ID); strings.Contains(res.Body, "/invite\"") {
		t.Error("invite form on a pending concept note")
	}
	if res = w.manager.PostForm(page+"/invite", url.Values{"invite_message": {"bad \u202e note"}}); res.StatusCode != http.StatusUnprocessableEntity || round(t, w, one.ID) != 1 {
		t.Fatalf("hostile message: %d", res.StatusCode)
	}
	if res = w.manager.PostForm(page+"/invite", url.Values{}); res.StatusCode != http.StatusSeeOther || round(t, w, one.ID) != 2 {
		t.Fatalf("invite one: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if res = w.manager.PostForm(page+"/invite", url.Values{}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "cannot be invited again") {
		t.Fatalf("invite twice: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}

	// The applicant sees the full proposal in progress, its new section and deadline, and the concept note's receipt.
	applicant := w.env.Client()
	applicant.SignIn("ama@example.org", "")
	res = applicant.Get("/proposals")
	if !strings.Contains(res.Body, "Full proposal") || !strings.Contains(res.Body, w.call.FullProposalClosesAt.UTC().Format("2006-01-02 15:04")) {
		t.Errorf("list: %s", res.Body)
	}
	res = applicant.Get("/proposals/" + a.ID)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `id="proposal-round"`) || !strings.Contains(res.Body, "?section=full") ||
		!strings.Contains(res.Body, "Work plan in detail") {
		t.Errorf("editor: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	res = applicant.Get("/proposals/" + a.ID + "/receipt")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, a.ReceiptNumber) || !strings.Contains(res.Body, "not submitted yet") {
		t.Errorf("receipt during the full proposal: %d", res.StatusCode)
	}
	var receipt struct {
		ReceiptNumber string `json:"receipt_number"`
		Round         int    `json:"round"`
		Rounds        []struct {
			Round         int    `json:"round"`
			ReceiptNumber string `json:"receipt_number"`
			ContentHash   string `json:"content_hash"`
		} `json:"rounds"`
	}
	res = applicant.JSON(http.MethodGet, "/api/v1/proposals/"+a.ID+"/receipt", nil, &receipt)
	if res.StatusCode != http.StatusOK || receipt.ReceiptNumber != "" || receipt.Round != 2 || len(receipt.Rounds) != 1 ||
		receipt.Rounds[0].ReceiptNumber != a.ReceiptNumber || receipt.Rounds[0].ContentHash != a.ContentHash {
		t.Fatalf("receipt API: %d %s", res.StatusCode, res.Body)
	}
	// The full proposal's answer and submission through the API.
	p, _ := w.env.Proposals.Get(t.Context(), a.ID)
	var missing struct {
		Missing []struct{ Field string } `json:"missing"`
	}
	applicant.JSON(http.MethodGet, "/api/v1/proposals/"+a.ID+"/missing", nil, &missing)
	if len(missing.Missing) != 1 || missing.Missing[0].Field != "answers.workplan" {
		t.Fatalf("missing in round 2: %+v", missing)
	}
	if res = applicant.JSON(http.MethodPatch, "/api/v1/proposals/"+a.ID, map[string]any{"version": p.Version, "answers": map[string]any{"workplan": "Month 1."}}, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("save round 2: %d %s", res.StatusCode, res.Body)
	}
	if _, err := w.env.Proposals.Submit(t.Context(), ama, a.ID, "en"); err != nil {
		t.Fatal(err)
	}
	res = applicant.JSON(http.MethodGet, "/api/v1/proposals/"+a.ID+"/receipt", nil, &receipt)
	if len(receipt.Rounds) != 2 || receipt.Rounds[1].ReceiptNumber != receipt.ReceiptNumber || !strings.HasSuffix(receipt.ReceiptNumber, "-F") {
		t.Fatalf("receipt after the full proposal: %s", res.Body)
	}
	res = applicant.Get("/proposals/" + a.ID + "/receipt")
	if !strings.Contains(res.Body, a.ReceiptNumber) || !strings.Contains(res.Body, receipt.ReceiptNumber) || !strings.Contains(res.Body, "Concept note") {
		t.Errorf("receipt page with both rounds")
	}
}

func TestInvitationAPI(t *testing.T) {
	w := twoRoundWorld(t)
	a, _ := w.eligibleNote(t, "ama@example.org")
	pending, _ := w.proposal(t, w.call, "awa@example.org", "en", 1990, 2_000_000, false)
	api := "/api/v1/manage/calls/" + w.call.ID + "/invite"
	var e struct {
		Error struct {
			Fields []struct{ Field, Code, Message string }
		}
	}
	for _, tc := range []struct {
		body          map[string]any
		field, code   string
		messagePrefix string
	}{
		{map[string]any{"proposal_ids": []string{}}, "proposal_ids", "required", "Proposals is required"},
		{map[string]any{"proposal_ids": []string{pending.ID}}, "proposal_ids", "invite_not_eligible", "Proposals: choose only concept notes screened eligible"},
		{map[string]any{"proposal_ids": []string{a.ID}, "message": strings.Repeat("x", 2001)}, "message", "too_long", "Message"},
	} {
		e.Error.Fields = nil
		res := w.manager.JSON(http.MethodPost, api, tc.body, &e)
		if res.StatusCode != http.StatusUnprocessableEntity || len(e.Error.Fields) == 0 || e.Error.Fields[0].Field != tc.field ||
			e.Error.Fields[0].Code != tc.code || !strings.HasPrefix(e.Error.Fields[0].Message, tc.messagePrefix) {
			t.Errorf("%v: %d %s", tc.body, res.StatusCode, res.Body)
		}
	}
	if res := w.manager.JSON(http.MethodPost, api, map[string]any{"proposal_ids": []string{a.ID}, "extra": 1}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown field: %d", res.StatusCode)
	}
	var out struct {
		Round                int       `json:"round"`
		FullProposalClosesAt time.Time `json:"full_proposal_closes_at"`
	}
	if res := w.manager.JSON(http.MethodPost, "/api/v1/manage/proposals/"+a.ID+"/invite", map[string]any{"message": "Welcome."}, &out); res.StatusCode != http.StatusOK ||
		out.Round != 2 || !out.FullProposalClosesAt.Equal(*w.call.FullProposalClosesAt) {
		t.Fatalf("invite one: %d %s", res.StatusCode, res.Body)
	}
	var rounds struct {
		Round  int `json:"round"`
		Rounds []struct {
			Round         int    `json:"round"`
			ReceiptNumber string `json:"receipt_number"`
		} `json:"rounds"`
	}
	if res := w.manager.JSON(http.MethodGet, "/api/v1/manage/proposals/"+a.ID+"/rounds", nil, &rounds); res.StatusCode != http.StatusOK ||
		rounds.Round != 2 || len(rounds.Rounds) != 1 || rounds.Rounds[0].ReceiptNumber != a.ReceiptNumber {
		t.Fatalf("rounds: %d %s", res.StatusCode, res.Body)
	}
	var q struct {
		Proposals []struct {
			ID    string `json:"id"`
			Round int    `json:"round"`
		} `json:"proposals"`
	}
	w.manager.JSON(http.MethodGet, "/api/v1/manage/calls/"+w.call.ID+"/proposals?screening=draft", nil, &q)
	if len(q.Proposals) != 1 || q.Proposals[0].ID != a.ID || q.Proposals[0].Round != 2 {
		t.Fatalf("drafts in the queue API: %+v", q)
	}
}

func TestInvitationIsForTheCallsManagersOnly(t *testing.T) {
	w := twoRoundWorld(t)
	a, _ := w.eligibleNote(t, "ama@example.org")
	evaluator, _ := signedIn(t, w.env, "eva@example.org", authz.RoleEvaluator, authz.FacilityDomain(facilityA))
	applicant := w.env.Client()
	applicant.SignIn("ama@example.org", "")
	for _, who := range []struct {
		name   string
		c      *apptest.Client
		status int
	}{
		{"evaluator of the facility", evaluator, http.StatusForbidden},
		{"applicant", applicant, http.StatusNotFound},
	} {
		if res := who.c.PostForm("/manage/calls/"+w.call.ID+"/invite", url.Values{"proposal_ids": {a.ID}}); res.StatusCode != who.status {
			t.Errorf("%s bulk page: %d", who.name, res.StatusCode)
		}
		if res := who.c.PostForm("/manage/proposals/"+a.ID+"/invite", url.Values{}); res.StatusCode != who.status {
			t.Errorf("%s one page: %d", who.name, res.StatusCode)
		}
		if res := who.c.JSON(http.MethodPost, "/api/v1/manage/calls/"+w.call.ID+"/invite", map[string]any{"proposal_ids": []string{a.ID}}, nil); res.StatusCode != who.status {
			t.Errorf("%s API: %d", who.name, res.StatusCode)
		}
		if res := who.c.JSON(http.MethodPost, "/api/v1/manage/proposals/"+a.ID+"/invite", map[string]any{}, nil); res.StatusCode != who.status {
			t.Errorf("%s API one: %d", who.name, res.StatusCode)
		}
	}
	if round(t, w, a.ID) != 1 {
		t.Fatal("an outsider invited a proposal")
	}
	// The evaluator reads no invite button on the queue either.
	if res := evaluator.Get("/manage/calls/" + w.call.ID + "/proposals"); strings.Contains(res.Body, "/invite") {
		t.Error("invite button shown to an evaluator")
	}
}

func TestFullProposalDeadlineInTheDesignAndPublicPages(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("api-mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	c := bearer(t, env, u.ID)
	in := apptest.TwoRoundCallInput(24*time.Hour, 30*24*time.Hour, 60*24*time.Hour)
	in.FullProposalCloses = ""
	var e struct {
		Error struct {
			Fields []struct{ Field, Code, Message string }
		}
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls", in, &e); res.StatusCode != http.StatusUnprocessableEntity ||
		len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "full_proposal_closes" || e.Error.Fields[0].Message != "Full proposal closes is required." {
		t.Fatalf("two rounds without the full proposal's closing time: %d %s", res.StatusCode, res.Body)
	}
	in.FullProposalCloses = in.Opens
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls", in, &e); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "must be after the call&#39;s closing time") && !strings.Contains(res.Body, "must be after the call's closing time") {
		t.Fatalf("full proposal before closing: %d %s", res.StatusCode, res.Body)
	}
	in = apptest.TwoRoundCallInput(24*time.Hour, 30*24*time.Hour, 60*24*time.Hour)
	var created struct {
		Call  calls.Call  `json:"call"`
		Input calls.Input `json:"input"`
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls", in, &created); res.StatusCode != http.StatusCreated || created.Input.FullProposalCloses != in.FullProposalCloses {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	// The builder page shows the field next to the closing time, filled in.
	page, _ := signedIn(t, env, "page-mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	res := page.Get("/manage/calls/" + created.Call.ID)
	if !strings.Contains(res.Body, `name="full_proposal_closes"`) || !strings.Contains(res.Body, `value="`+in.FullProposalCloses+`"`) {
		t.Fatalf("design page: %s", apptest.FirstError(res.Body))
	}
	// The basics form: unreadable and early times are refused next to the field.
	form := url.Values{"version": {strconv.Itoa(created.Call.Version)}, "origin": {in.Origin}, "scope": {in.Scope}, "languages": in.Languages,
		"title.en": {in.Title["en"]}, "title.fr": {in.Title["fr"]}, "challenge.en": {in.Challenge["en"]}, "challenge.fr": {in.Challenge["fr"]},
		"opens": {in.Opens}, "closes": {in.Closes}, "timezone": {"UTC"}, "grace_minutes": {"0"}, "currency": {"USD"},
		"budget": {"500000"}, "min_grant": {"10000"}, "max_grant": {"100000"}, "indicators": {"8.3.1"}, "two_round": {"on"},
		"full_proposal_closes": {in.Opens}}
	res = page.PostForm("/manage/calls/"+created.Call.ID+"/basics", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "must be after the call&#39;s closing time") {
		t.Fatalf("basics with an early full proposal: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}

	// Published: the public page, the feed and the calendar show it.
	pub, _ := env.PublishedCall(apptest.TwoRoundCallInput(-time.Hour, 24*time.Hour, 60*24*time.Hour))
	full := pub.FullProposalClosesAt.UTC()
	visitor := env.Client()
	res = visitor.Get("/calls/" + pub.ID)
	if !strings.Contains(res.Body, `id="full-proposal-closes"`) || !strings.Contains(res.Body, full.Format("2006-01-02 15:04")) {
		t.Errorf("public page lacks the full proposal's deadline")
	}
	var detail map[string]any
	visitor.JSON(http.MethodGet, "/api/v1/public/calls/"+pub.ID, nil, &detail)
	if detail["full_proposal_closes_at"] != full.Format(time.RFC3339) || detail["full_proposal_deadline_with_grace"] != full.Format(time.RFC3339) {
		t.Errorf("feed detail: %v %v", detail["full_proposal_closes_at"], detail["full_proposal_deadline_with_grace"])
	}
	var feed struct {
		Calls []map[string]any `json:"calls"`
	}
	visitor.JSON(http.MethodGet, "/api/v1/public/calls", nil, &feed)
	if len(feed.Calls) != 1 || feed.Calls[0]["full_proposal_closes_at"] != full.Format(time.RFC3339) {
		t.Errorf("feed: %+v", feed.Calls)
	}
	res = visitor.Get("/calls/" + pub.ID + ".ics")
	if strings.Count(res.Body, "BEGIN:VEVENT") != 2 || !strings.Contains(res.Body, "DTSTART:"+full.Format("20060102T150405Z")) ||
		!strings.Contains(res.Body, pub.ID+"-full-proposal@") {
		t.Errorf("calendar: %s", res.Body)
	}
	// A one-round call has none.
	single, _ := env.PublishedCall(apptest.CallInput(-time.Hour, 24*time.Hour))
	visitor.JSON(http.MethodGet, "/api/v1/public/calls/"+single.ID, nil, &detail)
	if v, ok := detail["full_proposal_closes_at"]; !ok || v != nil {
		t.Errorf("one-round call: %v", v)
	}
	if res = visitor.Get("/calls/" + single.ID + ".ics"); strings.Count(res.Body, "BEGIN:VEVENT") != 1 {
		t.Error("one-round calendar")
	}
}
