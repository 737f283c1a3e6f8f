package web_test

import (
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
