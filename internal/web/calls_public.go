package web

// Public call pages: what anyone may read without signing in. Open and
// upcoming published calls with filters, a call's page with its rules,
// criteria, timeline and form outline, a JSON feed, and an iCalendar file of
// deadlines. Nothing here changes state; only published calls are shown.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/i18n"
	"facility/internal/validate"
)

func (s *Server) publicCallRoutes() {
	e := s.echo
	e.GET("/calls", s.publicCalls)
	e.GET("/calls.json", s.publicCallsFeed)
	e.GET("/calls.ics", s.publicCallsCalendar)
	// One route for the page and its calendar file: the router reads
	// "<id>.ics" as the id.
	e.GET("/calls/:id", s.publicCall)
}

func (s *Server) apiPublicCallRoutes(g *echo.Group) {
	g.GET("/public/calls", s.apiPublicCalls)
	g.GET("/public/calls/:id", s.apiPublicCall)
}

// publicRefs are the reference tables the public pages name things from, in
// the reader's language.
type publicRefs struct {
	Facilities, Regions, Countries, OrgTypes []option
}

func (s *Server) publicRefs(ctx context.Context, lang string) (*publicRefs, error) {
	var r publicRefs
	var err error
	if r.Facilities, err = s.options(ctx, "thematic_facilities", "code", lang); err != nil {
		return nil, err
	}
	if r.Regions, err = s.options(ctx, "ilo_regions", "code", lang); err != nil {
		return nil, err
	}
	if r.Countries, err = s.options(ctx, "countries", "iso2", lang); err != nil {
		return nil, err
	}
	if r.OrgTypes, err = s.options(ctx, "organisation_types", "code", lang); err != nil {
		return nil, err
	}
	return &r, nil
}

// refName finds a code's name; an unknown code shows as itself.
func refName(opts []option, code string) string {
	for _, o := range opts {
		if o.Code == code {
			return o.Name
		}
	}
	return code
}

func refNames(opts []option, codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		out = append(out, refName(opts, c))
	}
	return out
}

func hasOption(opts []option, code string) bool {
	return slices.ContainsFunc(opts, func(o option) bool { return o.Code == code })
}

// publicFilter reads the list filters from the query string. A value that
// is not one of the offered options is a field error and is left out.
func publicFilter(q url.Values, refs *publicRefs) (calls.PublicFilter, url.Values, validate.Errors) {
	var errs validate.Errors
	kept := url.Values{}
	pick := func(field, v string, ok func(string) bool) string {
		v = strings.TrimSpace(v)
		if v == "" {
			return ""
		}
		if !ok(v) {
			errs.Add(field, "not_allowed", nil)
			return ""
		}
		kept.Set(field, v)
		return v
	}
	in := func(opts []option) func(string) bool { return func(v string) bool { return hasOption(opts, v) } }
	f := calls.PublicFilter{
		Facility: pick("facility", q.Get("facility"), in(refs.Facilities)),
		Region:   pick("region", q.Get("region"), in(refs.Regions)),
		Country:  pick("country", strings.ToUpper(q.Get("country")), in(refs.Countries)),
		OrgType:  pick("organisation_type", q.Get("organisation_type"), in(refs.OrgTypes)),
		Language: pick("language", q.Get("language"), func(v string) bool { return slices.Contains(i18n.Languages, v) }),
	}
	return f, kept, errs
}

// readerZone is the timezone deadlines are shown in: the signed-in person's,
// else UTC (the page's script adds the browser's).
func readerZone(c echo.Context) *time.Location {
	if v := currentVisitor(c); v.signedIn() && v.User.Timezone != "" {
		if loc, err := time.LoadLocation(v.User.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// locationOf is the location named name, UTC when it is empty or unknown.
func locationOf(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return time.UTC
	}
	return loc
}

// shownTime is a time as the public pages show it.
type shownTime struct {
	ISO    string // RFC 3339 in UTC, for <time datetime> and the script
	UTC    string
	Call   string // in the call's own timezone
	Reader string // in the reader's timezone; "" when that is UTC
}

const shownLayout = "2006-01-02 15:04 MST"

func newShownTime(t time.Time, call, reader *time.Location) shownTime {
	m := shownTime{ISO: t.UTC().Format(time.RFC3339), UTC: t.UTC().Format("2006-01-02 15:04") + " UTC",
		Call: t.In(call).Format(shownLayout)}
	if reader != time.UTC && reader.String() != "UTC" {
		m.Reader = t.In(reader).Format(shownLayout) + " (" + reader.String() + ")"
	}
	return m
}

// callText picks a call text in the reader's language, else in the call's
// first language that has it, and says which language it is in.
func callText(t calls.Text, lang string, langs []string) (string, string) {
	if v := t[lang]; v != "" {
		return v, lang
	}
	for _, l := range langs {
		if v := t[l]; v != "" {
			return v, l
		}
	}
	return t.In(lang, langs), lang
}

// callStatus is open, upcoming or closed at now.
func callStatus(c *calls.Call, now time.Time) string {
	switch {
	case now.After(c.Deadline()):
		return "closed"
	case now.Before(c.OpensAt):
		return "upcoming"
	}
	return "open"
}

// callSummary is one entry of the public list.
type callSummary struct {
	ID, Reference, Title, TitleLang string
	Facility, Scope, Status         string
	Places                          []string
	Budget                          string
	Opens, Closes                   shownTime
	Languages                       []string
}

func summarise(c *calls.Call, refs *publicRefs, lang string, reader *time.Location, now time.Time) callSummary {
	title, tl := callText(c.Title.V, lang, c.Languages.V)
	loc := locationOf(c.Timezone)
	places := refNames(refs.Regions, c.Regions.V)
	places = append(places, refNames(refs.Countries, c.Countries.V)...)
	return callSummary{ID: c.ID, Reference: c.Reference, Title: title, TitleLang: tl,
		Facility: refName(refs.Facilities, c.FacilityCode), Scope: c.Scope, Status: callStatus(c, now),
		Places: places, Budget: c.Money(c.BudgetMinor),
		Opens: newShownTime(c.OpensAt, loc, reader), Closes: newShownTime(c.ClosesAt, loc, reader),
		Languages: c.Languages.V}
}

// filterSelect is one select of the list's filter form.
type filterSelect struct {
	Name, Label, Selected, Error string
	Options                      []option
}

// GET /calls
func (s *Server) publicCalls(c echo.Context) error {
	ctx, l := c.Request().Context(), lang(c)
	refs, err := s.publicRefs(ctx, l)
	if err != nil {
		return err
	}
	f, kept, errs := publicFilter(c.QueryParams(), refs)
	list, err := s.Calls.Public(ctx, f)
	if err != nil {
		return err
	}
	now, err := database.Now(s.DB.Gorm.WithContext(ctx))
	if err != nil {
		return err
	}
	reader := readerZone(c)
	items := make([]callSummary, 0, len(list))
	for i := range list {
		items = append(items, summarise(&list[i], refs, l, reader, now))
	}
	p := s.newPage(c, s.Text.Translate(l, "public_calls_title", nil), nil)
	p.Form, p.Errors = kept, errs
	langs := make([]option, 0, len(i18n.Languages))
	for _, code := range i18n.Languages {
		langs = append(langs, option{Code: code, Name: p.T("language_" + code)})
	}
	var filters []filterSelect
	for _, f := range []struct {
		name string
		opts []option
	}{{"facility", refs.Facilities}, {"region", refs.Regions}, {"country", refs.Countries},
		{"organisation_type", refs.OrgTypes}, {"language", langs}} {
		filters = append(filters, filterSelect{Name: f.name, Label: p.T("field_" + f.name), Options: f.opts,
			Selected: kept.Get(f.name), Error: p.FieldError(f.name)})
	}
	query := ""
	if len(kept) > 0 {
		query = "?" + kept.Encode()
	}
	p.Data = map[string]any{"Calls": items, "Filters": filters, "Filtered": len(kept) > 0,
		"CalendarURL": "/calls.ics" + query, "FeedURL": "/calls.json" + query}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, "public_calls", p)
}

// publishedCall returns a published call, or 404. Asking for a call that
// exists but is not public is a denial, logged like any other.
func (s *Server) publishedCall(c echo.Context, id string) (*calls.Call, error) {
	call, err := s.Calls.Get(c.Request().Context(), id)
	if errors.Is(err, calls.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if call.Status != calls.StatusPublished {
		return nil, s.deny(c, true, authz.FacilityDomain(call.FacilityCode), authz.ObjCall, authz.ActRead)
	}
	return call, nil
}

// criterionView is an evaluation criterion as applicants read it.
type criterionView struct {
	Name, NameLang, Description string
	Weight, Share, Scale        string
	Threshold                   string
}

// questionView is one question of the form outline.
type questionView struct {
	Label, Help, Kind string
	Required          bool
	Notes             []string
}

type sectionView struct {
	Title     string
	Round     int
	Questions []questionView
}

func plainNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// GET /calls/:id (and /calls/:id.ics)
func (s *Server) publicCall(c echo.Context) error {
	id := c.Param("id")
	if base, ok := strings.CutSuffix(id, ".ics"); ok {
		return s.publicCallCalendar(c, base)
	}
	call, err := s.publishedCall(c, id)
	if err != nil {
		return err
	}
	ctx, l := c.Request().Context(), lang(c)
	refs, err := s.publicRefs(ctx, l)
	if err != nil {
		return err
	}
	indicators, err := s.options(ctx, "indicators", "code", l)
	if err != nil {
		return err
	}
	now, err := database.Now(s.DB.Gorm.WithContext(ctx))
	if err != nil {
		return err
	}
	p := s.newPage(c, "", nil)
	reader, loc := readerZone(c), locationOf(call.Timezone)
	sum := summarise(call, refs, l, reader, now)
	p.Title = sum.Title
	challenge, challengeLang := callText(call.Challenge.V, l, call.Languages.V)
	langs := call.Languages.V
	in := func(t calls.Text) string { return t.In(l, langs) }

	var inds []option
	for _, code := range call.Indicators.V {
		inds = append(inds, option{Code: code, Name: refName(indicators, code)})
	}
	total := 0.0
	for _, cr := range call.Criteria.V {
		total += cr.Weight
	}
	var criteria []criterionView
	for _, cr := range call.Criteria.V {
		name, nl := callText(cr.Name, l, langs)
		v := criterionView{Name: name, NameLang: nl, Description: in(cr.Description), Weight: plainNumber(cr.Weight),
			Scale: p.T("public_scale", "Min", plainNumber(cr.ScaleMin), "Max", plainNumber(cr.ScaleMax))}
		if total > 0 {
			v.Share = strconv.FormatFloat(cr.Weight/total*100, 'f', 0, 64) + " %"
		}
		if cr.Threshold != nil {
			v.Threshold = plainNumber(*cr.Threshold)
		}
		criteria = append(criteria, v)
	}
	form := call.Form.V
	var sections []sectionView
	for _, sec := range form.Sections {
		sv := sectionView{Title: in(sec.Title), Round: sec.Round}
		for _, q := range sec.Questions {
			sv.Questions = append(sv.Questions, questionView{Label: in(q.Label), Help: in(q.Help),
				Kind: p.T("public_kind_" + q.Kind), Required: q.Required, Notes: questionNotes(p, &form, q, l, langs)})
		}
		sections = append(sections, sv)
	}
	languageNames := make([]string, 0, len(langs))
	for _, code := range langs {
		languageNames = append(languageNames, p.T("language_"+code))
	}
	startLang := l
	if !call.Speaks(l) && len(langs) > 0 {
		startLang = langs[0]
	}
	data := map[string]any{
		"Call": call, "Summary": sum, "Challenge": challenge, "ChallengeLang": challengeLang,
		"Rules": ruleTexts(p, call, refs, l), "OrgTypes": refNames(refs.OrgTypes, call.OrgTypes.V),
		"Regions": refNames(refs.Regions, call.Regions.V), "Countries": refNames(refs.Countries, call.Countries.V),
		"MinGrant": call.Money(call.MinGrantMinor), "MaxGrant": call.Money(call.MaxGrantMinor),
		"Opens": sum.Opens, "Closes": sum.Closes, "Final": newShownTime(call.Deadline(), loc, reader), "FullProposal": fullProposalShown(call, loc, reader),
		"Indicators": inds, "Criteria": criteria, "Sections": sections, "StartLanguage": startLang,
		"SpeaksReader": call.Speaks(l), "SignedIn": currentVisitor(c).fullySignedIn(),
		"Paragraphs": paragraphs(challenge), "LanguageNames": strings.Join(languageNames, ", "),
	}
	p.Data = data
	return s.render(c, http.StatusOK, "public_call", p)
}

// paragraphs splits a text into paragraphs at blank lines, and each
// paragraph into its lines.
func paragraphs(text string) [][]string {
	var out [][]string
	for _, part := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, strings.Split(part, "\n"))
		}
	}
	return out
}

// ruleTexts states the eligibility rules in words.
func ruleTexts(p *page, call *calls.Call, refs *publicRefs, l string) []string {
	form := call.Form.V
	out := make([]string, 0, len(call.Eligibility.V))
	for _, r := range call.Eligibility.V {
		switch r.Kind {
		case calls.RuleOrgType:
			out = append(out, p.T("public_rule_organisation_type", "Values", strings.Join(refNames(refs.OrgTypes, r.Values), ", ")))
		case calls.RuleCountry:
			out = append(out, p.T("public_rule_country", "Values", strings.Join(refNames(refs.Countries, r.Values), ", ")))
		case calls.RuleRegion:
			out = append(out, p.T("public_rule_region", "Values", strings.Join(refNames(refs.Regions, r.Values), ", ")))
		case calls.RuleOrgAge:
			key := "public_rule_organisation_age"
			if r.MinYears == 1 {
				key = "public_rule_organisation_age_one"
			}
			out = append(out, p.T(key, "Years", r.MinYears))
		case calls.RuleAmount:
			out = append(out, p.T("public_rule_amount", "Min", call.Money(call.MinGrantMinor), "Max", call.Money(call.MaxGrantMinor)))
		case calls.RuleYesNo:
			label := r.Question
			if q, ok := form.Question(r.Question); ok {
				label = q.Label.In(l, call.Languages.V)
			}
			out = append(out, p.T("public_rule_yes_no", "Question", label, "Expect", p.T("public_answer_"+r.Expect)))
		}
	}
	return out
}

// questionNotes are the limits and conditions of a question, in words.
func questionNotes(p *page, form *calls.Form, q calls.Question, l string, langs []string) []string {
	var out []string
	if q.MaxWords > 0 {
		out = append(out, p.T("public_note_max_words", "Max", q.MaxWords))
	}
	if q.MaxChars > 0 {
		out = append(out, p.T("public_note_max_chars", "Max", q.MaxChars))
	}
	if q.Min != nil || q.Max != nil {
		lo, hi := "—", "—"
		if q.Min != nil {
			lo = plainNumber(*q.Min)
		}
		if q.Max != nil {
			hi = plainNumber(*q.Max)
		}
		out = append(out, p.T("public_note_range", "Min", lo, "Max", hi))
	}
	if len(q.Choices) > 0 {
		labels := make([]string, 0, len(q.Choices))
		for _, ch := range q.Choices {
			labels = append(labels, ch.Label.In(l, langs))
		}
		out = append(out, p.T("public_note_choices", "Choices", strings.Join(labels, " · ")))
	}
	if q.Kind == calls.KindFile {
		out = append(out, p.T("public_note_file", "Types", strings.Join(q.FileTypes, ", "), "MB", q.MaxFileMB))
	}
	if cond := q.VisibleIf; cond != nil {
		src, ok := form.Question(cond.Question)
		if ok {
			values := make([]string, 0, len(cond.Values))
			for _, v := range cond.Values {
				values = append(values, answerName(p, src, v, l, langs))
			}
			out = append(out, p.T("public_note_condition", "Question", src.Label.In(l, langs), "Values", strings.Join(values, ", ")))
		}
	}
	return out
}

// answerName is how an answer value reads: yes/no translated, a choice by its label.
func answerName(p *page, q calls.Question, v, l string, langs []string) string {
	if q.Kind == calls.KindYesNo && (v == "yes" || v == "no") {
		return p.T("public_answer_" + v)
	}
	for _, ch := range q.Choices {
		if ch.Value == v {
			return ch.Label.In(l, langs)
		}
	}
	return v
}

// The JSON feed and the public API.

// feedMoney is an amount with its currency.
type feedMoney struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Formatted   string `json:"formatted"`
}

// feedCall is a call in the public feed.
type feedCall struct {
	ID                string     `json:"id"`
	Reference         string     `json:"reference"`
	Title             calls.Text `json:"title"`
	Facility          string     `json:"facility"`
	Scope             string     `json:"scope"`
	Regions           []string   `json:"regions"`
	Countries         []string   `json:"countries"`
	OrganisationTypes []string   `json:"organisation_types"`
	Languages         []string   `json:"languages"`
	Status            string     `json:"status"`
	OpensAt           string     `json:"opens_at"`
	ClosesAt          string     `json:"closes_at"`
	GraceMinutes      int        `json:"grace_minutes"`
	DeadlineWithGrace string     `json:"deadline_with_grace"`
	Timezone          string     `json:"timezone"`
	Budget            feedMoney  `json:"budget"`
	URL               string     `json:"url"`
	CalendarURL       string     `json:"calendar_url"`

	// Two-round calls: when invited full proposals close (null otherwise).
	FullProposalClosesAt          *string `json:"full_proposal_closes_at"`
	FullProposalDeadlineWithGrace *string `json:"full_proposal_deadline_with_grace"`
}

// feedCallDetail is a call with everything its public page shows.
type feedCallDetail struct {
	feedCall
	Origin      string            `json:"origin"`
	TwoRound    bool              `json:"two_round"`
	Challenge   calls.Text        `json:"challenge"`
	MinGrant    feedMoney         `json:"min_grant"`
	MaxGrant    feedMoney         `json:"max_grant"`
	Indicators  []string          `json:"indicators"`
	Donors      []string          `json:"donors"`
	Eligibility []calls.Rule      `json:"eligibility"`
	Criteria    []calls.Criterion `json:"criteria"`
	Form        calls.Form        `json:"form"`
}

func (s *Server) callURL(id, suffix string) string {
	return strings.TrimRight(s.Config.BaseURL, "/") + "/calls/" + id + suffix
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) feedItem(c *calls.Call, now time.Time) feedCall {
	return feedCall{ID: c.ID, Reference: c.Reference, Title: c.Title.V, Facility: c.FacilityCode, Scope: c.Scope,
		Regions: nonNilStrings(c.Regions.V), Countries: nonNilStrings(c.Countries.V), OrganisationTypes: nonNilStrings(c.OrgTypes.V),
		Languages: nonNilStrings(c.Languages.V), Status: callStatus(c, now),
		OpensAt: rfc3339(c.OpensAt), ClosesAt: rfc3339(c.ClosesAt), GraceMinutes: c.GraceMinutes,
		DeadlineWithGrace: rfc3339(c.Deadline()), Timezone: c.Timezone,
		Budget: feedMoney{AmountMinor: c.BudgetMinor, Currency: c.Currency, Formatted: c.Money(c.BudgetMinor)},
		URL:    s.callURL(c.ID, ""), CalendarURL: s.callURL(c.ID, ".ics"),
		FullProposalClosesAt: fullProposalISO(c, false), FullProposalDeadlineWithGrace: fullProposalISO(c, true)}
}

// publicList is the filtered list every public format shares.
func (s *Server) publicList(c echo.Context) ([]calls.Call, time.Time, error) {
	ctx := c.Request().Context()
	refs, err := s.publicRefs(ctx, lang(c))
	if err != nil {
		return nil, time.Time{}, err
	}
	f, _, errs := publicFilter(c.QueryParams(), refs)
	if len(errs) > 0 {
		return nil, time.Time{}, errs
	}
	list, err := s.Calls.Public(ctx, f)
	if err != nil {
		return nil, time.Time{}, err
	}
	now, err := database.Now(s.DB.Gorm.WithContext(ctx))
	return list, now, err
}

func (s *Server) feed(c echo.Context) (map[string]any, error) {
	list, now, err := s.publicList(c)
	if err != nil {
		return nil, err
	}
	items := make([]feedCall, 0, len(list))
	for i := range list {
		items = append(items, s.feedItem(&list[i], now))
	}
	return map[string]any{"calls": items}, nil
}

// GET /calls.json: the feed outside /api answers its errors in JSON too.
func (s *Server) publicCallsFeed(c echo.Context) error {
	body, err := s.feed(c)
	if fe, ok := validate.As(err); ok {
		return c.JSON(http.StatusUnprocessableEntity, s.fieldErrorBody(c, fe))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body)
}

// fieldErrorBody is the API's error format for field errors.
func (s *Server) fieldErrorBody(c echo.Context, fe validate.Errors) apiError {
	l := lang(c)
	body := apiError{Error: apiErrorBody{Code: "invalid_input", Message: s.Text.Translate(l, "status_invalid_input", nil), RequestID: requestID(c)}}
	for _, e := range fe {
		body.Error.Fields = append(body.Error.Fields, fieldProblem{Field: e.Field, Code: e.Code, Message: fieldMessage(s.Text, l, e)})
	}
	return body
}

// GET /api/v1/public/calls
func (s *Server) apiPublicCalls(c echo.Context) error {
	body, err := s.feed(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body)
}

// GET /api/v1/public/calls/:id
func (s *Server) apiPublicCall(c echo.Context) error {
	call, err := s.publishedCall(c, c.Param("id"))
	if err != nil {
		return err
	}
	now, err := database.Now(s.DB.Gorm.WithContext(c.Request().Context()))
	if err != nil {
		return err
	}
	money := func(v int64) feedMoney {
		return feedMoney{AmountMinor: v, Currency: call.Currency, Formatted: call.Money(v)}
	}
	return c.JSON(http.StatusOK, feedCallDetail{feedCall: s.feedItem(call, now), Origin: call.Origin, TwoRound: call.TwoRound,
		Challenge: call.Challenge.V, MinGrant: money(call.MinGrantMinor), MaxGrant: money(call.MaxGrantMinor),
		Indicators: nonNilStrings(call.Indicators.V), Donors: nonNilStrings(call.Donors.V),
		Eligibility: call.Eligibility.V, Criteria: call.Criteria.V, Form: call.Form.V})
}

// iCalendar (RFC 5545).

// icsEvent is one deadline in a calendar.
type icsEvent struct {
	UID, Summary, Description, URL string
	Start                          time.Time
}

// icsText escapes a TEXT value: backslash, semicolon, comma and newlines,
// so text from users can never end a line or start a property. Other
// control characters are dropped.
func icsText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteByte(ch)
		default:
			if ch < 0x20 || ch == 0x7f {
				continue
			}
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// writeICSLine writes a content line folded at 75 octets (never inside a
// UTF-8 character), each physical line ending in CRLF.
func writeICSLine(b *bytes.Buffer, line string) {
	const limit = 75
	n := 0
	for len(line) > 0 {
		_, size := utf8.DecodeRuneInString(line)
		if n+size > limit {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteString(line[:size])
		n += size
		line = line[size:]
	}
	b.WriteString("\r\n")
}

// icsURI keeps a URI value on its line.
func icsURI(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

func writeICalendar(name string, stamp time.Time, events []icsEvent) []byte {
	var b bytes.Buffer
	for _, l := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ILO Innovation Facility//Facility//EN",
		"CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:" + icsText(name)} {
		writeICSLine(&b, l)
	}
	for _, e := range events {
		for _, l := range []string{"BEGIN:VEVENT", "UID:" + icsText(e.UID), "DTSTAMP:" + icsTime(stamp),
			// No DTEND: a deadline is an instant, and DTEND must be later than DTSTART.
			"DTSTART:" + icsTime(e.Start), "SUMMARY:" + icsText(e.Summary),
			"DESCRIPTION:" + icsText(e.Description), "URL:" + icsURI(e.URL), "TRANSP:TRANSPARENT", "END:VEVENT"} {
			writeICSLine(&b, l)
		}
	}
	writeICSLine(&b, "END:VCALENDAR")
	return b.Bytes()
}

// deadlineEvent is a call's closing time as a calendar event, in the reader's language.
func (s *Server) deadlineEvent(c *calls.Call, l, host string, refs *publicRefs) icsEvent {
	title := c.Title.V.In(l, c.Languages.V)
	t := func(id string, args map[string]any) string { return s.Text.Translate(l, id, args) }
	desc := []string{
		c.Reference + " · " + refName(refs.Facilities, c.FacilityCode),
		t("public_ics_closes", map[string]any{"Time": c.ClosesAt.In(locationOf(c.Timezone)).Format(shownLayout), "UTC": newShownTime(c.ClosesAt, time.UTC, time.UTC).UTC}),
	}
	if c.GraceMinutes > 0 {
		desc = append(desc, t("public_grace", map[string]any{"Minutes": c.GraceMinutes, "Time": newShownTime(c.Deadline(), time.UTC, time.UTC).UTC}))
	}
	desc = append(desc, s.callURL(c.ID, ""))
	return icsEvent{UID: c.ID + "@" + host, Summary: t("public_ics_summary", map[string]any{"Title": title}),
		Description: strings.Join(desc, "\n"), URL: s.callURL(c.ID, ""), Start: c.ClosesAt}
}

func (s *Server) calendarHost() string {
	if u, err := url.Parse(s.Config.BaseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "facility.invalid"
}

func (s *Server) sendCalendar(c echo.Context, filename string, list []calls.Call, stamp time.Time) error {
	l := lang(c)
	refs, err := s.publicRefs(c.Request().Context(), l)
	if err != nil {
		return err
	}
	host := s.calendarHost()
	events := make([]icsEvent, 0, len(list))
	for i := range list {
		events = append(events, s.deadlineEvent(&list[i], l, host, refs))
		if e, ok := s.fullProposalEvent(&list[i], l, host); ok {
			events = append(events, e)
		}
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, filename))
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", writeICalendar(s.Text.Translate(l, "public_ics_name", nil), stamp, events))
}

// GET /calls.ics
func (s *Server) publicCallsCalendar(c echo.Context) error {
	list, now, err := s.publicList(c)
	if err != nil {
		return err
	}
	return s.sendCalendar(c, "facility-calls.ics", list, now)
}

// GET /calls/:id.ics
func (s *Server) publicCallCalendar(c echo.Context, id string) error {
	call, err := s.publishedCall(c, id)
	if err != nil {
		return err
	}
	now, err := database.Now(s.DB.Gorm.WithContext(c.Request().Context()))
	if err != nil {
		return err
	}
	// The reference is letters, digits and hyphens: safe in a header.
	return s.sendCalendar(c, call.Reference+".ics", []calls.Call{*call}, now)
}

func filterParam(name, description string) obj {
	return obj{"name": name, "in": "query", "required": false, "description": description, "schema": str()}
}

func publicCallPaths() obj {
	money := object(obj{"amount_minor": integer(), "currency": str(), "formatted": str()}, "amount_minor", "currency")
	text := obj{"type": "object", "description": "Text per language code (en, fr, es)", "additionalProperties": str()}
	strs := arrayOf(str())
	call := obj{"id": strf("uuid"), "reference": str(), "title": text, "facility": str(),
		"scope": obj{"type": "string", "enum": []string{"global", "regional", "national"}}, "regions": strs, "countries": strs,
		"organisation_types": strs, "languages": strs, "status": obj{"type": "string", "enum": []string{"open", "upcoming", "closed"}},
		"opens_at": strf("date-time"), "closes_at": strf("date-time"), "grace_minutes": integer(),
		"deadline_with_grace": obj{"type": "string", "format": "date-time", "description": "Closing time plus the grace period (UTC)"},
		"timezone":            obj{"type": "string", "description": "The call's own IANA timezone"}, "budget": money,
		"full_proposal_closes_at":           obj{"type": "string", "format": "date-time", "nullable": true, "description": "Two-round calls: when invited full proposals close (UTC); null for one-round calls"},
		"full_proposal_deadline_with_grace": obj{"type": "string", "format": "date-time", "nullable": true, "description": "Two-round calls: the full proposal's closing time plus the grace period"},
		"url":                               strf("uri"), "calendar_url": strf("uri")}
	detail := obj{}
	for k, v := range call {
		detail[k] = v
	}
	for k, v := range (obj{"origin": str(), "two_round": boolean(), "challenge": text, "min_grant": money, "max_grant": money,
		"indicators": strs, "donors": strs, "eligibility": arrayOf(obj{"type": "object"}), "criteria": arrayOf(obj{"type": "object"}),
		"form": obj{"type": "object", "description": "Sections and questions of the application form"}}) {
		detail[k] = v
	}
	list := op("public", "Open and upcoming published calls, soonest deadline first (no sign-in needed). The same list is at /calls.json and, as an iCalendar file of deadlines, at /calls.ics", nil, "200", listOf("calls", object(call)))
	return obj{
		"/public/calls": obj{"get": withParams(list,
			filterParam("facility", "Thematic facility code"),
			filterParam("region", "ILO region code: calls open to organisations there"),
			filterParam("country", "ISO 3166-1 alpha-2: calls open to organisations there"),
			filterParam("organisation_type", "Organisation type code"),
			filterParam("language", "en, fr or es: calls published in that language"))},
		"/public/calls/{id}": obj{"get": withParams(op("public", "A published call with its rules, criteria and form (no sign-in needed)", nil, "200", object(detail)), idParam("id"))},
	}
}
