package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"facility/internal/apptest"
	"facility/internal/authz"
	"facility/internal/calls"
)

const designFacility = "sustainable_enterprises"

// basicsForm is a new call's basics as a manager fills them in.
func basicsForm() url.Values {
	return url.Values{
		"facility": {designFacility}, "origin": {"external"}, "scope": {"global"}, "languages": {"en", "fr"},
		"title.en": {"Green jobs for small enterprises"}, "title.fr": {"Emplois verts pour les petites entreprises"},
		"challenge.en": {"How can small enterprises create decent green jobs?"}, "challenge.fr": {"Comment créer des emplois verts décents ?"},
		"opens": {"2030-03-01T09:00"}, "closes": {"2030-04-15T17:00"}, "timezone": {"Africa/Nairobi"}, "grace_minutes": {"15"},
		"currency": {"USD"}, "budget": {"500,000.00"}, "min_grant": {"10000"}, "max_grant": {"50,000.50"},
		"indicators": {"8.3.1"}, "donors": {"Government of Sweden\r\n\r\nEuropean Union\r\n"},
	}
}

var callLocation = regexp.MustCompile(`^/manage/calls/([0-9a-f-]{36})$`)

// designState is every row call design can change, so a test can tell that
// a refused request wrote nothing.
func designState(t *testing.T, env *apptest.Env) string {
	t.Helper()
	var parts []string
	for _, q := range []string{"SELECT * FROM calls ORDER BY id", "SELECT * FROM gate_decisions ORDER BY id",
		"SELECT action, object_id FROM audit_log WHERE action LIKE 'call.%' OR action LIKE 'gate.%' ORDER BY id"} {
		var rows []map[string]any
		if err := env.DB.Gorm.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprint(rows))
	}
	return strings.Join(parts, "\n")
}

func getCall(t *testing.T, env *apptest.Env, id string) *calls.Call {
	t.Helper()
	c, err := env.Calls.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends a builder form with the call's current version.
func post(t *testing.T, env *apptest.Env, c *apptest.Client, id, path string, v url.Values) *apptest.Response {
	t.Helper()
	v.Set("version", strconv.Itoa(getCall(t, env, id).Version))
	return c.PostForm("/manage/calls/"+id+path, v)
}

func mustRedirect(t *testing.T, res *apptest.Response, what string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: status %d: %s", what, res.StatusCode, apptest.FirstError(res.Body))
	}
}

// createThroughPages creates a draft call with the basics form.
func createThroughPages(t *testing.T, c *apptest.Client) string {
	t.Helper()
	res := c.PostForm("/manage/calls/new", basicsForm())
	mustRedirect(t, res, "create call")
	m := callLocation.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		t.Fatalf("created call at %q", res.Header.Get("Location"))
	}
	return m[1]
}

func TestCallDesignJourneyThroughPages(t *testing.T) {
	env := apptest.New(t)
	mgr, _ := signedIn(t, env, "mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))

	if res := mgr.Get("/manage/calls/new"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `type="datetime-local"`) ||
		!strings.Contains(res.Body, `value="Africa/Abidjan"`) {
		t.Fatalf("new call form: %d", res.StatusCode)
	}
	id := createThroughPages(t, mgr)
	call := getCall(t, env, id)
	if call.Status != calls.StatusDraft || call.BudgetMinor != 50_000_000 || call.MaxGrantMinor != 5_000_050 || call.MinGrantMinor != 1_000_000 {
		t.Fatalf("money: %+v", call)
	}
	if got := call.OpensAt.UTC().Format("2006-01-02 15:04"); got != "2030-03-01 06:00" {
		t.Errorf("opens 09:00 in Nairobi stored as %s UTC", got)
	}
	if strings.Join(call.Donors.V, "|") != "Government of Sweden|European Union" || call.GraceMinutes != 15 {
		t.Errorf("donors %q grace %d", call.Donors.V, call.GraceMinutes)
	}

	mustRedirect(t, post(t, env, mgr, id, "/sections", url.Values{"id": {"idea"}, "title.en": {"Your idea"}, "title.fr": {"Votre idée"}}), "add section")
	mustRedirect(t, post(t, env, mgr, id, "/sections/idea/questions", url.Values{"id": {"pilot"}, "kind": {"yes_no"},
		"label.en": {"Has it been piloted?"}, "label.fr": {"A-t-elle été testée ?"}, "required": {"on"}}), "add yes/no question")
	mustRedirect(t, post(t, env, mgr, id, "/sections/idea/questions", url.Values{"id": {"pilot_results"}, "kind": {"long_text"},
		"label.en": {"Pilot results"}, "label.fr": {"Résultats du test"}, "max_words": {"300"}, "required": {"on"},
		"visible_if": {"pilot"}, "visible_values": {"yes"}}), "add conditional question")
	mustRedirect(t, post(t, env, mgr, id, "/sections/idea/questions", url.Values{"id": {"plan"}, "kind": {"file"},
		"label.en": {"Work plan"}, "label.fr": {"Plan de travail"}, "file_types": {"pdf", "docx"}, "max_file_mb": {"10"}}), "add file question")
	mustRedirect(t, post(t, env, mgr, id, "/rules", url.Values{"kind": {"yes_no"}, "question": {"pilot"}, "expect": {"yes"}}), "add rule")
	for _, cr := range []url.Values{
		{"id": {"impact"}, "name.en": {"Impact"}, "name.fr": {"Impact"}, "weight": {"2"}, "scale_min": {"0"}, "scale_max": {"5"}, "step": {"0.5"}, "threshold": {"3"}},
		{"id": {"feasibility"}, "name.en": {"Feasibility"}, "name.fr": {"Faisabilité"}, "weight": {"1"}, "scale_min": {"0"}, "scale_max": {"5"}, "step": {"1"}},
	} {
		mustRedirect(t, post(t, env, mgr, id, "/criteria", cr), "add criterion")
	}

	call = getCall(t, env, id)
	q, ok := call.Form.V.Question("pilot_results")
	if !ok || q.VisibleIf == nil || q.VisibleIf.Question != "pilot" || strings.Join(q.VisibleIf.Values, ",") != "yes" || q.MaxWords != 300 {
		t.Fatalf("conditional question: %+v", q)
	}
	if f, _ := call.Form.V.Question("plan"); strings.Join(f.FileTypes, ",") != "pdf,docx" || f.MaxFileMB != 10 {
		t.Fatalf("file question: %+v", f)
	}
	if len(call.Eligibility.V) != 1 || call.Eligibility.V[0].Question != "pilot" || len(call.Criteria.V) != 2 || *call.Criteria.V[0].Threshold != 3 {
		t.Fatalf("rules %+v criteria %+v", call.Eligibility.V, call.Criteria.V)
	}
	// The conditional question is shown only for "yes".
	if call.Form.V.Visible(q, map[string]any{"pilot": false}) || !call.Form.V.Visible(q, map[string]any{"pilot": true}) {
		t.Error("pilot_results should show only when pilot is yes")
	}

	page := mgr.Get("/manage/calls/" + id)
	for _, want := range []string{"Has it been piloted?", "Pilot results", "Work plan", "Impact", "Feasibility", "Government of Sweden"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("design page lacks %q", want)
		}
	}
	preview := mgr.Get("/manage/calls/" + id + "/preview?lang=fr")
	if preview.StatusCode != http.StatusOK || !strings.Contains(preview.Body, "Résultats du test") || !strings.Contains(preview.Body, "conditional") {
		t.Fatalf("preview: %d", preview.StatusCode)
	}

	// Publication needs the G0 approval first.
	if res := mgr.PostForm("/manage/calls/"+id+"/publish", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("publish a draft: status %d", res.StatusCode)
	}
	mustRedirect(t, mgr.PostForm("/manage/calls/"+id+"/submit", nil), "submit for approval")
	if getCall(t, env, id).Status != calls.StatusInReview {
		t.Fatal("not in review")
	}
	// Changes are refused while in review.
	if res := post(t, env, mgr, id, "/sections", url.Values{"id": {"late"}, "title.en": {"x"}, "title.fr": {"x"}}); res.StatusCode != http.StatusConflict {
		t.Fatalf("edit in review: status %d", res.StatusCode)
	}
	if res := mgr.PostForm("/manage/calls/"+id+"/publish", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("publish before G0: status %d", res.StatusCode)
	}
	if res := mgr.PostForm("/manage/calls/"+id+"/g0", url.Values{"decision": {"revise"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "Reason is required") {
		t.Fatalf("revise without a reason: status %d: %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	mustRedirect(t, mgr.PostForm("/manage/calls/"+id+"/g0", url.Values{"decision": {"approve"}, "reason": {"Ready: budget confirmed"}}), "approve")
	mustRedirect(t, mgr.PostForm("/manage/calls/"+id+"/publish", nil), "publish")
	if c := getCall(t, env, id); c.Status != calls.StatusPublished || c.PublishedAt == nil {
		t.Fatalf("status %s", c.Status)
	}
	page = mgr.Get("/manage/calls/" + id)
	if !strings.Contains(page.Body, "Ready: budget confirmed") || !strings.Contains(page.Body, "Mgr Tester") {
		t.Error("the G0 history does not show who decided and why")
	}
	list := mgr.Get("/manage/calls")
	if !strings.Contains(list.Body, "Green jobs for small enterprises") || !strings.Contains(list.Body, "Ready: budget confirmed") {
		t.Error("the list does not show the call and its G0 history")
	}
}

func TestCallDesignJourneyThroughAPI(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("api-mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	c := bearer(t, env, u.ID)

	in := apptest.CallInput(24*60*60*1e9, 30*24*60*60*1e9)
	in.Form.Sections[0].Questions = in.Form.Sections[0].Questions[:0]
	in.Criteria = nil
	var created struct {
		Call  calls.Call  `json:"call"`
		Input calls.Input `json:"input"`
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls", in, &created); res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	id := created.Call.ID
	// Submitting an empty form is refused with the fields that need work.
	res := c.JSON(http.MethodPost, "/api/v1/manage/calls/"+id+"/submit-for-approval", nil, nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"field":"form"`) || !strings.Contains(res.Body, `"field":"criteria"`) {
		t.Fatalf("submit incomplete: %d %s", res.StatusCode, res.Body)
	}
	full := apptest.CallInput(24*60*60*1e9, 30*24*60*60*1e9)
	var updated struct {
		Call calls.Call `json:"call"`
	}
	if res := c.JSON(http.MethodPut, "/api/v1/manage/calls/"+id, map[string]any{"version": created.Call.Version, "call": full}, &updated); res.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", res.StatusCode, res.Body)
	}
	// A second write from the old version is a conflict that names the current one.
	var conflict map[string]any
	res = c.JSON(http.MethodPut, "/api/v1/manage/calls/"+id, map[string]any{"version": created.Call.Version, "call": in}, &conflict)
	if res.StatusCode != http.StatusConflict || conflict["current_version"] != float64(updated.Call.Version) {
		t.Fatalf("stale update: %d %s", res.StatusCode, res.Body)
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls/"+id+"/publish", nil, nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("publish a draft: %d", res.StatusCode)
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls/"+id+"/submit-for-approval", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d %s", res.StatusCode, res.Body)
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls/"+id+"/g0", map[string]string{"decision": "cancel"}, nil); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, `"field":"reason"`) {
		t.Fatalf("cancel without reason: %d %s", res.StatusCode, res.Body)
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls/"+id+"/g0", map[string]string{"decision": "approve", "reason": "Fits the strategy"}, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d %s", res.StatusCode, res.Body)
	}
	var published struct {
		Call calls.Call `json:"call"`
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls/"+id+"/publish", nil, &published); res.StatusCode != http.StatusOK || published.Call.Status != calls.StatusPublished {
		t.Fatalf("publish: %d %s", res.StatusCode, res.Body)
	}
	var gates struct {
		Decisions []struct{ Gate, Decision, Reason, DecidedBy string } `json:"decisions"`
	}
	c.JSON(http.MethodGet, "/api/v1/manage/calls/"+id+"/gates", nil, &gates)
	if len(gates.Decisions) != 1 || gates.Decisions[0].Decision != "approve" || gates.Decisions[0].Reason != "Fits the strategy" {
		t.Fatalf("gates: %+v", gates)
	}
	var list struct {
		Calls []calls.Call `json:"calls"`
	}
	if c.JSON(http.MethodGet, "/api/v1/manage/calls", nil, &list); len(list.Calls) != 1 || list.Calls[0].ID != id {
		t.Fatalf("list: %+v", list)
	}
	var doc map[string]any
	c.JSON(http.MethodGet, "/api/v1/openapi.json", nil, &doc)
	for _, p := range []string{"/manage/calls", "/manage/calls/{id}", "/manage/calls/{id}/g0", "/manage/calls/{id}/publish", "/manage/calls/{id}/gates", "/manage/calls/{id}/submit-for-approval"} {
		if _, ok := doc["paths"].(map[string]any)[p]; !ok {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

func TestCallDesignBadInputChangesNothing(t *testing.T) {
	env := apptest.New(t)
	mgr, _ := signedIn(t, env, "mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	id := createThroughPages(t, mgr)
	mustRedirect(t, post(t, env, mgr, id, "/sections", url.Values{"id": {"idea"}, "title.en": {"Your idea"}, "title.fr": {"Votre idée"}}), "add section")
	before := designState(t, env)

	with := func(k, v string) url.Values {
		f := basicsForm()
		f.Set(k, v)
		return f
	}
	without := func(k string) url.Values {
		f := basicsForm()
		f.Del(k)
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		input  string // the input that must show the error
		expect string // part of the message
	}{
		{"missing title", with("title.fr", ""), "title.fr", "Title (French) is required"},
		{"missing origin", without("origin"), "origin", "Origin is required"},
		{"unknown scope", with("scope", "galactic"), "scope", "choose one of the options"},
		{"regional without regions", with("scope", "regional"), "regions", "Regions is required"},
		{"unknown language", with("languages", "de"), "languages", "choose one of the options"},
		{"no language", without("languages"), "languages", "required"},
		{"bad opening", with("opens", "next week"), "opens", "give a date and time"},
		{"closes first", with("closes", "2030-02-01T09:00"), "closes", "after the opening time"},
		{"unknown timezone", with("timezone", "Mars/Olympus"), "timezone", "not a known timezone"},
		{"grace not a number", with("grace_minutes", "ten"), "grace_minutes", "whole number"},
		{"grace too long", with("grace_minutes", "100000"), "grace_minutes", "between 0 and 1440"},
		{"unknown currency", with("currency", "BTC"), "currency", "choose one of the options"},
		{"budget not money", with("budget", "12abc"), "budget", "must be an amount"},
		{"budget too precise", with("budget", "12.3456"), "budget", "must be an amount"},
		{"budget missing", with("budget", ""), "budget", "required"},
		{"grant above budget", with("max_grant", "600000"), "max_grant", "cannot be more than the budget"},
		{"unknown country", with("countries", "XX"), "countries", "choose one of the options"},
		{"unknown indicator", with("indicators", "99.9.9"), "indicators", "choose one of the options"},
		{"script-free bidi override", with("title.en", "Green \u202ejobs"), "title.en", "text-direction"},
		{"NUL byte", with("challenge.en", "How\x00 can"), "challenge.en", "control characters"},
		{"invalid UTF-8", with("title.en", "Green \xff jobs"), "title.en", "not valid text"},
		{"donor too long", with("donors", strings.Repeat("d", 201)), "donors", "at most 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.form
			f.Del("facility")
			res := post(t, env, mgr, id, "/basics", f)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", res.StatusCode)
			}
			if !strings.Contains(res.Body, `id="e-f-basics-`+tc.input+`"`) && !strings.Contains(res.Body, `id="f-basics-`+tc.input+`"`) {
				t.Errorf("no input %s on the refilled form", tc.input)
			}
			if !strings.Contains(res.Body, tc.expect) {
				t.Errorf("no message %q in %s", tc.expect, apptest.FirstError(res.Body))
			}
			// What was typed is shown again.
			if !strings.Contains(res.Body, "Comment créer des emplois verts décents") {
				t.Error("the submitted values were not kept")
			}
			if designState(t, env) != before {
				t.Fatal("a refused form changed the call")
			}
		})
	}

	// Builder forms: each error lands next to its input, and nothing changes.
	for _, tc := range []struct {
		name, path string
		form       url.Values
		input      string
		expect     string
	}{
		{"question id", "/sections/idea/questions", url.Values{"id": {"Bad Id"}, "kind": {"short_text"}, "label.en": {"x"}, "label.fr": {"x"}}, "id", "lower-case letters"},
		{"question kind", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"essay"}, "label.en": {"x"}, "label.fr": {"x"}}, "kind", "choose one of the options"},
		{"question label in French", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"short_text"}, "label.en": {"x"}}, "label.fr", "Question text (French) is required"},
		{"question max words", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"long_text"}, "label.en": {"x"}, "label.fr": {"x"}, "max_words": {"lots"}}, "max_words", "whole number"},
		{"question min", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"number"}, "label.en": {"x"}, "label.fr": {"x"}, "min": {"five"}}, "min", "must be a number"},
		{"question min above max", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"number"}, "label.en": {"x"}, "label.fr": {"x"}, "min": {"9"}, "max": {"2"}}, "min", "above the maximum"},
		{"choices format", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"single_choice"}, "label.en": {"x"}, "label.fr": {"x"}, "choices": {"a | A\nb | B | B"}}, "choices", "line 1 must have 3 parts"},
		{"too few choices", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"single_choice"}, "label.en": {"x"}, "label.fr": {"x"}, "choices": {"a | A | A"}}, "choices", "at least two choices"},
		{"file types", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"file"}, "label.en": {"x"}, "label.fr": {"x"}, "file_types": {"exe"}, "max_file_mb": {"10"}}, "file_types", "choose one of the options"},
		{"file size", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"file"}, "label.en": {"x"}, "label.fr": {"x"}, "file_types": {"pdf"}, "max_file_mb": {"500"}}, "max_file_mb", "between 1 and 50"},
		{"condition on unknown question", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"short_text"}, "label.en": {"x"}, "label.fr": {"x"}, "visible_if": {"nowhere"}, "visible_values": {"yes"}}, "visible_if", "earlier yes/no"},
		{"hostile help", "/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"short_text"}, "label.en": {"x"}, "label.fr": {"x"}, "help.en": {"a\u2066b"}}, "help.en", "text-direction"},
		{"section id taken", "/sections", url.Values{"id": {"idea"}, "title.en": {"x"}, "title.fr": {"x"}}, "id", "lower-case letters"},
		{"rule without values", "/rules", url.Values{"kind": {"country"}}, "values", "required"},
		{"rule unknown region", "/rules", url.Values{"kind": {"region"}, "values": {"atlantis"}}, "values", "choose one of the options"},
		{"rule age", "/rules", url.Values{"kind": {"organisation_age"}, "min_years": {"0"}}, "min_years", "between 1 and 100"},
		{"criterion weight", "/criteria", url.Values{"id": {"impact"}, "name.en": {"x"}, "name.fr": {"x"}, "weight": {"heavy"}, "scale_min": {"0"}, "scale_max": {"5"}, "step": {"1"}}, "weight", "must be a number"},
		{"criterion scale", "/criteria", url.Values{"id": {"impact"}, "name.en": {"x"}, "name.fr": {"x"}, "weight": {"1"}, "scale_min": {"5"}, "scale_max": {"1"}, "step": {"1"}}, "scale_max", "highest score"},
		{"criterion threshold", "/criteria", url.Values{"id": {"impact"}, "name.en": {"x"}, "name.fr": {"x"}, "weight": {"1"}, "scale_min": {"0"}, "scale_max": {"5"}, "step": {"1"}, "threshold": {"9"}}, "threshold", "between 0 and 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(t, env, mgr, id, tc.path, tc.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", res.StatusCode)
			}
			if !regexp.MustCompile(`id="e-f-[a-z_-]+-` + regexp.QuoteMeta(tc.input) + `"`).MatchString(res.Body) {
				t.Errorf("no error next to input %s: %s", tc.input, apptest.FirstError(res.Body))
			}
			if !strings.Contains(res.Body, tc.expect) {
				t.Errorf("no message %q: %s", tc.expect, apptest.FirstError(res.Body))
			}
			if designState(t, env) != before {
				t.Fatal("a refused form changed the call")
			}
		})
	}

	// Script tags are text: stored as given, shown escaped.
	f := basicsForm()
	f.Del("facility")
	f.Set("title.en", `<script>alert("x")</script> Green jobs`)
	mustRedirect(t, post(t, env, mgr, id, "/basics", f), "save a title with a script tag")
	if got := getCall(t, env, id).Title.V["en"]; got != `<script>alert("x")</script> Green jobs` {
		t.Fatalf("stored title %q", got)
	}
	page := mgr.Get("/manage/calls/" + id)
	if strings.Contains(page.Body, `<script>alert`) || !strings.Contains(page.Body, `&lt;script&gt;alert`) {
		t.Error("the title is not escaped on the design page")
	}
	list := mgr.Get("/manage/calls")
	if strings.Contains(list.Body, `<script>alert`) {
		t.Error("the title is not escaped on the list")
	}

	// A 10 MB title is refused before it is read.
	f.Set("title.en", strings.Repeat("a", 10<<20))
	before = designState(t, env)
	if res := post(t, env, mgr, id, "/basics", f); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("10 MB title: status %d", res.StatusCode)
	}
	if designState(t, env) != before {
		t.Fatal("a refused title changed the call")
	}
}

func TestCallDesignAPIBadInputChangesNothing(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("api-mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	c := bearer(t, env, u.ID)
	in := apptest.CallInput(24*60*60*1e9, 30*24*60*60*1e9)
	var created struct {
		Call calls.Call `json:"call"`
	}
	if res := c.JSON(http.MethodPost, "/api/v1/manage/calls", in, &created); res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	path := "/api/v1/manage/calls/" + created.Call.ID
	before := designState(t, env)
	put := func(body string) *apptest.Response {
		return c.Do(http.MethodPut, path, strings.NewReader(body), "application/json")
	}
	valid := func(change func(m map[string]any)) string {
		b, _ := json.Marshal(in)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		change(m)
		out, _ := json.Marshal(map[string]any{"version": created.Call.Version, "call": m})
		return string(out)
	}
	for _, tc := range []struct {
		name, body, field string
		status            int
	}{
		{"not JSON", "{", "body", 422},
		{"unknown field", `{"version":1,"call":{},"extra":true}`, "extra", 422},
		{"wrong type", valid(func(m map[string]any) { m["budget_minor"] = "lots" }), "call_budget_minor", 422},
		{"missing title", valid(func(m map[string]any) { m["title"] = map[string]string{"en": "only English"} }), "title.fr", 422},
		{"title in a language not of the call", valid(func(m map[string]any) { m["title"] = map[string]string{"en": "a", "fr": "b", "de": "c"} }), "title", 422},
		{"RTL override", valid(func(m map[string]any) { m["challenge"] = map[string]string{"en": "a\u202eb", "fr": "b"} }), "challenge.en", 422},
		{"NUL", valid(func(m map[string]any) { m["title"] = map[string]string{"en": "a\u0000b", "fr": "b"} }), "title.en", 422},
		{"invalid UTF-8", strings.Replace(valid(func(m map[string]any) {}), "Green jobs", "Green \xff jobs", 1), "body", 422},
		{"bad question", valid(func(m map[string]any) {
			m["form"] = map[string]any{"sections": []any{map[string]any{"id": "s", "round": 1, "title": map[string]string{"en": "a", "fr": "b"},
				"questions": []any{map[string]any{"id": "q", "kind": "yes_no", "label": map[string]string{"en": "a"}}}}}}
		}), "form.sections.0.questions.0.label.fr", 422},
		{"facility changed", valid(func(m map[string]any) { m["facility"] = "skills_lifelong_learning" }), "facility", 422},
		{"10 MB title", valid(func(m map[string]any) { m["title"] = map[string]string{"en": strings.Repeat("a", 10<<20), "fr": "b"} }), "", 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := put(tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d: %s", res.StatusCode, res.Body)
			}
			if tc.field != "" && !strings.Contains(res.Body, `"field":"`+tc.field+`"`) {
				t.Errorf("no error for %s: %s", tc.field, res.Body)
			}
			if designState(t, env) != before {
				t.Fatal("a refused request changed the call")
			}
		})
	}
	// Messages name the place in the design in words.
	res := put(valid(func(m map[string]any) {
		m["form"] = map[string]any{"sections": []any{map[string]any{"id": "s", "round": 1, "title": map[string]string{"en": "a", "fr": "b"},
			"questions": []any{map[string]any{"id": "q", "kind": "yes_no", "label": map[string]string{"en": "a"}}}}}}
	}))
	if !strings.Contains(res.Body, "Section 1 (s) › Question 1 (q) › Question text (French) is required") {
		t.Errorf("message: %s", res.Body)
	}
}

func TestCallDesignConflictLosesNothing(t *testing.T) {
	env := apptest.New(t)
	a, _ := signedIn(t, env, "ana@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	b, _ := signedIn(t, env, "ben@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	id := createThroughPages(t, a)
	stale := strconv.Itoa(getCall(t, env, id).Version)
	// Ana adds a section; Ben, on the page he opened before, adds another.
	mustRedirect(t, a.PostForm("/manage/calls/"+id+"/sections", url.Values{"version": {stale}, "id": {"idea"}, "title.en": {"Idea"}, "title.fr": {"Idée"}}), "first editor")
	before := designState(t, env)
	res := b.PostForm("/manage/calls/"+id+"/sections", url.Values{"version": {stale}, "id": {"team"}, "title.en": {"Team of Ben"}, "title.fr": {"Équipe"}})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("second editor: status %d", res.StatusCode)
	}
	if !strings.Contains(res.Body, "Someone else changed this call") || !strings.Contains(res.Body, `value="Team of Ben"`) {
		t.Error("the conflict is not explained, or what Ben typed is lost")
	}
	if designState(t, env) != before {
		t.Fatal("the stale write changed the call")
	}
	if s := getCall(t, env, id).Form.V.Sections; len(s) != 1 || s[0].ID != "idea" {
		t.Fatalf("sections %+v", s)
	}
	// The page shows the call as it is now, so sending again works.
	cur := strconv.Itoa(getCall(t, env, id).Version)
	if !strings.Contains(res.Body, `name="version" value="`+cur+`"`) {
		t.Error("the page does not carry the current version")
	}
	mustRedirect(t, b.PostForm("/manage/calls/"+id+"/sections", url.Values{"version": {cur}, "id": {"team"}, "title.en": {"Team of Ben"}, "title.fr": {"Équipe"}}), "send again")
	// The same holds on the question page.
	qres := a.PostForm("/manage/calls/"+id+"/sections/idea/questions", url.Values{"version": {stale}, "id": {"pilot"}, "kind": {"yes_no"},
		"label.en": {"Piloted by Ana?"}, "label.fr": {"Testée ?"}})
	if qres.StatusCode != http.StatusConflict || !strings.Contains(qres.Body, `value="Piloted by Ana?"`) {
		t.Fatalf("stale question: status %d", qres.StatusCode)
	}
}

func TestCallDesignIsolation(t *testing.T) {
	env := apptest.New(t)
	mgr, _ := signedIn(t, env, "mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	other, otherUser := signedIn(t, env, "other@example.org", authz.RoleManager, authz.FacilityDomain("skills_lifelong_learning"))
	eval, evalUser := signedIn(t, env, "eval@example.org", authz.RoleEvaluator, authz.FacilityDomain(designFacility))
	applicant, applicantUser := signedIn(t, env, "app@example.org", "", "")
	id := createThroughPages(t, mgr)
	mustRedirect(t, post(t, env, mgr, id, "/sections", url.Values{"id": {"idea"}, "title.en": {"Idea"}, "title.fr": {"Idée"}}), "section")
	version := strconv.Itoa(getCall(t, env, id).Version)
	before := designState(t, env)

	writes := []struct {
		path string
		form url.Values
	}{
		{"/basics", basicsForm()},
		{"/sections", url.Values{"id": {"x"}, "title.en": {"x"}, "title.fr": {"x"}}},
		{"/sections/idea/delete", url.Values{}},
		{"/sections/idea/questions", url.Values{"id": {"q"}, "kind": {"yes_no"}, "label.en": {"x"}, "label.fr": {"x"}}},
		{"/rules", url.Values{"kind": {"amount"}}},
		{"/criteria", url.Values{"id": {"c"}, "name.en": {"x"}, "name.fr": {"x"}, "weight": {"1"}, "scale_min": {"0"}, "scale_max": {"5"}, "step": {"1"}}},
		{"/submit", url.Values{}},
		{"/g0", url.Values{"decision": {"approve"}}},
		{"/publish", url.Values{}},
	}
	for _, who := range []struct {
		name   string
		c      *apptest.Client
		userID string
		status int
		list   int
	}{
		{"manager of another facility", other, otherUser.ID, http.StatusNotFound, http.StatusOK},
		{"evaluator of the facility", eval, evalUser.ID, http.StatusForbidden, http.StatusForbidden},
		{"applicant", applicant, applicantUser.ID, http.StatusNotFound, http.StatusForbidden},
	} {
		for _, p := range []string{"", "/preview", "/questions/idea"} {
			if res := who.c.Get("/manage/calls/" + id + p); res.StatusCode != who.status {
				t.Errorf("%s: GET %s: status %d", who.name, p, res.StatusCode)
			}
		}
		for _, w := range writes {
			f := url.Values{}
			for k, v := range w.form {
				f[k] = v
			}
			f.Set("version", version)
			if res := who.c.PostForm("/manage/calls/"+id+w.path, f); res.StatusCode != who.status {
				t.Errorf("%s: POST %s: status %d", who.name, w.path, res.StatusCode)
			}
		}
		// The list shows only the facilities one manages; people who manage
		// none are refused it.
		if res := who.c.Get("/manage/calls"); strings.Contains(res.Body, "Green jobs") || res.StatusCode != who.list {
			t.Errorf("%s: list: status %d", who.name, res.StatusCode)
		}
		api := bearer(t, env, who.userID)
		for _, r := range []struct{ method, path string }{{"GET", ""}, {"PUT", ""}, {"POST", "/submit-for-approval"}, {"POST", "/g0"}, {"POST", "/publish"}} {
			var body any
			if r.method != "GET" {
				body = map[string]any{"version": 1, "decision": "approve"}
			}
			if res := api.JSON(r.method, "/api/v1/manage/calls/"+id+r.path, body, nil); res.StatusCode != who.status {
				t.Errorf("%s: %s %s: status %d", who.name, r.method, r.path, res.StatusCode)
			}
		}
		if designState(t, env) != before {
			t.Fatalf("%s changed the call", who.name)
		}
		var denials int64
		env.DB.Gorm.Raw("SELECT count(*) FROM audit_log WHERE action = 'authz.deny' AND actor_id = ?", who.userID).Scan(&denials)
		if denials == 0 {
			t.Errorf("%s: refusals not audited", who.name)
		}
	}
	// A manager may not create a call in a facility they do not manage.
	f := basicsForm()
	f.Set("facility", "skills_lifelong_learning")
	if res := mgr.PostForm("/manage/calls/new", f); res.StatusCode != http.StatusForbidden {
		t.Errorf("create in another facility: status %d", res.StatusCode)
	}
	if designState(t, env) != before {
		t.Fatal("refused creation changed something")
	}
}

func TestGateDecisionsAreAppendOnly(t *testing.T) {
	env := apptest.New(t)
	call, _ := env.PublishedCall(apptest.CallInput(24*60*60*1e9, 30*24*60*60*1e9))
	var n int64
	env.DB.Gorm.Raw("SELECT count(*) FROM gate_decisions WHERE subject_id = ?", call.ID).Scan(&n)
	if n != 1 {
		t.Fatalf("%d decisions", n)
	}
	if err := env.DB.Gorm.Exec("UPDATE gate_decisions SET decision = 'cancel', reason = 'rewritten' WHERE subject_id = ?", call.ID).Error; err == nil {
		t.Error("a gate decision was updated")
	}
	if err := env.DB.Gorm.Exec("DELETE FROM gate_decisions WHERE subject_id = ?", call.ID).Error; err == nil {
		t.Error("a gate decision was deleted")
	}
	var d struct{ Decision, Reason string }
	env.DB.Gorm.Raw("SELECT decision, reason FROM gate_decisions WHERE subject_id = ?", call.ID).Scan(&d)
	if d.Decision != "approve" || d.Reason != "ready" {
		t.Fatalf("decision now %+v", d)
	}
}

func TestCallBuilderEdits(t *testing.T) {
	env := apptest.New(t)
	mgr, _ := signedIn(t, env, "mgr@example.org", authz.RoleManager, authz.FacilityDomain(designFacility))
	admin, _ := signedIn(t, env, "admin@example.org", authz.RoleAdmin, authz.KindSystem)
	id := createThroughPages(t, mgr)
	mustRedirect(t, post(t, env, mgr, id, "/sections", url.Values{"id": {"idea"}, "title.en": {"Idea"}, "title.fr": {"Idée"}}), "section")
	mustRedirect(t, post(t, env, mgr, id, "/sections", url.Values{"id": {"team"}, "title.en": {"Team"}, "title.fr": {"Équipe"}}), "section")
	mustRedirect(t, post(t, env, mgr, id, "/sections/idea/questions", url.Values{"id": {"pilot"}, "kind": {"yes_no"}, "label.en": {"Piloted?"}, "label.fr": {"Testée ?"}}), "q")
	mustRedirect(t, post(t, env, mgr, id, "/sections/idea/questions", url.Values{"id": {"sector"}, "kind": {"single_choice"}, "label.en": {"Sector"}, "label.fr": {"Secteur"},
		"choices": {"agri | Agriculture | Agriculture\r\nretail | Retail | Commerce\r\n"}, "visible_if": {"pilot"}, "visible_values": {"yes"}}), "choice q")
	mustRedirect(t, post(t, env, mgr, id, "/rules", url.Values{"kind": {"yes_no"}, "question": {"pilot"}, "expect": {"yes"}}), "rule")
	mustRedirect(t, post(t, env, mgr, id, "/rules", url.Values{"kind": {"country"}, "values": {"GH", "SN"}}), "rule")

	// The edit page shows the stored question, choices in the builder's format.
	page := mgr.Get("/manage/calls/" + id + "/questions/sector")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "agri | Agriculture | Agriculture") || !strings.Contains(page.Body, `<option value="pilot" selected>`) {
		t.Fatalf("edit page: %d", page.StatusCode)
	}
	// Renaming a question carries its conditions and rules along.
	mustRedirect(t, post(t, env, mgr, id, "/questions/pilot", url.Values{"id": {"piloted"}, "kind": {"yes_no"}, "label.en": {"Piloted?"}, "label.fr": {"Testée ?"}, "required": {"on"}}), "rename")
	call := getCall(t, env, id)
	q, _ := call.Form.V.Question("sector")
	if q.VisibleIf == nil || q.VisibleIf.Question != "piloted" || call.Eligibility.V[0].Question != "piloted" || len(q.Choices) != 2 || q.Choices[1].Label["fr"] != "Commerce" {
		t.Fatalf("after rename: %+v %+v", q, call.Eligibility.V)
	}
	// Moving the conditional question above the one it depends on is refused.
	if res := post(t, env, mgr, id, "/questions/sector/move", url.Values{"direction": {"up"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "choose an earlier yes/no or choice question") {
		t.Fatalf("move above its condition: %d", res.StatusCode)
	}
	// Down past the end of its section, it opens the next one.
	mustRedirect(t, post(t, env, mgr, id, "/questions/sector/move", url.Values{"direction": {"down"}}), "move down")
	if s := getCall(t, env, id).Form.V.Sections; len(s[0].Questions) != 1 || s[1].Questions[0].ID != "sector" {
		t.Fatalf("sections after move: %+v", s)
	}
	// Nor may a section holding it move above the question.
	if res := post(t, env, mgr, id, "/sections/team/move", url.Values{"direction": {"up"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "Section 1 (team) › Question 1 (sector) › Show only for some answers") {
		t.Fatalf("move a section above a condition: %d", res.StatusCode)
	}
	// Deleting a question another depends on is refused with the reason.
	if res := post(t, env, mgr, id, "/questions/piloted/delete", url.Values{}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("delete a condition's question: %d", res.StatusCode)
	}
	mustRedirect(t, post(t, env, mgr, id, "/rules/0/delete", url.Values{}), "delete rule")
	mustRedirect(t, post(t, env, mgr, id, "/questions/sector/delete", url.Values{}), "delete conditional")
	mustRedirect(t, post(t, env, mgr, id, "/sections/team/move", url.Values{"direction": {"up"}}), "move section")
	if s := getCall(t, env, id).Form.V.Sections; s[0].ID != "team" {
		t.Fatalf("section order: %s %s", s[0].ID, s[1].ID)
	}
	mustRedirect(t, post(t, env, mgr, id, "/questions/piloted/delete", url.Values{}), "delete question")
	mustRedirect(t, post(t, env, mgr, id, "/sections/team/delete", url.Values{}), "delete section")
	call = getCall(t, env, id)
	if len(call.Form.V.Sections) != 1 || len(call.Form.V.Questions()) != 0 || len(call.Eligibility.V) != 1 || call.Eligibility.V[0].Kind != "country" {
		t.Fatalf("after deletions: %+v %+v", call.Form.V, call.Eligibility.V)
	}
	mustRedirect(t, post(t, env, mgr, id, "/sections/idea", url.Values{"id": {"idea"}, "title.en": {"The idea"}, "title.fr": {"L'idée"}}), "edit section")
	mustRedirect(t, post(t, env, mgr, id, "/criteria", url.Values{"id": {"impact"}, "name.en": {"Impact"}, "name.fr": {"Impact"}, "weight": {"2"}, "scale_min": {"0"}, "scale_max": {"10"}, "step": {"1"}}), "criterion")
	mustRedirect(t, post(t, env, mgr, id, "/criteria/impact", url.Values{"id": {"impact"}, "name.en": {"Impact on jobs"}, "name.fr": {"Impact sur l'emploi"}, "weight": {"3,5"}, "scale_min": {"0"}, "scale_max": {"10"}, "step": {"0.5"}, "threshold": {"6"}}), "edit criterion")
	call = getCall(t, env, id)
	if call.Form.V.Sections[0].Title["fr"] != "L'idée" || call.Criteria.V[0].Weight != 3.5 || call.Criteria.V[0].Name["en"] != "Impact on jobs" {
		t.Fatalf("after edits: %+v %+v", call.Form.V.Sections[0], call.Criteria.V)
	}
	mustRedirect(t, post(t, env, mgr, id, "/criteria/impact/delete", url.Values{}), "delete criterion")
	if len(getCall(t, env, id).Criteria.V) != 0 {
		t.Fatal("criterion not deleted")
	}
	// Unknown parts of the design are not found.
	for _, p := range []string{"/questions/nothing/delete", "/sections/nothing/questions", "/criteria/nothing", "/rules/7/delete"} {
		if res := post(t, env, mgr, id, p, url.Values{}); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d", p, res.StatusCode)
		}
	}
	// Administrators reach every facility's calls through their grant.
	if res := admin.Get("/manage/calls"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "/manage/calls/"+id) {
		t.Errorf("admin list: %d", res.StatusCode)
	}
	if res := admin.Get("/manage/calls/" + id); res.StatusCode != http.StatusOK {
		t.Errorf("admin design page: %d", res.StatusCode)
	}
}
