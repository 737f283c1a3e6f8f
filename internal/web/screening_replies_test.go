package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/mail"
	"facility/internal/proposals"
)

// askMore has the world's manager request more information about p from its page.
func (w screeningWorld) askMore(t *testing.T, id, request string) {
	t.Helper()
	res := w.manager.PostForm("/manage/proposals/"+id+"/screening", url.Values{"decision": {"more_information"}, "reason": {request}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ask for more information: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
}

func replyCount(t *testing.T, w screeningWorld) int64 {
	t.Helper()
	var n int64
	if err := w.env.DB.Gorm.Table("screening_replies").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplicantAnswersARequestForMoreInformationOnTheProposalPage(t *testing.T) {
	w := newScreeningWorld(t)
	p, _ := w.proposal(t, w.call, "ama@example.org", "en", 1990, 2_000_000, false)
	applicant := w.env.Client()
	applicant.SignIn("ama@example.org", "")
	page := "/proposals/" + p.ID
	form := `action="/proposals/` + p.ID + `/screening/replies"`

	// Not asked yet: no form, no conversation.
	if res := applicant.Get(page); res.StatusCode != http.StatusOK || strings.Contains(res.Body, form) || strings.Contains(res.Body, "screening-conversation") {
		t.Fatalf("before the request: %d", res.StatusCode)
	}
	w.askMore(t, p.ID, "Send your statutes <b>signed</b>.\nAnd the 2025 accounts.")
	res := applicant.Get(page)
	for _, want := range []string{form, "The Facility team needs more information", "Send your statutes &lt;b&gt;signed&lt;/b&gt;.<br>And the 2025 accounts.",
		"The Facility team asked", `name="csrf"`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("asked page lacks %q", want)
		}
	}
	if strings.Contains(res.Body, "Screener Tester") {
		t.Error("the applicant sees the manager's name")
	}

	// Refused answers change nothing and say why, on the field.
	before, _ := w.env.Proposals.Get(t.Context(), p.ID)
	for name, body := range map[string]string{"empty": "  ", "too long": strings.Repeat("x", 5001), "RTL override": "statutes\u202egpj.exe",
		"NUL": "statutes\x00"} {
		res := applicant.PostForm(page+"/screening/replies", url.Values{"body": {body}})
		if res.StatusCode != http.StatusUnprocessableEntity || !hasFieldError(res.Body, "body") || !strings.Contains(res.Body, "Your answer") {
			t.Errorf("%s: %d %s", name, res.StatusCode, apptest.FirstError(res.Body))
		}
	}
	// What was typed comes back.
	res = applicant.PostForm(page+"/screening/replies", url.Values{"body": {"typed \u202e"}})
	if !strings.Contains(res.Body, "typed \u202e</textarea>") {
		t.Error("the refused answer is not shown again")
	}
	// A form posted from another site, without the page's token, is refused.
	applicant.CrossSite = true
	forged := applicant.PostForm(page+"/screening/replies", url.Values{"body": {"forged"}, "csrf": {"not-the-token"}})
	applicant.CrossSite = false
	if forged.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site answer: %d", forged.StatusCode)
	}
	if got, _ := w.env.Proposals.Get(t.Context(), p.ID); got.Version != before.Version || got.Screening != "more_information" || replyCount(t, w) != 0 {
		t.Fatalf("refused answers changed the proposal: %+v", got)
	}

	res = applicant.PostForm(page+"/screening/replies", url.Values{"body": {"Our statutes: https://example.org/statutes\r\nAccounts attached to the site."}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("answer: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	res = applicant.Get(page)
	if strings.Contains(res.Body, form) || !strings.Contains(res.Body, "Ama Tester answered") ||
		!strings.Contains(res.Body, "Our statutes: https://example.org/statutes<br>Accounts attached to the site.") ||
		!strings.Contains(res.Body, "Your answer is sent") || !strings.Contains(res.Body, "Requests for more information") {
		t.Fatalf("after the answer: %s", res.Body)
	}
	if got, _ := w.env.Proposals.Get(t.Context(), p.ID); got.Screening != proposals.ScreeningPending || got.ContentHash != before.ContentHash {
		t.Fatalf("after the answer: %+v", got)
	}
	// A second answer (another tab) finds nothing to answer.
	res = applicant.PostForm(page+"/screening/replies", url.Values{"body": {"Again"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "not waiting for more information") || replyCount(t, w) != 1 {
		t.Fatalf("second answer: %d", res.StatusCode)
	}

	// The manager was told, sees the mark in the queue, and reads the answer.
	ms, _ := mail.Outbox(t.Context(), w.env.DB.Gorm, "screener@example.org", 5)
	if len(ms) == 0 || ms[0].Kind != "screening_reply" || !strings.Contains(ms[0].Body, "/manage/proposals/"+p.ID) {
		t.Fatalf("mail to the manager: %+v", ms)
	}
	queue := "/manage/calls/" + w.call.ID + "/proposals"
	if res := w.manager.Get(queue); !strings.Contains(res.Body, "answer received") {
		t.Error("the queue does not mark the answer")
	}
	if res := w.manager.Get(queue + "?screening=replied"); !strings.Contains(res.Body, p.Title) || !strings.Contains(res.Body, `value="replied" selected`) {
		t.Error("the replied filter")
	}
	res = w.manager.Get("/manage/proposals/" + p.ID)
	for _, want := range []string{"Requests for more information", "Screener Tester asked", "Ama Tester answered", "Our statutes: https://example.org/statutes"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("manager's page lacks %q", want)
		}
	}
}

func TestOnlyTheProposalsEditorsCanAnswer(t *testing.T) {
	w := newScreeningWorld(t)
	p, owner := w.proposal(t, w.call, "ama@example.org", "fr", 1990, 2_000_000, false)
	ctx := t.Context()
	for email, rights := range map[string]string{"viewer@example.org": proposals.RightView, "editor@example.org": proposals.RightEdit} {
		w.env.User(email, "", "")
		if _, err := w.env.Proposals.AddMember(ctx, owner, p.ID, email, rights); err != nil {
			t.Fatal(err)
		}
	}
	stranger, _ := w.env.Applicant("intruder@example.org", "Another Union")
	evaluator, evalUser := signedIn(t, w.env, "eva@example.org", authz.RoleEvaluator, authz.FacilityDomain(facilityA))
	w.askMore(t, p.ID, "Envoyez vos statuts.")
	api := "/api/v1/proposals/" + p.ID + "/screening"

	// Outsiders: 404 on the page form and the API, each denial audited.
	strangerPage := w.env.Client()
	strangerPage.SignIn("intruder@example.org", "")
	for who, c := range map[string]struct {
		page, api *apptest.Client
	}{
		"member of another organisation": {strangerPage, bearer(t, w.env, stranger.ID)},
		"evaluator of the facility":      {evaluator, bearer(t, w.env, evalUser.ID)},
	} {
		before := denials(t, w.env)
		if res := c.page.PostForm("/proposals/"+p.ID+"/screening/replies", url.Values{"body": {"mine"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s answers by form: %d", who, res.StatusCode)
		}
		if res := c.api.JSON(http.MethodPost, api+"/replies", map[string]any{"body": "mine"}, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s answers through the API: %d", who, res.StatusCode)
		}
		if res := c.api.JSON(http.MethodGet, api+"/conversation", nil, nil); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "statuts") {
			t.Errorf("%s reads the conversation: %d", who, res.StatusCode)
		}
		if n := denials(t, w.env) - before; n != 3 {
			t.Errorf("%s: %d denials audited", who, n)
		}
	}

	// A viewer reads the request but cannot answer.
	viewer, _ := w.env.Accounts.UserByEmail(ctx, "viewer@example.org")
	vapi := bearer(t, w.env, viewer.ID)
	var conv struct {
		Screening     string `json:"screening"`
		AwaitingReply bool   `json:"awaiting_reply"`
		CanReply      bool   `json:"can_reply"`
		Messages      []struct {
			Kind   string `json:"kind"`
			Body   string `json:"body"`
			ByName string `json:"by_name"`
			By     string `json:"by"`
		} `json:"messages"`
	}
	res := vapi.JSON(http.MethodGet, api+"/conversation", nil, &conv)
	if res.StatusCode != http.StatusOK || !conv.AwaitingReply || conv.CanReply || len(conv.Messages) != 1 || conv.Messages[0].Body != "Envoyez vos statuts." ||
		conv.Messages[0].ByName != "" || conv.Messages[0].By != "" || strings.Contains(res.Body, "Screener") {
		t.Fatalf("viewer's conversation: %d %s", res.StatusCode, res.Body)
	}
	before := denials(t, w.env)
	if res := vapi.JSON(http.MethodPost, api+"/replies", map[string]any{"body": "x"}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer answers: %d", res.StatusCode)
	}
	vc := w.env.Client()
	vc.SignIn("viewer@example.org", "")
	if res := vc.Get("/proposals/" + p.ID); strings.Contains(res.Body, `id="reply-form"`) || !strings.Contains(res.Body, "Envoyez vos statuts.") {
		t.Fatal("the viewer is offered the answer form")
	}
	if res := vc.PostForm("/proposals/"+p.ID+"/screening/replies", url.Values{"body": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer answers by form: %d", res.StatusCode)
	}
	if denials(t, w.env)-before != 2 || replyCount(t, w) != 0 {
		t.Fatal("viewer's attempts")
	}

	// An editor answers through the API; errors are per field, in the
	// reader's language.
	editor, _ := w.env.Accounts.UserByEmail(ctx, "editor@example.org")
	w.env.DB.Gorm.Exec("UPDATE users SET locale = 'fr' WHERE id = ?", editor.ID)
	eapi := bearer(t, w.env, editor.ID)
	var bad struct {
		Error struct {
			Fields []struct{ Field, Code, Message string } `json:"fields"`
		} `json:"error"`
	}
	for name, raw := range map[string]string{"invalid UTF-8": "{\"body\": \"\xff\"}", "NUL": `{"body": "a\u0000b"}`, "RTL override": `{"body": "a\u202eb"}`} {
		res := eapi.Do(http.MethodPost, api+"/replies", strings.NewReader(raw), "application/json")
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"field":"body"`) {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Body)
		}
	}
	res = eapi.JSON(http.MethodPost, api+"/replies", map[string]any{"body": ""}, &bad)
	if res.StatusCode != http.StatusUnprocessableEntity || len(bad.Error.Fields) != 1 || bad.Error.Fields[0].Field != "body" ||
		bad.Error.Fields[0].Code != "required" || !strings.Contains(bad.Error.Fields[0].Message, "Votre réponse") {
		t.Fatalf("empty answer: %d %s", res.StatusCode, res.Body)
	}
	if res := eapi.JSON(http.MethodPost, api+"/replies", map[string]any{"body": "x", "files": []string{"a"}}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown field: %d", res.StatusCode)
	}
	var done struct {
		Reply struct {
			ID, Body   string
			DecisionID string `json:"decision_id"`
		} `json:"reply"`
		Screening string `json:"screening"`
	}
	res = eapi.JSON(http.MethodPost, api+"/replies", map[string]any{"body": "Statuts : https://example.org/statuts"}, &done)
	if res.StatusCode != http.StatusCreated || done.Screening != "pending" || done.Reply.Body != "Statuts : https://example.org/statuts" || done.Reply.DecisionID == "" {
		t.Fatalf("editor answers: %d %s", res.StatusCode, res.Body)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if res := eapi.JSON(http.MethodPost, api+"/replies", map[string]any{"body": "again"}, &e); res.StatusCode != http.StatusConflict || e.Error.Code != "screening_not_awaiting_reply" {
		t.Fatalf("second answer: %d %s", res.StatusCode, res.Body)
	}
	recs := records(t, w.env, audit.Filter{Action: "proposal.screening_reply", ObjectID: p.ID})
	if len(recs) != 1 || recs[0].ActorID != editor.ID {
		t.Fatalf("audit: %+v", recs)
	}
	res = vapi.JSON(http.MethodGet, api+"/conversation", nil, &conv)
	if res.StatusCode != http.StatusOK || conv.AwaitingReply || conv.Screening != "pending" || len(conv.Messages) != 2 ||
		conv.Messages[1].Kind != "reply" || conv.Messages[1].ByName != "Editor Tester" {
		t.Fatalf("conversation after the answer: %s", res.Body)
	}

	// The manager's API view carries the conversation, with who asked.
	var view struct {
		Conversation []struct {
			Kind, Body string
			By         string `json:"by"`
		} `json:"conversation"`
	}
	res = w.manager.JSON(http.MethodGet, "/api/v1/manage/proposals/"+p.ID, nil, &view)
	if res.StatusCode != http.StatusOK || len(view.Conversation) != 2 || view.Conversation[0].By == "" || view.Conversation[1].By != editor.ID {
		t.Fatalf("manager's view: %d %s", res.StatusCode, res.Body)
	}
	var list struct {
		Proposals []struct {
			ID        string  `json:"id"`
			RepliedAt *string `json:"replied_at"`
		} `json:"proposals"`
	}
	res = w.manager.JSON(http.MethodGet, "/api/v1/manage/calls/"+w.call.ID+"/proposals?screening=replied", nil, &list)
	if res.StatusCode != http.StatusOK || len(list.Proposals) != 1 || list.Proposals[0].ID != p.ID || list.Proposals[0].RepliedAt == nil {
		t.Fatalf("replied queue: %d %s", res.StatusCode, res.Body)
	}
}
