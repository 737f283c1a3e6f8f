package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"facility/internal/accounts"
	"facility/internal/apptest"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/mail"
	"facility/internal/proposals"
)

// portal is a published call and an applicant signed in through the pages.
type portal struct {
	env   *apptest.Env
	call  *calls.Call
	owner *accounts.User
	org   string
	page  *apptest.Client // the owner's browser
	api   *apptest.Client // the owner's API token
}

func newPortal(t *testing.T, in calls.Input) portal {
	t.Helper()
	env := apptest.New(t)
	call, _ := env.PublishedCall(in)
	u, org := env.Applicant("ama@example.org", "Ghana Cocoa Cooperative")
	c := env.Client()
	c.SignIn("ama@example.org", "")
	return portal{env: env, call: call, owner: u, org: org, page: c, api: bearer(t, env, u.ID)}
}

// start begins a proposal through the API and returns it.
func (f portal) start(t *testing.T, lang string) proposals.Proposal {
	t.Helper()
	var p proposals.Proposal
	res := f.api.JSON(http.MethodPost, "/api/v1/proposals", map[string]any{"call_id": f.call.ID, "organisation_id": f.org, "title": "Solar dryers", "language": lang}, &p)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start: %d %s", res.StatusCode, res.Body)
	}
	return p
}

// complete fills in everything the test call requires, through the API.
func (f portal) complete(t *testing.T, lang string) proposals.Proposal {
	t.Helper()
	p := f.start(t, lang)
	res := f.api.JSON(http.MethodPatch, "/api/v1/proposals/"+p.ID, map[string]any{"version": p.Version, "requested_minor": 2_000_000,
		"answers": map[string]any{"summary": "Cooperatives dry cocoa with solar power.", "pilot": false, "country": "GH"}}, &p)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("complete: %d %s", res.StatusCode, res.Body)
	}
	return p
}

func (f portal) stored(t *testing.T, id string) *proposals.Proposal {
	t.Helper()
	p, err := f.env.Proposals.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	keyInput    = regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]+)"`)
	versionIn   = regexp.MustCompile(`name="version" value="(\d+)"`)
)

// hiddenFields reads a page's hidden inputs as a form would send them.
func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func submitKey(t *testing.T, body string) string {
	t.Helper()
	m := keyInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no submit button with a key: %s", apptest.FirstError(body))
	}
	return m[1]
}

func TestTwoEditorsSeeBothVersionsAndLoseNothing(t *testing.T) {
	f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
	p := f.complete(t, "en")
	// A colleague edits the same draft in the browser.
	colleague, _ := f.env.User("kwame@example.org", "", "")
	if _, err := f.env.Proposals.AddMember(t.Context(), actorFor(f.owner.ID), p.ID, colleague.Email, proposals.RightEdit); err != nil {
		t.Fatal(err)
	}
	kwame := f.env.Client()
	kwame.SignIn("kwame@example.org", "")
	page := kwame.Get("/proposals/" + p.ID + "?section=idea")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `name="version" value="`+fmt.Sprint(p.Version)+`"`) {
		t.Fatalf("editor: %d", page.StatusCode)
	}
	// Meanwhile the owner's autosave lands first.
	var saved proposals.Proposal
	if res := f.api.JSON(http.MethodPatch, "/api/v1/proposals/"+p.ID, map[string]any{"version": p.Version,
		"answers": map[string]any{"summary": "Owner's summary"}}, &saved); res.StatusCode != http.StatusOK {
		t.Fatalf("owner save: %d %s", res.StatusCode, res.Body)
	}
	// The colleague saves the form built on the older version.
	form := url.Values{"version": {fmt.Sprint(p.Version)}, "section": {"idea"}, "present.summary": {"1"}, "answers.summary": {"Colleague's <b>summary</b>"},
		"present.pilot": {"1"}, "answers.pilot": {"no"}, "present.country": {"1"}, "answers.country": {"GH"}}
	res := kwame.PostForm("/proposals/"+p.ID, form)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("stale save: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	for _, want := range []string{"Owner&#39;s summary", "Colleague&#39;s &lt;b&gt;summary&lt;/b&gt;"} {
		if !strings.Contains(res.Body, want) {
			t.Fatalf("conflict page does not show %q", want)
		}
	}
	if got := f.stored(t, p.ID); got.Answers.V["summary"] != "Owner's summary" || got.Version != saved.Version {
		t.Fatalf("stale save changed the proposal: %v v%d", got.Answers.V["summary"], got.Version)
	}
	// Nothing typed is lost: the page carries it, and keeping it saves it.
	again := hiddenFields(res.Body)
	if again.Get("answers.summary") != "Colleague's <b>summary</b>" || again.Get("version") != fmt.Sprint(saved.Version) {
		t.Fatalf("conflict form carries %v", again)
	}
	again.Set("keep.answers.summary", "mine")
	if res := kwame.PostForm("/proposals/"+p.ID, again); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("keep mine: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if got := f.stored(t, p.ID); got.Answers.V["summary"] != "Colleague's <b>summary</b>" {
		t.Fatalf("kept %q", got.Answers.V["summary"])
	}
	// Choosing the stored version keeps it.
	cur := f.stored(t, p.ID)
	stale := url.Values{"version": {fmt.Sprint(p.Version)}, "section": {"idea"}, "present.summary": {"1"}, "answers.summary": {"third try"}}
	res = kwame.PostForm("/proposals/"+p.ID, stale)
	choice := hiddenFields(res.Body)
	choice.Set("keep.answers.summary", "theirs")
	if res := kwame.PostForm("/proposals/"+p.ID, choice); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("keep theirs: %d", res.StatusCode)
	}
	if got := f.stored(t, p.ID); got.Answers.V["summary"] != cur.Answers.V["summary"] {
		t.Fatalf("keeping the stored version changed it to %q", got.Answers.V["summary"])
	}

	// Through the API: 409 with the stored version and yours.
	var conflict struct {
		Error   struct{ Code string } `json:"error"`
		Current proposals.Proposal    `json:"current"`
		Yours   struct {
			Answers map[string]any `json:"answers"`
		} `json:"yours"`
	}
	res = f.api.JSON(http.MethodPatch, "/api/v1/proposals/"+p.ID, map[string]any{"version": p.Version, "answers": map[string]any{"summary": "late"}}, &conflict)
	if res.StatusCode != http.StatusConflict || conflict.Error.Code != "conflict" || conflict.Current.Answers.V["summary"] != cur.Answers.V["summary"] ||
		conflict.Yours.Answers["summary"] != "late" {
		t.Fatalf("API conflict: %d %s", res.StatusCode, res.Body)
	}
}

func TestConcurrentSubmitsWithOneKeyMakeOneSubmission(t *testing.T) {
	f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
	p := f.complete(t, "en")
	token := f.api.Header.Get("Authorization")
	type answer struct {
		status int
		body   string
	}
	answers := make([]answer, 5)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := f.env.Client()
			c.Header.Set("Authorization", token)
			c.Header.Set("Idempotency-Key", "submit-once")
			res := c.Do(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, "")
			answers[i] = answer{res.StatusCode, res.Body}
		}()
	}
	wg.Wait()
	first := ""
	for _, a := range answers {
		switch a.status {
		case http.StatusOK:
			if first == "" {
				first = a.body
			}
			if a.body != first {
				t.Fatalf("different bodies for one key:\n%s\n%s", first, a.body)
			}
		case http.StatusConflict:
			if !strings.Contains(a.body, "proposal_in_flight") {
				t.Fatalf("409 without the in-flight code: %s", a.body)
			}
		default:
			t.Fatalf("status %d: %s", a.status, a.body)
		}
	}
	var submissions, audits int64
	f.env.DB.Gorm.Table("proposals").Where("status = ?", proposals.StatusSubmitted).Count(&submissions)
	f.env.DB.Gorm.Table("audit_log").Where("action = ? AND object_id = ?", "proposal.submit", p.ID).Count(&audits)
	receipts, _ := mail.Outbox(t.Context(), f.env.DB.Gorm, "ama@example.org", 50)
	mails := 0
	for _, m := range receipts {
		if m.Kind == "proposal_receipt" {
			mails++
		}
	}
	if submissions != 1 || audits != 1 || mails != 1 {
		t.Fatalf("submissions %d, audit records %d, receipts %d", submissions, audits, mails)
	}
	// A retry after the first finished gets the same answer.
	f.api.Header.Set("Idempotency-Key", "submit-once")
	res := f.api.Do(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Idempotent-Replayed") != "true" || (first != "" && res.Body != first) {
		t.Fatalf("retry: %d %s", res.StatusCode, res.Body)
	}
	if !strings.Contains(res.Body, f.stored(t, p.ID).ReceiptNumber) {
		t.Fatalf("replayed answer has no receipt: %s", res.Body)
	}
	// The same key for another request is refused, 50 times, and changes nothing.
	other := f.complete(t, "en")
	for i := range 50 {
		var res *apptest.Response
		if i%2 == 0 {
			res = f.api.Do(http.MethodPost, "/api/v1/proposals/"+other.ID+"/submit", nil, "")
		} else {
			res = f.api.Do(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", strings.NewReader(`{}`), "application/json")
		}
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "proposal_key_reused") {
			t.Fatalf("reuse %d: %d %s", i, res.StatusCode, res.Body)
		}
	}
	if got := f.stored(t, other.ID); got.Status != proposals.StatusDraft {
		t.Fatalf("a refused reuse submitted the other proposal")
	}
	// A submit without a key is refused.
	f.api.Header.Del("Idempotency-Key")
	if res := f.api.Do(http.MethodPost, "/api/v1/proposals/"+other.ID+"/submit", nil, ""); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("no key: %d", res.StatusCode)
	}
}

func TestSubmitAroundTheDeadlineWithGrace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration // deadline (closing time plus grace) relative to now
		ok     bool
	}{
		{"one second before", 2 * time.Second, true},
		{"one second after", -time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
			p := f.complete(t, "en")
			key := submitKey(t, f.page.Get("/proposals/"+p.ID).Body)
			deadline := time.Now().UTC().Add(tc.offset).Truncate(time.Second)
			f.env.DB.Gorm.Exec("UPDATE calls SET closes_at = ?, grace_minutes = 10 WHERE id = ?", deadline.Add(-10*time.Minute), f.call.ID)
			res := f.page.PostForm("/proposals/"+p.ID+"/submit", url.Values{"idempotency_key": {key}})
			got := f.stored(t, p.ID)
			if tc.ok {
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/proposals/"+p.ID+"/receipt" || got.Status != proposals.StatusSubmitted {
					t.Fatalf("before the deadline: %d %s", res.StatusCode, apptest.FirstError(res.Body))
				}
				return
			}
			want := "the deadline was " + deadline.Format("2006-01-02 15:04 MST")
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, want) || got.Status != proposals.StatusDraft {
				t.Fatalf("after the deadline: %d, wanted %q in %s", res.StatusCode, want, apptest.FirstError(res.Body))
			}
			// The API says the same, with the deadline.
			f.api.Header.Set("Idempotency-Key", "late")
			var late struct {
				Error    struct{ Code, Message string } `json:"error"`
				Deadline time.Time                      `json:"deadline"`
			}
			res = f.api.JSON(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, &late)
			if res.StatusCode != http.StatusUnprocessableEntity || late.Error.Code != "proposal_deadline_passed" || !late.Deadline.Equal(deadline) {
				t.Fatalf("API after the deadline: %d %s", res.StatusCode, res.Body)
			}
		})
	}
}

// everyKind is the test call with one more section holding a question of
// every kind that takes a typed answer.
func everyKind() calls.Input {
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	en := func(s string) calls.Text { return calls.Text{"en": s, "fr": s} }
	lo, hi := 0.0, 100.0
	maxMoney := 5_000_000.0
	in.Form.Sections = append(in.Form.Sections, calls.Section{ID: "more", Round: 1, Title: en("More"), Questions: []calls.Question{
		{ID: "motto", Kind: calls.KindShortText, Label: en("Motto"), MaxChars: 50},
		{ID: "staff", Kind: calls.KindNumber, Label: en("Staff"), Min: &lo, Max: &hi},
		{ID: "cofunding", Kind: calls.KindMoney, Label: en("Co-funding"), Max: &maxMoney},
		{ID: "sector", Kind: calls.KindSingleChoice, Label: en("Sector"), Choices: []calls.Choice{{Value: "agri", Label: en("Agriculture")}, {Value: "craft", Label: en("Crafts")}}},
		{ID: "groups", Kind: calls.KindMultipleChoice, Label: en("Groups"), Choices: []calls.Choice{{Value: "women", Label: en("Women")}, {Value: "youth", Label: en("Youth")}}},
		{ID: "start", Kind: calls.KindDate, Label: en("Start date")},
		{ID: "registered", Kind: calls.KindYesNo, Label: en("Registered?")},
		{ID: "where", Kind: calls.KindCountry, Label: en("Where")},
	}})
	return in
}

func TestBadInputForEveryFieldTypeChangesNothing(t *testing.T) {
	f := newPortal(t, everyKind())
	p := f.start(t, "en")
	long := strings.Repeat("word ", 301)
	type bad struct {
		field, value string
		api          any // the same through the API (nil: the page only)
	}
	cases := []bad{
		{"summary", long, long}, {"summary", "evil \u202e fdp.exe", "evil \u202e fdp.exe"}, {"summary", "a\x00b", "a\x00b"}, {"summary", "\xff\xfe", nil},
		{"motto", strings.Repeat("m", 51), strings.Repeat("m", 51)}, {"motto", "line\nbreak", "line\nbreak"}, {"motto", "\u202eright", "\u202eright"},
		{"staff", "many", "many"}, {"staff", "101", 101}, {"staff", "<script>alert(1)</script>", "<script>"}, {"staff", "NaN", nil}, {"staff", "1e400", nil},
		{"cofunding", "-5", -5}, {"cofunding", "12.345", 12.345}, {"cofunding", "60000", 6_000_000}, {"cofunding", "<script>", "<script>"},
		{"sector", "mining", "mining"}, {"sector", "<script>", "<script>"}, {"sector", "agri\x00", "agri\x00"},
		{"groups", "elders", []string{"elders"}}, {"groups", "<script>", []any{1}},
		{"start", "2024-13-45", "2024-13-45"}, {"start", "yesterday", "yesterday"}, {"start", "<script>", 20240101},
		{"registered", "maybe", "maybe"}, {"registered", "\u202eyes", "yes"},
		{"where", "ZZ", "ZZ"}, {"where", "<script>", "<script>"}, {"where", strings.Repeat("G", 10_000), strings.Repeat("G", 10_000)},
		{"country", "\xff", nil},
	}
	section := map[string]string{"summary": "idea", "country": "idea"}
	for _, tc := range cases {
		sec := section[tc.field]
		if sec == "" {
			sec = "more"
		}
		name := "answers." + tc.field
		before := f.stored(t, p.ID)
		res := f.page.PostForm("/proposals/"+p.ID, url.Values{"version": {fmt.Sprint(before.Version)}, "section": {sec},
			"present." + tc.field: {"1"}, name: {tc.value}})
		if res.StatusCode != http.StatusUnprocessableEntity || !hasFieldError(res.Body, name) {
			t.Errorf("page %s=%q: %d %s", tc.field, tc.value, res.StatusCode, apptest.FirstError(res.Body))
		}
		if strings.Contains(res.Body, "<script>") {
			t.Errorf("page %s=%q: unescaped script tag", tc.field, tc.value)
		}
		if tc.api != nil {
			var out struct {
				Error struct {
					Fields []struct{ Field, Message string }
				}
			}
			res = f.api.JSON(http.MethodPatch, "/api/v1/proposals/"+p.ID, map[string]any{"version": before.Version, "answers": map[string]any{tc.field: tc.api}}, &out)
			if res.StatusCode != http.StatusUnprocessableEntity || len(out.Error.Fields) == 0 || out.Error.Fields[0].Field != name ||
				strings.Contains(out.Error.Fields[0].Message, "answers.") {
				t.Errorf("API %s=%v: %d %s", tc.field, tc.api, res.StatusCode, res.Body)
			}
		}
		if got := f.stored(t, p.ID); got.Version != before.Version || len(got.Answers.V) != len(before.Answers.V) {
			t.Fatalf("%s=%q changed the proposal: v%d -> v%d", tc.field, tc.value, before.Version, got.Version)
		}
	}
	// The fixed fields too: title, amount, partners.
	before := f.stored(t, p.ID)
	for _, form := range []url.Values{
		{"title": {""}}, {"title": {strings.Repeat("t", 301)}}, {"title": {"a\x00"}}, {"title": {"\u202etitle"}}, {"title": {"\xff"}},
		{"requested_amount": {"lots"}}, {"requested_amount": {"-1"}}, {"requested_amount": {"999999999999"}}, {"requested_amount": {"1.234"}},
		{"partner_rows": {"1"}, "partners.0.name": {"A"}, "partners.0.country": {"ZZ"}, "partner_lead": {"0"}},
		{"partner_rows": {"2"}, "partners.0.name": {"A"}, "partners.0.country": {"GH"}, "partners.1.name": {"B"}, "partners.1.country": {"SN"}},
		{"partner_rows": {"1"}, "partners.0.name": {"<script>\u202e"}, "partners.0.country": {"GH"}, "partner_lead": {"0"}},
		{"partner_rows": {"1000"}},
	} {
		form.Set("version", fmt.Sprint(before.Version))
		form.Set("section", "_details")
		res := f.page.PostForm("/proposals/"+p.ID, form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `class="field-error"`) || strings.Contains(res.Body, "<script>") {
			t.Errorf("details %v: %d %s", form, res.StatusCode, apptest.FirstError(res.Body))
		}
	}
	for _, body := range []map[string]any{
		{"title": ""}, {"requested_minor": -1}, {"requested_minor": "ten"}, {"partners": []map[string]any{{"name": "A", "country": "GH", "lead": false}}},
		{"answers": map[string]any{"unknown": "x"}}, {"status": "submitted"},
	} {
		body["version"] = before.Version
		res := f.api.JSON(http.MethodPatch, "/api/v1/proposals/"+p.ID, body, nil)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"fields"`) {
			t.Errorf("API %v: %d %s", body, res.StatusCode, res.Body)
		}
	}
	// Missing: submitting an empty draft lists each required field.
	f.api.Header.Set("Idempotency-Key", "incomplete")
	var out struct {
		Error struct{ Fields []struct{ Field string } }
	}
	res := f.api.JSON(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, &out)
	fields := map[string]bool{}
	for _, e := range out.Error.Fields {
		fields[e.Field] = true
	}
	if res.StatusCode != http.StatusUnprocessableEntity || !fields["answers.summary"] || !fields["requested_minor"] || !fields["answers.country"] {
		t.Fatalf("incomplete submit: %d %s", res.StatusCode, res.Body)
	}
	if got := f.stored(t, p.ID); got.Version != before.Version || got.Status != proposals.StatusDraft {
		t.Fatalf("refused input changed the proposal: v%d -> v%d", before.Version, got.Version)
	}
}

func TestOtherApplicantsCannotReachAProposal(t *testing.T) {
	f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
	p := f.complete(t, "en")
	stranger, _ := f.env.Applicant("intruder@example.org", "Another Union")
	page := f.env.Client()
	page.SignIn("intruder@example.org", "")
	page.Get("/proposals")
	api := bearer(t, f.env, stranger.ID)
	api.Header.Set("Idempotency-Key", "x")
	base := "/proposals/" + p.ID
	for _, r := range []struct{ method, path string }{
		{"GET", base}, {"GET", base + "?section=idea"}, {"POST", base}, {"POST", base + "/submit"}, {"GET", base + "/receipt"},
		{"POST", base + "/withdraw"}, {"POST", base + "/members"}, {"POST", base + "/members/" + f.owner.ID + "/remove"},
		{"GET", "/api/v1" + base}, {"PATCH", "/api/v1" + base}, {"GET", "/api/v1" + base + "/missing"}, {"POST", "/api/v1" + base + "/submit"},
		{"POST", "/api/v1" + base + "/withdraw"}, {"GET", "/api/v1" + base + "/receipt"}, {"GET", "/api/v1" + base + "/members"},
		{"POST", "/api/v1" + base + "/members"}, {"DELETE", "/api/v1" + base + "/members/" + f.owner.ID},
	} {
		before := denials(t, f.env)
		var res *apptest.Response
		switch {
		case strings.HasPrefix(r.path, "/api/"):
			res = api.JSON(r.method, r.path, map[string]any{"version": p.Version, "email": "intruder@example.org", "rights": "submit"}, nil)
		case r.method == "GET":
			res = page.Get(r.path)
		default:
			res = page.PostForm(r.path, url.Values{"version": {fmt.Sprint(p.Version)}, "section": {"_details"}, "title": {"Mine now"},
				"email": {"intruder@example.org"}, "rights": {"submit"}, "idempotency_key": {"k"}})
		}
		if res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "Solar dryers") {
			t.Errorf("%s %s: %d", r.method, r.path, res.StatusCode)
		}
		if denials(t, f.env) != before+1 {
			t.Errorf("%s %s: denial not audited", r.method, r.path)
		}
	}
	if got := f.stored(t, p.ID); got.Version != p.Version || got.Title != "Solar dryers" || got.Status != proposals.StatusDraft {
		t.Fatalf("a stranger changed the proposal")
	}
	if res := page.Get("/proposals"); strings.Contains(res.Body, p.ID) {
		t.Fatal("a stranger's list shows the proposal")
	}
	if _, r, err := f.env.Proposals.ForPerson(t.Context(), stranger.ID, p.ID); err != nil || r != "" {
		t.Fatalf("stranger got rights %q (%v)", r, err)
	}

	// Team members get what their rights allow, no more.
	viewer, _ := f.env.User("viewer@example.org", "", "")
	editor, _ := f.env.User("editor@example.org", "", "")
	for email, rights := range map[string]string{"viewer@example.org": proposals.RightView, "editor@example.org": proposals.RightEdit} {
		if res := f.page.PostForm("/proposals/"+p.ID+"/members", url.Values{"email": {email}, "rights": {rights}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add %s: %d %s", email, res.StatusCode, apptest.FirstError(res.Body))
		}
	}
	vc := f.env.Client()
	vc.SignIn("viewer@example.org", "")
	if res := vc.Get("/proposals/" + p.ID + "?section=idea"); res.StatusCode != http.StatusOK || strings.Contains(res.Body, `id="proposal-form"`) ||
		!strings.Contains(res.Body, "Cooperatives dry cocoa") {
		t.Fatalf("viewer's page: %d", res.StatusCode)
	}
	if res := vc.PostForm("/proposals/"+p.ID, url.Values{"version": {fmt.Sprint(p.Version)}, "section": {"_details"}, "title": {"Viewer was here"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer saves: %d", res.StatusCode)
	}
	if res := bearer(t, f.env, viewer.ID).JSON(http.MethodPatch, "/api/v1/proposals/"+p.ID, map[string]any{"version": p.Version, "title": "x"}, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer patches: %d", res.StatusCode)
	}
	ec := f.env.Client()
	ec.SignIn("editor@example.org", "")
	page2 := ec.Get("/proposals/" + p.ID)
	if strings.Contains(page2.Body, `name="idempotency_key"`) {
		t.Fatal("an editor is offered the submit button")
	}
	if res := ec.PostForm("/proposals/"+p.ID+"/submit", url.Values{"idempotency_key": {"abc"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("editor submits: %d", res.StatusCode)
	}
	eapi := bearer(t, f.env, editor.ID)
	eapi.Header.Set("Idempotency-Key", "e")
	if res := eapi.Do(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("editor submits through the API: %d", res.StatusCode)
	}
	if res := ec.PostForm("/proposals/"+p.ID+"/members", url.Values{"email": {"intruder@example.org"}, "rights": {"submit"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("editor manages the team: %d", res.StatusCode)
	}
	if res := ec.PostForm("/proposals/"+p.ID, url.Values{"version": {fmt.Sprint(p.Version)}, "section": {"_details"}, "title": {"Better title"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("editor saves: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if got := f.stored(t, p.ID); got.Title != "Better title" || got.Status != proposals.StatusDraft {
		t.Fatalf("after the team: %q %s", got.Title, got.Status)
	}
}

func TestReceiptMailInTheProposalsLanguage(t *testing.T) {
	f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
	p := f.complete(t, "fr")
	f.api.Header.Set("Idempotency-Key", "fr-receipt")
	var receipt struct {
		ReceiptNumber string `json:"receipt_number"`
		ContentHash   string `json:"content_hash"`
	}
	if res := f.api.JSON(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, &receipt); res.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d %s", res.StatusCode, res.Body)
	}
	msgs, err := mail.Outbox(t.Context(), f.env.DB.Gorm, "ama@example.org", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got *mail.Stored
	for i := range msgs {
		if msgs[i].Kind == "proposal_receipt" {
			got = &msgs[i]
		}
	}
	if got == nil || !strings.Contains(got.Subject, "Accusé de réception "+receipt.ReceiptNumber) ||
		!strings.Contains(got.Body, receipt.ContentHash) || len(receipt.ContentHash) != 64 || !strings.Contains(got.Body, "Emplois verts") {
		t.Fatalf("receipt mail: %+v", got)
	}
	// The receipt endpoint says the same.
	var again struct {
		ReceiptNumber string `json:"receipt_number"`
		ContentHash   string `json:"content_hash"`
	}
	f.api.JSON(http.MethodGet, "/api/v1/proposals/"+p.ID+"/receipt", nil, &again)
	if again != receipt {
		t.Fatalf("receipt %+v, submit said %+v", again, receipt)
	}
}

func TestApplicantJourneyAcrossTwoSessions(t *testing.T) {
	f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
	c := f.page
	res := c.Get("/calls/" + f.call.ID + "/proposals/new")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `<option value="`+f.org+`" selected>`) {
		t.Fatalf("start form: %d (organisation preselected?)", res.StatusCode)
	}
	// The call page's start button sends only the language: the form follows.
	res = c.PostForm("/calls/"+f.call.ID+"/proposals", url.Values{"language": {"fr"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `<option value="fr" selected>`) || !strings.Contains(res.Body, `name="title"`) {
		t.Fatalf("start button: %d", res.StatusCode)
	}
	res = c.PostForm("/calls/"+f.call.ID+"/proposals", url.Values{"organisation_id": {f.org}, "title": {""}, "language": {"fr"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !hasFieldError(res.Body, "title") {
		t.Fatalf("start without a title: %d", res.StatusCode)
	}
	res = c.PostForm("/calls/"+f.call.ID+"/proposals", url.Values{"organisation_id": {f.org}, "title": {"Séchoirs solaires"}, "language": {"fr"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	path := res.Header.Get("Location")
	id := strings.TrimPrefix(path, "/proposals/")

	// First session: the amount and a partner, then the idea with "piloted: yes".
	page := c.Get(path + "?section=_details")
	version := versionIn.FindStringSubmatch(page.Body)[1]
	res = c.PostForm(path, url.Values{"version": {version}, "section": {"_details"}, "title": {"Séchoirs solaires"}, "requested_amount": {"20,000.00"},
		"partner_rows": {"2"}, "partners.0.name": {"Ghana Cocoa Cooperative"}, "partners.0.country": {"GH"}, "partners.0.organisation_id": {f.org},
		"partner_lead": {"0"}, "partners.1.name": {"Dakar Makers"}, "partners.1.country": {"SN"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("details: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	page = c.Get(path + "?section=idea")
	if !strings.Contains(page.Body, `id="q-pilot_results"`) || !regexp.MustCompile(`id="q-pilot_results"[^>]*hidden`).MatchString(page.Body) {
		t.Fatal("the pilot results question is not hidden before the pilot answer")
	}
	version = versionIn.FindStringSubmatch(page.Body)[1]
	res = c.PostForm(path, url.Values{"version": {version}, "section": {"idea"}, "present.summary": {"1"}, "answers.summary": {"Des coopératives sèchent le cacao."},
		"present.pilot": {"1"}, "answers.pilot": {"yes"}, "present.country": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("idea: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	c.PostForm("/logout", nil)

	// Second session: everything is there; finish and submit.
	c2 := f.env.Client()
	c2.SignIn("ama@example.org", "")
	page = c2.Get(path + "?section=idea")
	if !strings.Contains(page.Body, "Des coopératives sèchent le cacao.") || regexp.MustCompile(`id="q-pilot_results"[^>]*hidden`).MatchString(page.Body) {
		t.Fatal("the second session does not show the first one's work")
	}
	if !strings.Contains(page.Body, "What is missing") || !strings.Contains(page.Body, "#f-answers.pilot_results") {
		t.Fatal("the missing panel does not link to the pilot results")
	}
	version = versionIn.FindStringSubmatch(page.Body)[1]
	res = c2.PostForm(path, url.Values{"version": {version}, "section": {"idea"}, "present.summary": {"1"}, "answers.summary": {"Des coopératives sèchent le cacao."},
		"present.pilot": {"1"}, "answers.pilot": {"yes"}, "present.pilot_results": {"1"}, "answers.pilot_results": {"Rendements en hausse de 20 %."},
		"present.country": {"1"}, "answers.country": {"GH"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("finish: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	page = c2.Get(path)
	if !strings.Contains(page.Body, "Nothing is missing") {
		t.Fatalf("still missing: %s", page.Body[strings.Index(page.Body, "missing-title"):][:600])
	}
	key := submitKey(t, page.Body)
	res = c2.PostForm(path+"/submit", url.Values{"idempotency_key": {key}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != path+"/receipt" {
		t.Fatalf("submit: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	// A double click: the same form again makes no second submission.
	if res := c2.PostForm(path+"/submit", url.Values{"idempotency_key": {key}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != path+"/receipt" {
		t.Fatalf("second click: %d", res.StatusCode)
	}
	got := f.stored(t, id)
	receipt := c2.Get(path + "/receipt")
	if receipt.StatusCode != http.StatusOK || !strings.Contains(receipt.Body, got.ReceiptNumber) || !strings.Contains(receipt.Body, got.ContentHash) ||
		!strings.Contains(receipt.Body, got.SubmittedAt.UTC().Format("2006-01-02 15:04:05 UTC")) {
		t.Fatalf("receipt page: %d", receipt.StatusCode)
	}
	if got.RequestedMinor != 2_000_000 || len(got.Partners.V) != 2 || !got.Partners.V[0].Lead {
		t.Fatalf("stored: %d %+v", got.RequestedMinor, got.Partners.V)
	}
	// Read-only after submission.
	page = c2.Get(path + "?section=idea")
	if strings.Contains(page.Body, `id="proposal-form"`) || !strings.Contains(page.Body, "Rendements en hausse de 20 %.") {
		t.Fatal("the submitted proposal is still editable")
	}
	if res := c2.PostForm(path, url.Values{"version": {fmt.Sprint(got.Version)}, "section": {"_details"}, "title": {"Changed"}}); res.StatusCode != http.StatusConflict {
		t.Fatalf("edit after submission: %d", res.StatusCode)
	}
	list := c2.Get("/proposals")
	if !strings.Contains(list.Body, "Séchoirs solaires") || !strings.Contains(list.Body, "Submitted") || !strings.Contains(list.Body, got.ReceiptNumber) {
		t.Fatal("my proposals does not list the submission")
	}
	// Withdraw before the deadline.
	if !strings.Contains(page.Body, `action="`+path+`/withdraw"`) {
		t.Fatal("no withdraw button")
	}
	if res := c2.PostForm(path+"/withdraw", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if got := f.stored(t, id); got.Status != proposals.StatusWithdrawn {
		t.Fatalf("status after withdrawal: %s", got.Status)
	}
}

// The API's submit leaves the right to submit to the submission desk,
// which reads it in the transaction that submits: a stranger's request is
// answered as if the proposal did not exist, a team viewer's is forbidden,
// both are audited and change nothing, and the owner's goes through.
func TestAPISubmitIsAuthorisedAtTheDesk(t *testing.T) {
	f := newPortal(t, apptest.CallInput(-time.Hour, 24*time.Hour))
	p := f.complete(t, "en")
	stranger, _ := f.env.Applicant("intruder@example.org", "Another Union")
	viewer, _ := f.env.User("viewer@example.org", "", "")
	if _, err := f.env.Proposals.AddMember(t.Context(), actorFor(f.owner.ID), p.ID, viewer.Email, proposals.RightView); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		client *apptest.Client
		path   string
		want   int
	}{
		{"stranger", bearer(t, f.env, stranger.ID), "/api/v1/proposals/" + p.ID + "/submit", http.StatusNotFound},
		{"team viewer", bearer(t, f.env, viewer.ID), "/api/v1/proposals/" + p.ID + "/submit", http.StatusForbidden},
		{"unknown proposal", f.api, "/api/v1/proposals/" + database.NewID() + "/submit", http.StatusNotFound},
	} {
		before := denials(t, f.env)
		c.client.Header.Set("Idempotency-Key", "k-"+c.name)
		res := c.client.Do(http.MethodPost, c.path, nil, "")
		if res.StatusCode != c.want || strings.Contains(res.Body, "Solar dryers") {
			t.Errorf("%s: %d %s", c.name, res.StatusCode, res.Body)
		}
		if denials(t, f.env) != before+1 {
			t.Errorf("%s: denial not audited", c.name)
		}
		if got := f.stored(t, p.ID); got.Status != proposals.StatusDraft || got.Version != p.Version {
			t.Fatalf("%s: the proposal changed: %s v%d", c.name, got.Status, got.Version)
		}
	}
	f.api.Header.Set("Idempotency-Key", "k-owner")
	if res := f.api.Do(http.MethodPost, "/api/v1/proposals/"+p.ID+"/submit", nil, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("owner: %d %s", res.StatusCode, res.Body)
	}
}
