package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"facility/internal/accounts"
	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
)

// publicInput is a small call in the given languages, open from an hour
// ago for two days, with every text in every language.
func publicInput(title string, langs ...string) calls.Input {
	text := func(s string) calls.Text {
		t := calls.Text{}
		for _, l := range langs {
			t[l] = s + " (" + l + ")"
		}
		return t
	}
	in := apptest.CallInput(-time.Hour, 48*time.Hour)
	in.Languages = langs
	in.Title, in.Challenge = text(title), text("What would you change?")
	in.Form = calls.Form{Sections: []calls.Section{{ID: "idea", Round: 1, Title: text("Idea"), Questions: []calls.Question{
		{ID: "summary", Kind: calls.KindLongText, Label: text("Summary"), Required: true}}}}}
	in.Eligibility = nil
	in.Criteria = []calls.Criterion{{ID: "impact", Name: text("Impact"), Weight: 1, ScaleMin: 0, ScaleMax: 5, Step: 1}}
	return in
}

// callInState creates a call and takes it to status (draft, in_review,
// approved or cancelled) as a manager of its facility.
func callInState(t *testing.T, env *apptest.Env, in calls.Input, status string) *calls.Call {
	t.Helper()
	ctx := context.Background()
	mgr, _ := env.User(fmt.Sprintf("mgr-%s-%d@example.org", status, time.Now().UnixNano()), authz.RoleManager, authz.FacilityDomain(in.FacilityCode))
	a := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "test"}
	c, err := env.Calls.Create(ctx, a, in)
	if err != nil {
		t.Fatalf("create call: %v", err)
	}
	if status != calls.StatusDraft {
		if err := env.Calls.SubmitForApproval(ctx, a, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	switch status {
	case calls.StatusApproved:
		err = env.Calls.DecideG0(ctx, a, c.ID, "approve", "")
	case calls.StatusCancelled:
		err = env.Calls.DecideG0(ctx, a, c.ID, "cancel", "No budget this year")
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err = env.Calls.Get(ctx, c.ID)
	if err != nil || c.Status != status {
		t.Fatalf("call is %v (%v), want %s", c, err, status)
	}
	return c
}

type feedItem struct {
	ID                string            `json:"id"`
	Reference         string            `json:"reference"`
	Title             map[string]string `json:"title"`
	Status            string            `json:"status"`
	OpensAt           string            `json:"opens_at"`
	ClosesAt          string            `json:"closes_at"`
	DeadlineWithGrace string            `json:"deadline_with_grace"`
	Timezone          string            `json:"timezone"`
	Countries         []string          `json:"countries"`
	Budget            struct {
		AmountMinor int64  `json:"amount_minor"`
		Currency    string `json:"currency"`
	} `json:"budget"`
	URL string `json:"url"`
}

// feedIDs reads a public list (feed or API) and returns its call ids.
func feedIDs(t *testing.T, c *apptest.Client, path string) []string {
	t.Helper()
	var out struct {
		Calls []feedItem `json:"calls"`
	}
	res := c.JSON(http.MethodGet, path, nil, &out)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Body)
	}
	ids := []string{}
	for _, it := range out.Calls {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestPublicCallsListAndFilters(t *testing.T) {
	env := apptest.New(t)
	global, _ := env.PublishedCall(publicInput("Global green jobs", "en", "fr"))
	ghanaIn := publicInput("Apprenticeships in Ghana", "en", "es")
	ghanaIn.Scope, ghanaIn.Countries, ghanaIn.FacilityCode = "national", []string{"GH"}, "skills_lifelong_learning"
	ghanaIn.OrgTypes = []string{"cooperative", "workers_org_trade_union"}
	ghana, _ := env.PublishedCall(ghanaIn)
	french, _ := env.PublishedCall(publicInput("Emplois décents au Sahel", "fr"))
	upcomingIn := publicInput("Platform work next year", "en")
	upcomingIn.Opens = time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02T15:04")
	upcomingIn.Closes = time.Now().UTC().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04")
	upcoming, _ := env.PublishedCall(upcomingIn)
	closedIn := publicInput("Finished call", "en")
	closedIn.Opens = time.Now().UTC().Add(-72 * time.Hour).Format("2006-01-02T15:04")
	closedIn.Closes = time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")
	closed, _ := env.PublishedCall(closedIn)

	anon := env.Client()
	res := anon.Get("/calls")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /calls: %d", res.StatusCode)
	}
	for _, want := range []string{"Global green jobs (en)", "Apprenticeships in Ghana (en)", "Platform work next year (en)",
		// A French-only call keeps its French title for an English reader.
		"Emplois décents au Sahel (fr)", `lang="fr"`,
		"Opening soon", "USD 500,000.00", "Ghana", "Skills and lifelong learning", "National", "Français"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the list does not show %q", want)
		}
	}
	if strings.Contains(res.Body, "Finished call") {
		t.Error("a call past its deadline is listed")
	}
	// The filters are plain selects filled from the reference tables.
	for _, want := range []string{`<select id="f-country" name="country"`, `<option value="GH" >Ghana</option>`,
		`<option value="africa" >Africa</option>`, `<option value="cooperative" >Cooperative</option>`, `<option value="es" >Español</option>`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the filter form lacks %s", want)
		}
	}

	all := []string{global.ID, ghana.ID, french.ID, upcoming.ID}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", all},
		{"country=GH", []string{global.ID, ghana.ID, french.ID, upcoming.ID}},
		{"country=PE", []string{global.ID, french.ID, upcoming.ID}},
		{"region=africa", all},
		{"region=americas", []string{global.ID, french.ID, upcoming.ID}},
		{"language=es", []string{ghana.ID}},
		{"language=fr", []string{global.ID, french.ID}},
		{"facility=skills_lifelong_learning", []string{ghana.ID}},
		// Calls naming no organisation types are open to every type.
		{"organisation_type=startup", []string{global.ID, french.ID, upcoming.ID}},
		{"organisation_type=cooperative&country=GH&language=en", []string{global.ID, ghana.ID, upcoming.ID}},
	} {
		for _, path := range []string{"/calls.json", "/api/v1/public/calls"} {
			got := feedIDs(t, anon, path+"?"+tc.query)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s?%s lists %v, want %v", path, tc.query, got, want)
			}
		}
	}
	// The page applies the same filters, and keeps them selected.
	res = anon.Get("/calls?country=PE")
	if strings.Contains(res.Body, "Apprenticeships in Ghana") || !strings.Contains(res.Body, "Global green jobs") {
		t.Error("the page's country filter does not hide the national call for Ghana")
	}
	if !strings.Contains(res.Body, `<option value="PE" selected>`) {
		t.Error("the chosen country is not kept selected")
	}
	if !strings.Contains(res.Body, `href="/calls.ics?country=PE"`) {
		t.Error("the calendar link does not keep the filters")
	}
	res = anon.Get("/calls?language=es")
	if strings.Contains(res.Body, "Emplois décents au Sahel") || !strings.Contains(res.Body, "Apprenticeships in Ghana") {
		t.Error("the language filter does not hide the French-only call from a Spanish filter")
	}

	// A value that is not offered is a field error, never a 500.
	res = anon.Get("/calls?country=XX&region=%3Cscript%3E")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-country"`) || !strings.Contains(res.Body, `id="e-region"`) {
		t.Errorf("bad filters: %d, field errors missing", res.StatusCode)
	}
	if strings.Contains(res.Body, "<script>") {
		t.Error("a filter value is echoed unescaped")
	}
	for _, path := range []string{"/calls.json?country=XX", "/api/v1/public/calls?language=de"} {
		var e struct {
			Error struct {
				Code   string `json:"code"`
				Fields []struct{ Field, Code, Message string }
			} `json:"error"`
		}
		res := anon.JSON(http.MethodGet, path, nil, &e)
		if res.StatusCode != http.StatusUnprocessableEntity || len(e.Error.Fields) != 1 || e.Error.Fields[0].Code != "not_allowed" || e.Error.Fields[0].Message == "" {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, res.Body)
		}
	}
	// The closed call still has its page, saying it is closed, without a start button.
	res = anon.Get("/calls/" + closed.ID)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "This call has closed") || strings.Contains(res.Body, "/proposals") {
		t.Errorf("closed call page: %d", res.StatusCode)
	}
}

func TestUnpublishedCallsAreNeverPublic(t *testing.T) {
	env := apptest.New(t)
	published, _ := env.PublishedCall(publicInput("Published call", "en"))
	hidden := map[string]*calls.Call{}
	for _, st := range []string{calls.StatusDraft, calls.StatusInReview, calls.StatusApproved, calls.StatusCancelled} {
		hidden[st] = callInState(t, env, publicInput("Secret "+st+" call", "en"), st)
	}
	// Signed in as an applicant changes nothing.
	applicant, _ := env.User("reader@example.org", "", "")
	for name, c := range map[string]*apptest.Client{"anonymous": env.Client(), "applicant": env.Client()} {
		if name == "applicant" {
			c.SignIn(applicant.Email, "")
		}
		for _, path := range []string{"/calls", "/calls.json", "/calls.ics", "/api/v1/public/calls", "/calls?language=en"} {
			res := c.Get(path)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, published.ID) && !strings.Contains(res.Body, "Published call") {
				t.Errorf("%s %s: %d, published call missing", name, path, res.StatusCode)
			}
			if strings.Contains(res.Body, "Secret") {
				t.Errorf("%s %s shows an unpublished call", name, path)
			}
			for _, h := range hidden {
				if strings.Contains(res.Body, h.ID) {
					t.Errorf("%s %s names the %s call", name, path, h.Status)
				}
			}
		}
		for st, h := range hidden {
			for _, path := range []string{"/calls/" + h.ID, "/calls/" + h.ID + ".ics", "/api/v1/public/calls/" + h.ID} {
				if res := c.Get(path); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "Secret") {
					t.Errorf("%s GET %s (%s): %d", name, path, st, res.StatusCode)
				}
			}
		}
		for _, path := range []string{"/calls/not-a-call", "/calls/" + published.ID + "x.ics", "/api/v1/public/calls/0190a3e0-0000-7000-8000-000000000000"} {
			if res := c.Get(path); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s GET %s: %d, want 404", name, path, res.StatusCode)
			}
		}
	}
	// Asking for an unpublished call is a denial on the record.
	recs, err := audit.List(t.Context(), env.DB.Gorm, audit.Filter{Action: "authz.deny"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Error("requests for unpublished calls were not audited")
	}
}

func TestPublicCallPageInFrenchAndSpanish(t *testing.T) {
	env := apptest.New(t)
	in := apptest.CallInput(-time.Hour, 48*time.Hour)
	in.TwoRound = false
	call, _ := env.PublishedCall(in)

	fr := env.Client()
	fr.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	res := fr.Get("/calls/" + call.ID)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET call page: %d", res.StatusCode)
	}
	for _, want := range []string{
		"Emplois verts pour les petites entreprises",
		"Comment les petites entreprises peuvent-elles créer des emplois verts décents ?",
		"Organisation fondée il y a au moins 2 ans",
		"Le montant demandé est compris entre USD 10,000.00 et USD 100,000.00",
		"Tous les types d&#39;organisation", "Mondiale",
		"USD 500,000.00", "Government of Sweden",
		"Critères d&#39;évaluation", "Faisabilité", "<th scope=\"row\">",
		"8.3.1", "Proportion de l&#39;emploi informel dans l&#39;emploi total",
		"Résultats du test", "Posée seulement si la réponse à « A-t-elle été testée ? » est : Oui",
		"300 mots au maximum", "Types de fichier : pdf ; 10 Mo au maximum",
		"Aucun : l&#39;heure de clôture est la date limite.",
		`data-countdown="`, `src="/static/countdown.js"`,
		`href="/login"`, `href="/register"`, "Pour commencer une proposition, connectez-vous",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the French page lacks %q", want)
		}
	}
	if strings.Contains(res.Body, "Green jobs for small enterprises") {
		t.Error("the French page shows the English title")
	}

	// The call is in English and French: a Spanish reader gets the page in
	// Spanish, the call's texts in its first language, and a notice.
	es := env.Client()
	es.Header.Set("Accept-Language", "es")
	res = es.Get("/calls/" + call.ID)
	for _, want := range []string{
		`<h1 lang="en">Green jobs for small enterprises</h1>`,
		"Esta convocatoria se publica en: English, Français",
		"Organización fundada hace al menos 2 años",
		"Criterios de evaluación", "Se pregunta solo si la respuesta a «Has it been piloted?» es: Sí",
		"Proporción del empleo informal con respecto al empleo total",
		"Comenzar una propuesta",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the Spanish page lacks %q", want)
		}
	}

	// Signed in, the page offers the start button: a form POST with the CSRF field.
	applicant, _ := env.Applicant("amina@example.org", "Cooperative of Thiès")
	c := env.Client()
	c.SignIn(applicant.Email, "")
	res = c.Get("/calls/" + call.ID)
	if !strings.Contains(res.Body, `<form method="post" action="/calls/`+call.ID+`/proposals">`) ||
		!strings.Contains(res.Body, `name="csrf" value="`) || strings.Contains(res.Body, "Pour commencer") {
		t.Error("a signed-in applicant is not offered the start button")
	}
}

func TestPublicDeadlineInReaderTimezoneAndUTC(t *testing.T) {
	env := apptest.New(t)
	in := publicInput("Care economy", "en")
	in.Timezone = "America/Lima"
	in.Opens = time.Now().In(time.FixedZone("PE", -5*3600)).Add(-time.Hour).Format("2006-01-02T15:04")
	in.Closes, in.GraceMinutes = "2031-03-15T17:00", 30
	call, _ := env.PublishedCall(in)

	u, _ := env.User("kenji@example.org", "", "")
	if err := env.Accounts.UpdateProfile(t.Context(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"},
		accounts.ProfileInput{Name: u.Name, Locale: "en", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	c.SignIn(u.Email, "")
	for _, path := range []string{"/calls", "/calls/" + call.ID} {
		res := c.Get(path)
		for _, want := range []string{"2031-03-16 07:00 JST (Asia/Tokyo)", "2031-03-15 22:00 UTC", `datetime="2031-03-15T22:00:00Z"`} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
	res := c.Get("/calls/" + call.ID)
	for _, want := range []string{"2031-03-15 17:00 -05", "30 minutes after the closing time", "until 2031-03-15 22:30 UTC"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the call page lacks %q", want)
		}
	}
	// Anonymous readers get UTC and the call's time; the script adds the browser's.
	res = env.Client().Get("/calls/" + call.ID)
	if strings.Contains(res.Body, "JST") || !strings.Contains(res.Body, "2031-03-15 22:00 UTC") || !strings.Contains(res.Body, `data-local-time="2031-03-15T22:00:00Z"`) {
		t.Error("the anonymous page does not show the deadline in UTC with the local-time hook")
	}

	var detail struct {
		feedItem
		MinGrant struct {
			Formatted string `json:"formatted"`
		} `json:"min_grant"`
		Criteria []calls.Criterion `json:"criteria"`
	}
	res = env.Client().JSON(http.MethodGet, "/api/v1/public/calls/"+call.ID, nil, &detail)
	if res.StatusCode != http.StatusOK || detail.ClosesAt != "2031-03-15T22:00:00Z" || detail.DeadlineWithGrace != "2031-03-15T22:30:00Z" ||
		detail.Timezone != "America/Lima" || detail.Budget.AmountMinor != 50_000_000 || detail.Budget.Currency != "USD" ||
		detail.MinGrant.Formatted != "USD 10,000.00" || len(detail.Criteria) != 1 || detail.URL != "http://facility.test/calls/"+call.ID {
		t.Errorf("API call detail: %d %+v", res.StatusCode, detail)
	}
	if strings.Contains(res.Body, "created_by") || strings.Contains(res.Body, `"version"`) {
		t.Error("the public API shows internal fields")
	}
}

// icsEvent is a parsed VEVENT: property name -> unescaped value.
type icsEvent map[string]string

// parseICS is a strict RFC 5545 reader for what the tests need: every line
// ends in CRLF and is at most 75 octets, folded lines are joined, each
// content line is NAME[;params]:value, components nest properly, and TEXT
// values use only the escapes the standard allows.
func parseICS(t *testing.T, body string) (cal map[string]string, events []icsEvent) {
	t.Helper()
	if !strings.HasSuffix(body, "\r\n") {
		t.Fatal("the calendar does not end with CRLF")
	}
	var lines []string
	for i, raw := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if len(raw) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(raw), raw)
		}
		if !utf8.ValidString(raw) {
			t.Errorf("line %d splits a character: %q", i+1, raw)
		}
		if strings.ContainsAny(raw, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, raw)
		}
		if strings.HasPrefix(raw, " ") || strings.HasPrefix(raw, "\t") {
			if len(lines) == 0 {
				t.Fatal("the calendar starts with a continuation line")
			}
			lines[len(lines)-1] += raw[1:]
			continue
		}
		lines = append(lines, raw)
	}
	unescape := func(v string) string {
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] != '\\' {
				if v[i] == ';' || v[i] == ',' {
					t.Errorf("unescaped %q in a TEXT value %q", v[i], v)
				}
				b.WriteByte(v[i])
				continue
			}
			i++
			if i == len(v) {
				t.Fatalf("dangling backslash in %q", v)
			}
			switch v[i] {
			case '\\', ';', ',':
				b.WriteByte(v[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				t.Fatalf("invalid escape \\%c in %q", v[i], v)
			}
		}
		return b.String()
	}
	cal = map[string]string{}
	var stack []string
	var cur icsEvent
	for _, l := range lines {
		nameParams, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("not a content line: %q", l)
		}
		name, _, _ := strings.Cut(nameParams, ";")
		for _, r := range name {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				t.Fatalf("bad property name in %q", l)
			}
		}
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			if value == "VEVENT" {
				if len(stack) != 2 || stack[0] != "VCALENDAR" {
					t.Fatalf("VEVENT outside VCALENDAR: %v", stack)
				}
				cur = icsEvent{}
			}
			continue
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				t.Fatalf("END:%s does not close %v", value, stack)
			}
			stack = stack[:len(stack)-1]
			if value == "VEVENT" {
				events = append(events, cur)
				cur = nil
			}
			continue
		}
		target := cal
		if cur != nil {
			target = cur
		}
		if _, dup := target[name]; dup {
			t.Errorf("property %s appears twice in a component", name)
		}
		switch name {
		case "SUMMARY", "DESCRIPTION", "X-WR-CALNAME", "UID":
			target[name] = unescape(value)
		default:
			target[name] = value
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed components %v", stack)
	}
	if cal["VERSION"] != "2.0" || cal["PRODID"] == "" {
		t.Errorf("calendar properties: %v", cal)
	}
	for _, e := range events {
		for _, p := range []string{"UID", "DTSTAMP", "DTSTART", "SUMMARY", "URL"} {
			if e[p] == "" {
				t.Errorf("event lacks %s: %v", p, e)
			}
		}
		for _, p := range []string{"DTSTAMP", "DTSTART"} {
			if _, err := time.Parse("20060102T150405Z", e[p]); err != nil {
				t.Errorf("%s is not a UTC date-time: %q", p, e[p])
			}
		}
		if end, ok := e["DTEND"]; ok && end <= e["DTSTART"] {
			t.Errorf("DTEND %s is not after DTSTART %s", end, e["DTSTART"])
		}
	}
	return cal, events
}

func TestPublicCalendar(t *testing.T) {
	env := apptest.New(t)
	plain, _ := env.PublishedCall(publicInput("Youth employment", "en", "fr"))
	hostileTitle := "Tricky; title, with \\ backslash\r\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:injected <script>alert(1)</script>"
	hin := publicInput("x", "en")
	hin.Title = calls.Text{"en": hostileTitle}
	hostile, _ := env.PublishedCall(hin)
	// A long title of multi-byte characters must fold without splitting a character.
	long := strings.Repeat("Économie sociale et solidaire — ", 3) + strings.Repeat("€", 97) + "ü"
	lin := publicInput("x", "fr")
	lin.Title = calls.Text{"fr": long}
	lin.Closes = "2031-06-30T23:59"
	longCall, _ := env.PublishedCall(lin)
	callInState(t, env, publicInput("Secret draft", "en"), calls.StatusDraft)

	res := env.Client().Get("/calls.ics")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET /calls.ics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	_, events := parseICS(t, res.Body)
	if len(events) != 3 {
		t.Fatalf("%d events, want 3 (one per open call; the user's text must not add any)", len(events))
	}
	byUID := map[string]icsEvent{}
	for _, e := range events {
		byUID[e["UID"]] = e
	}
	for _, c := range []*calls.Call{plain, hostile, longCall} {
		e, ok := byUID[c.ID+"@facility.test"]
		if !ok {
			t.Fatalf("no event with UID %s@facility.test", c.ID)
		}
		if e["DTSTART"] != c.ClosesAt.UTC().Format("20060102T150405Z") || e["URL"] != "http://facility.test/calls/"+c.ID {
			t.Errorf("event for %s: %v", c.ID, e)
		}
	}
	if got := byUID[hostile.ID+"@facility.test"]["SUMMARY"]; got != "Deadline: "+strings.ReplaceAll(hostileTitle, "\r\n", "\n") {
		t.Errorf("the hostile title reads back as %q", got)
	}
	if got := byUID[longCall.ID+"@facility.test"]["DTSTART"]; got != "20310630T235900Z" {
		t.Errorf("DTSTART of the long call: %q", got)
	}
	if !strings.Contains(byUID[plain.ID+"@facility.test"]["DESCRIPTION"], plain.Reference) {
		t.Error("the description does not name the call's reference")
	}
	if strings.Contains(res.Body, "Secret draft") {
		t.Error("a draft call is in the calendar")
	}

	// One call's calendar, in the reader's language.
	fr := env.Client()
	fr.Header.Set("Accept-Language", "fr")
	res = fr.Get("/calls/" + longCall.ID + ".ics")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET one call's calendar: %d", res.StatusCode)
	}
	_, events = parseICS(t, res.Body)
	if len(events) != 1 || events[0]["SUMMARY"] != "Date limite : "+long {
		t.Errorf("one call's calendar: %v", events)
	}
	// Filters apply to the calendar as to the list.
	_, events = parseICS(t, env.Client().Get("/calls.ics?language=fr").Body)
	if len(events) != 2 {
		t.Errorf("the French calendar has %d events, want 2", len(events))
	}
}

func TestPublicCallTextIsEscaped(t *testing.T) {
	env := apptest.New(t)
	in := publicInput("x", "en")
	title := `<script>alert("t")</script><img src=x onerror=alert(1)>`
	in.Title = calls.Text{"en": title}
	in.Challenge = calls.Text{"en": "<b>bold</b>\n\n<script>alert(2)</script>"}
	in.Donors = []string{`<iframe src="https://evil.example">`}
	call, _ := env.PublishedCall(in)
	c := env.Client()
	for _, path := range []string{"/calls", "/calls/" + call.ID} {
		res := c.Get(path)
		if strings.Contains(res.Body, "<script>alert") || strings.Contains(res.Body, "<img src=x") || strings.Contains(res.Body, "<iframe") || strings.Contains(res.Body, "<b>bold") {
			t.Errorf("%s renders user text as HTML", path)
		}
		if !strings.Contains(res.Body, "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the title as text", path)
		}
	}
	for _, path := range []string{"/calls.json", "/api/v1/public/calls", "/api/v1/public/calls/" + call.ID} {
		var out struct {
			Calls []feedItem `json:"calls"`
			feedItem
		}
		res := c.JSON(http.MethodGet, path, nil, &out)
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %s", path, res.Header.Get("Content-Type"))
		}
		if strings.Contains(res.Body, "<script>") || strings.Contains(res.Body, "<iframe") {
			t.Errorf("%s has raw markup in its JSON", path)
		}
		got := out.Title["en"]
		if len(out.Calls) == 1 {
			got = out.Calls[0].Title["en"]
		}
		if got != title {
			t.Errorf("%s: title reads back as %q", path, got)
		}
	}
	var doc map[string]any
	c.JSON(http.MethodGet, "/api/v1/openapi.json", nil, &doc)
	paths, _ := doc["paths"].(map[string]any)
	if paths["/public/calls"] == nil || paths["/public/calls/{id}"] == nil {
		t.Error("the public call API is not in the OpenAPI document")
	}
}

func TestHomeLinksToOpenCalls(t *testing.T) {
	env := apptest.New(t)
	if res := env.Client().Get("/"); !strings.Contains(res.Body, `href="/calls"`) {
		t.Error("the landing page does not link to the open calls")
	}
}
