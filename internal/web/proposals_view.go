package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/calls"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// The editor's pseudo-sections, around the call's own sections (whose ids
// are identifiers starting with a letter, so these cannot collide).
const (
	sectionDetails = "_details"
	sectionTeam    = "_team"
)

// maxPartnerRows bounds the partner rows a form may send.
const maxPartnerRows = 50

// editorState is what a handler passes to the editor besides the proposal.
type editorState struct {
	Section    string
	Form       url.Values // what was sent, shown again after a refusal
	Errs       validate.Errors
	Notice     string
	Incomplete validate.Errors // from a refused submission
}

// problem is a translated field error with a link to the field.
type problem struct {
	Field, Message, Href string
}

type sectionLink struct {
	ID, Title, Href string
	Current         bool
	Missing         int
}

// answerField is one question as the editor shows it; every text is
// already in the reader's language.
type answerField struct {
	ID, Name, Kind, Label, Help string
	Required, Hidden            bool
	CondQuestion, CondValues    string
	Value                       string
	Selected                    map[string]bool
	Choices                     []option
	MaxWords, MaxChars          int
	Step                        string
	Digits                      int
	Error                       string
	Display                     string
	Files                       []proposals.Attachment
	FileTypes                   string
	MaxFileMB                   int
}

type partnerRow struct {
	Index, Row                    int
	Name, Country, OrganisationID string
	Lead                          bool
	NameErr, CountryErr           string
	CountryName                   string
}

type deadlineView struct {
	Closes, ClosesUTC, ClosesCall       string
	Deadline, DeadlineUTC, DeadlineCall string
	CallZone                            string
	Grace                               int
	ISO                                 string
	Passed                              bool
	Extended                            bool
}

type editorView struct {
	P                                      *proposals.Proposal
	Call                                   *calls.Call
	CallTitle, OrgName                     string
	Rights                                 string
	CanEdit, CanSubmit, CanManageTeam      bool
	ReadOnly, Withdrawable                 bool
	Sections                               []sectionLink
	Section, SectionTitle                  string
	IsDetails, IsTeam                      bool
	Next                                   string
	Questions                              []answerField
	Title, Amount, AmountText, AmountStep  string
	Digits                                 int
	Partners                               []partnerRow
	PartnerRows                            int
	Countries                              []option
	Members                                []proposals.Member
	RightsOptions                          []option
	Missing, Problems                      []problem
	Errs                                   map[string]string
	Deadline                               deadlineView
	Key, Notice, StatusText, ScreeningText string
	Screening                              bool
	// Reply: the screening conversation and the answer form (submitted proposals).
	Reply *replyView
	// Rounds: the round the proposal is in, the full proposal's deadline, the submitted rounds.
	Rounds *roundsInfo
}

func fmtZone(t time.Time, tz string) string {
	return t.In(locationOf(tz)).Format("2006-01-02 15:04 MST")
}

// fmtZoneToSecond is fmtZone to the second.
func fmtZoneToSecond(t time.Time, tz string) string {
	return t.In(locationOf(tz)).Format("2006-01-02 15:04:05 MST")
}

// deadlineView is the concept note's (or only round's) deadline as shown;
// roundDeadlineView shows another round's.
func (s *Server) deadlineView(c echo.Context, call *calls.Call, d time.Time) deadlineView {
	return s.roundDeadlineView(c, call, calls.RoundConceptNote, d)
}

// currencyDigits is how many minor units the currency has, as the calls
// package writes amounts.
func currencyDigits(cur string) int {
	f := calls.FormatMoney(0, cur)
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return len(f) - i - 1
	}
	return 0
}

// decimal writes minor units as a plain decimal for an input ("25000.50").
func decimal(minor int64, digits int) string {
	if digits == 0 {
		return strconv.FormatInt(minor, 10)
	}
	unit := int64(math.Pow10(digits))
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%0*d", sign, minor/unit, digits, minor%unit)
}

// parseMoney reads a decimal amount ("25,000.50", "25000") into minor
// units; thousands separators (comma, space) are allowed, a minus sign and
// more decimals than the currency has are not.
func parseMoney(v string, digits int) (int64, bool) {
	v = strings.NewReplacer(",", "", " ", "", "\u00a0", "", "\u202f", "", "'", "").Replace(strings.TrimSpace(v))
	whole, frac, hasFrac := strings.Cut(v, ".")
	if whole == "" && !hasFrac || len(frac) > digits || hasFrac && frac == "" || len(whole) > 15 {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	f, _ := strconv.ParseInt("0"+frac+strings.Repeat("0", digits-len(frac)), 10, 64)
	return w*int64(math.Pow10(digits)) + f, true
}

// parseNumber reads a number typed in a form, with a point or a comma as
// the decimal separator.
func parseNumber(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if strings.Count(v, ",") == 1 && !strings.Contains(v, ".") {
		v = strings.Replace(v, ",", ".", 1)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || strings.ContainsAny(v, "xXpPiInN_") {
		return 0, false
	}
	return n, true
}

// parseAnswer turns the values a form sent for question q into the answer
// the domain checks; nil clears it. code names a problem the form found.
func parseAnswer(q calls.Question, vals []string, digits int) (a any, code string) {
	first := ""
	if len(vals) > 0 {
		first = vals[0]
	}
	if q.Kind != calls.KindMultipleChoice && strings.TrimSpace(first) == "" {
		return nil, ""
	}
	switch q.Kind {
	case calls.KindNumber:
		n, ok := parseNumber(first)
		if !ok {
			return nil, "not_a_number"
		}
		return n, ""
	case calls.KindMoney:
		n, ok := parseMoney(first, digits)
		if !ok {
			return nil, "invalid_amount"
		}
		return float64(n), ""
	case calls.KindYesNo:
		switch first {
		case "yes":
			return true, ""
		case "no":
			return false, ""
		}
		return nil, "not_allowed"
	case calls.KindMultipleChoice:
		var out []any
		for _, v := range vals {
			if v != "" {
				out = append(out, v)
			}
		}
		if len(out) == 0 {
			return nil, ""
		}
		return out, ""
	case calls.KindShortText, calls.KindLongText:
		// Browsers send line breaks as CRLF; people typed one character.
		return strings.ReplaceAll(first, "\r\n", "\n"), ""
	}
	return first, ""
}

// savedForm is a section form read into a save, with where each partner
// row came from (rows left out shift the domain's numbering).
type savedForm struct {
	In          proposals.SaveInput
	PartnerRows []int
}

// readSaveForm reads a section form. A field whose conflict choice
// ("keep.<field>") is "theirs" is left out, so the stored value stays.
func readSaveForm(call *calls.Call, p *proposals.Proposal, form url.Values) (savedForm, validate.Errors) {
	var errs validate.Errors
	out := savedForm{}
	v, err := strconv.Atoi(form.Get("version"))
	if err != nil {
		errs.Add("version", "wrong_type", nil)
	}
	out.In.Version = v
	theirs := func(field string) bool { return form.Get("keep."+field) == "theirs" }
	digits := currencyDigits(call.Currency)
	section := form.Get("section")
	if section == sectionDetails {
		if _, ok := form["title"]; ok && !theirs("title") {
			t := form.Get("title")
			out.In.Title = &t
		}
		if _, ok := form["requested_amount"]; ok && !theirs("requested_minor") {
			amount := int64(0)
			if strings.TrimSpace(form.Get("requested_amount")) != "" {
				n, ok := parseMoney(form.Get("requested_amount"), digits)
				if !ok {
					errs.Add("requested_minor", "invalid_amount", nil)
				}
				amount = n
			}
			out.In.RequestedMinor = &amount
		}
		if _, ok := form["partner_rows"]; ok && !theirs("partners") {
			n, err := strconv.Atoi(form.Get("partner_rows"))
			if err != nil || n < 0 || n > maxPartnerRows {
				errs.Add("partners", "too_many", map[string]any{"Max": 20})
				n = 0
			}
			lead := form.Get("partner_lead")
			ps := []proposals.Partner{}
			for i := range n {
				pre := fmt.Sprintf("partners.%d.", i)
				name, country, org := strings.TrimSpace(form.Get(pre+"name")), form.Get(pre+"country"), form.Get(pre+"organisation_id")
				if form.Get(pre+"remove") != "" || name == "" && country == "" && org == "" {
					continue
				}
				ps = append(ps, proposals.Partner{Name: name, Country: country, OrganisationID: org, Lead: lead == strconv.Itoa(i)})
				out.PartnerRows = append(out.PartnerRows, i)
			}
			out.In.Partners = &ps
		}
		return out, errs
	}
	out.In.Answers = map[string]any{}
	for _, sec := range call.Form.V.Sections {
		if sec.ID != section || sec.Round > p.Round {
			continue
		}
		for _, q := range sec.Questions {
			name := "answers." + q.ID
			if q.Kind == calls.KindFile || theirs(name) {
				continue
			}
			if _, sent := form[name]; !sent && form.Get("present."+q.ID) == "" {
				continue // not on the form (hidden by its condition)
			}
			a, code := parseAnswer(q, form[name], digits)
			if code != "" {
				errs.Add(name, code, nil)
				continue
			}
			out.In.Answers[q.ID] = a
		}
	}
	return out, errs
}

// renumberPartners points the domain's partner errors back at the form's rows.
func renumberPartners(errs validate.Errors, rows []int) validate.Errors {
	out := make(validate.Errors, 0, len(errs))
	for _, e := range errs {
		if rest, ok := strings.CutPrefix(e.Field, "partners."); ok {
			if n, field, ok := strings.Cut(rest, "."); ok {
				if i, err := strconv.Atoi(n); err == nil && i < len(rows) {
					e.Field = fmt.Sprintf("partners.%d.%s", rows[i], field)
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// proposalLabel names a field in the reader's language: a question by its
// label, a partner field with its row.
func (s *Server) proposalLabel(l string, call *calls.Call, field string) string {
	if id, ok := strings.CutPrefix(field, "answers."); ok {
		if q, ok := call.Form.V.Question(id); ok {
			return q.Label.In(l, call.Languages.V)
		}
		return id
	}
	if rest, ok := strings.CutPrefix(field, "partners."); ok {
		if n, f, ok := strings.Cut(rest, "."); ok {
			i, _ := strconv.Atoi(n)
			return s.Text.Translate(l, "proposal_field_partner_"+f, map[string]any{"Row": i + 1})
		}
	}
	if s.Text.Has("proposal_field_" + field) {
		return s.Text.Translate(l, "proposal_field_"+field, nil)
	}
	if !s.Text.Has("field_" + field) {
		return field // an unknown JSON field, named as sent
	}
	return s.Text.Translate(l, "field_"+field, nil)
}

// proposalMessage is a field error in the reader's language; amounts in
// its parameters are written in the call's currency.
func (s *Server) proposalMessage(l string, call *calls.Call, e validate.FieldError) string {
	params := map[string]any{}
	money := e.Field == "requested_minor"
	if id, ok := strings.CutPrefix(e.Field, "answers."); ok {
		q, _ := call.Form.V.Question(id)
		money = q.Kind == calls.KindMoney
	}
	for k, v := range e.Params {
		if money && (k == "Min" || k == "Max") {
			switch n := v.(type) {
			case int64:
				v = call.Money(n)
			case int:
				v = call.Money(int64(n))
			case float64:
				v = call.Money(int64(n))
			}
		}
		params[k] = v
	}
	params["Field"] = s.proposalLabel(l, call, e.Field)
	id := "proposal_error_" + e.Code
	if !s.Text.Has(id) {
		id = "error_" + e.Code
	}
	return s.Text.Translate(l, id, params)
}

// fieldMessages translates errors: the first message per field, and the
// list for the summary, each linking to its field on this page.
func (s *Server) fieldMessages(l string, call *calls.Call, errs validate.Errors, _ string) (map[string]string, []problem) {
	byField := map[string]string{}
	list := make([]problem, 0, len(errs))
	for _, e := range errs {
		m := s.proposalMessage(l, call, e)
		if _, seen := byField[e.Field]; !seen {
			byField[e.Field] = m
		}
		list = append(list, problem{Field: e.Field, Message: m, Href: "#f-" + e.Field})
	}
	return byField, list
}

// sectionOf says which editor section shows a field.
func sectionOf(call *calls.Call, field string) string {
	if id, ok := strings.CutPrefix(field, "answers."); ok {
		for _, sec := range call.Form.V.Sections {
			for _, q := range sec.Questions {
				if q.ID == id {
					return sec.ID
				}
			}
		}
	}
	if field == "email" || field == "rights" {
		return sectionTeam
	}
	return sectionDetails
}

// proposalAnswerText shows an answer as text in the reader's language.
func (s *Server) proposalAnswerText(l string, call *calls.Call, q calls.Question, a any, countries []option) string {
	if a == nil {
		return ""
	}
	switch q.Kind {
	case calls.KindNumber:
		if n, ok := a.(float64); ok {
			return strconv.FormatFloat(n, 'f', -1, 64)
		}
	case calls.KindMoney:
		if n, ok := a.(float64); ok {
			return call.Money(int64(n))
		}
	case calls.KindYesNo:
		if b, ok := a.(bool); ok {
			if b {
				return s.Text.Translate(l, "proposal_yes", nil)
			}
			return s.Text.Translate(l, "proposal_no", nil)
		}
	case calls.KindSingleChoice:
		if v, ok := a.(string); ok {
			return choiceLabel(l, call, q, v)
		}
	case calls.KindMultipleChoice:
		var labels []string
		for _, v := range stringsOf(a) {
			labels = append(labels, choiceLabel(l, call, q, v))
		}
		return strings.Join(labels, ", ")
	case calls.KindCountry:
		if v, ok := a.(string); ok {
			return optionName(countries, v)
		}
	}
	if v, ok := a.(string); ok {
		return v
	}
	return fmt.Sprint(a)
}

func choiceLabel(l string, call *calls.Call, q calls.Question, v string) string {
	for _, c := range q.Choices {
		if c.Value == v {
			return c.Label.In(l, call.Languages.V)
		}
	}
	return v
}

func stringsOf(a any) []string {
	switch v := a.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// inputValue writes a stored answer as a form input shows it.
func inputValue(q calls.Question, a any, digits int) string {
	switch v := a.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case float64:
		if q.Kind == calls.KindMoney {
			return decimal(int64(v), digits)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// editor renders the proposal page: the chosen section as a form (or as
// text when the reader may not edit), the list of sections, what is
// missing, the deadline, the team, and the submit and withdraw buttons.
func (s *Server) editor(c echo.Context, status int, p *proposals.Proposal, rights string, st editorState) error {
	ctx := c.Request().Context()
	l := lang(c)
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return err
	}
	org, err := s.Organisations.Get(ctx, p.OrganisationID)
	if err != nil {
		return err
	}
	d, err := s.Proposals.Deadline(ctx, p)
	if err != nil {
		return err
	}
	countries, err := s.options(ctx, "countries", "iso2", l)
	if err != nil {
		return err
	}
	digits := currencyDigits(call.Currency)
	draft := p.Status == proposals.StatusDraft
	ev := &editorView{P: p, Call: call, CallTitle: call.Title.V.In(l, call.Languages.V), OrgName: org.Name, Rights: rights,
		CanEdit: draft && proposals.Includes(rights, proposals.RightEdit), CanSubmit: draft && proposals.Includes(rights, proposals.RightSubmit),
		CanManageTeam: proposals.Includes(rights, proposals.RightSubmit), Countries: countries, Notice: st.Notice,
		Deadline: s.roundDeadlineView(c, call, p.Round, d), Digits: digits, StatusText: s.Text.Translate(l, "proposal_status_"+p.Status, nil)}
	ev.ReadOnly = !ev.CanEdit
	if ev.Rounds, err = s.proposalRounds(c, call, p); err != nil {
		return err
	}
	ev.Withdrawable = p.Status == proposals.StatusSubmitted && ev.CanManageTeam && !ev.Deadline.Passed
	ev.AmountStep = "1"
	if digits > 0 {
		ev.AmountStep = "0." + strings.Repeat("0", digits-1) + "1"
	}
	if p.Status == proposals.StatusSubmitted {
		ev.Screening = true
		ev.ScreeningText = s.Text.Translate(l, "proposal_screening_"+p.Screening, nil)
		if ev.Reply, err = s.applicantReply(c, p, rights, st.Form); err != nil {
			return err
		}
	}
	for _, r := range proposals.RightsList {
		ev.RightsOptions = append(ev.RightsOptions, option{Code: r, Name: s.Text.Translate(l, "proposal_rights_"+r, nil)})
	}
	if ev.CanSubmit {
		ev.Key = newKey()
	}

	// What is missing, counted per section.
	missing := st.Incomplete
	if missing == nil && draft {
		if missing, err = s.Proposals.Missing(ctx, p); err != nil {
			return err
		}
	}
	perSection := map[string]int{}
	for _, e := range missing {
		sec := sectionOf(call, e.Field)
		perSection[sec]++
		ev.Missing = append(ev.Missing, problem{Field: e.Field, Message: s.proposalMessage(l, call, e),
			Href: "/proposals/" + p.ID + "?section=" + url.QueryEscape(sec) + "#f-" + e.Field})
	}

	// Sections: details, the call's sections of this round, the team.
	current := st.Section
	if current == "" {
		current = c.QueryParam("section")
	}
	link := func(id, title string) sectionLink {
		return sectionLink{ID: id, Title: title, Href: "/proposals/" + p.ID + "?section=" + url.QueryEscape(id), Missing: perSection[id]}
	}
	ev.Sections = append(ev.Sections, link(sectionDetails, s.Text.Translate(l, "proposal_section_details", nil)))
	var formSection *calls.Section
	for i, sec := range call.Form.V.Sections {
		if sec.Round > p.Round {
			continue
		}
		ev.Sections = append(ev.Sections, link(sec.ID, sec.Title.In(l, call.Languages.V)))
		if sec.ID == current {
			formSection = &call.Form.V.Sections[i]
		}
	}
	ev.Sections = append(ev.Sections, link(sectionTeam, s.Text.Translate(l, "proposal_section_team", nil)))
	if formSection == nil && current != sectionTeam {
		current = sectionDetails
	}
	for i := range ev.Sections {
		if ev.Sections[i].ID == current {
			ev.Sections[i].Current = true
			ev.SectionTitle = ev.Sections[i].Title
			if i+1 < len(ev.Sections) {
				ev.Next = ev.Sections[i+1].ID
			}
		}
	}
	ev.Section, ev.IsDetails, ev.IsTeam = current, current == sectionDetails, current == sectionTeam

	errs := st.Errs
	ev.Errs, ev.Problems = s.fieldMessages(l, call, errs, p.ID)
	form := st.Form
	sent := func(name string) ([]string, bool) {
		if form == nil {
			return nil, false
		}
		v, ok := form[name]
		return v, ok
	}

	switch {
	case ev.IsDetails:
		ev.Title, ev.Amount = p.Title, ""
		if p.RequestedMinor > 0 {
			ev.Amount = decimal(p.RequestedMinor, digits)
		}
		ev.AmountText = call.Money(p.RequestedMinor)
		if v, ok := sent("title"); ok && len(v) > 0 {
			ev.Title = v[0]
		}
		if v, ok := sent("requested_amount"); ok && len(v) > 0 {
			ev.Amount = v[0]
		}
		if _, ok := sent("partner_rows"); ok {
			n, _ := strconv.Atoi(form.Get("partner_rows"))
			for i := range min(max(n, 0), maxPartnerRows) {
				pre := fmt.Sprintf("partners.%d.", i)
				if form.Get(pre+"remove") != "" {
					continue
				}
				ev.Partners = append(ev.Partners, partnerRow{Index: i, Name: form.Get(pre + "name"), Country: form.Get(pre + "country"),
					OrganisationID: form.Get(pre + "organisation_id"), Lead: form.Get("partner_lead") == strconv.Itoa(i)})
			}
		} else {
			for i, pt := range p.Partners.V {
				ev.Partners = append(ev.Partners, partnerRow{Index: i, Name: pt.Name, Country: pt.Country, OrganisationID: pt.OrganisationID, Lead: pt.Lead})
			}
		}
		next := 0
		for i := range ev.Partners {
			r := &ev.Partners[i]
			r.Row = r.Index + 1
			r.NameErr = ev.Errs[fmt.Sprintf("partners.%d.name", r.Index)]
			r.CountryErr = ev.Errs[fmt.Sprintf("partners.%d.country", r.Index)]
			r.CountryName = optionName(countries, r.Country)
			next = max(next, r.Index+1)
		}
		ev.PartnerRows = next + 1
		if ev.CanEdit && len(ev.Partners) < 20 {
			// One empty row to add a partner without JavaScript.
			ev.Partners = append(ev.Partners, partnerRow{Index: next, Row: next + 1})
		}
	case ev.IsTeam:
		if ev.Members, err = s.Proposals.Members(ctx, p.ID); err != nil {
			return err
		}
	default:
		// Answers as shown: stored ones, with what was just sent on top, so
		// conditions follow what the person typed.
		answers := map[string]any{}
		for k, v := range p.Answers.V {
			answers[k] = v
		}
		for _, q := range formSection.Questions {
			if v, ok := sent("answers." + q.ID); ok {
				a, _ := parseAnswer(q, v, digits)
				answers[q.ID] = a
			}
		}
		files, err := s.Proposals.AttachmentsOf(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, q := range formSection.Questions {
			qv := answerField{ID: q.ID, Name: "answers." + q.ID, Kind: q.Kind, Label: q.Label.In(l, call.Languages.V),
				Help: q.Help.In(l, call.Languages.V), Required: q.Required, Hidden: !call.Form.V.Visible(q, answers),
				MaxWords: q.MaxWords, MaxChars: q.MaxChars, Digits: digits, Error: ev.Errs["answers."+q.ID],
				Value: inputValue(q, answers[q.ID], digits), Selected: map[string]bool{}, MaxFileMB: q.MaxFileMB,
				FileTypes: strings.Join(q.FileTypes, ", ")}
			if q.VisibleIf != nil {
				qv.CondQuestion, qv.CondValues = q.VisibleIf.Question, strings.Join(q.VisibleIf.Values, " ")
			}
			if v, ok := sent(qv.Name); ok && len(v) > 0 && q.Kind != calls.KindMultipleChoice {
				qv.Value = v[0] // exactly as typed, even when refused
			}
			for _, v := range stringsOf(answers[q.ID]) {
				qv.Selected[v] = true
			}
			for _, ch := range q.Choices {
				qv.Choices = append(qv.Choices, option{Code: ch.Value, Name: ch.Label.In(l, call.Languages.V)})
			}
			switch q.Kind {
			case calls.KindMoney:
				qv.Step = ev.AmountStep
			case calls.KindNumber:
				qv.Step = "any"
			case calls.KindFile:
				for _, f := range files {
					if f.QuestionID == q.ID {
						qv.Files = append(qv.Files, f)
					}
				}
			}
			qv.Display = s.proposalAnswerText(l, call, q, p.Answers.V[q.ID], countries)
			ev.Questions = append(ev.Questions, qv)
		}
	}
	pg := s.newPage(c, p.Title, ev)
	return s.render(c, status, "proposal_edit", pg)
}

// conflictRow is one field both editors changed.
type conflictRow struct {
	Field, Label, Yours, Theirs string
}

type hiddenField struct{ Name, Value string }

// conflictPage shows an edit that was based on an older version next to
// what is stored now, field by field, and lets the person choose what to
// keep; everything they sent rides along in hidden fields, so nothing
// typed is lost.
func (s *Server) conflictPage(c echo.Context, call *calls.Call, current *proposals.Proposal, in proposals.SaveInput, form url.Values) error {
	l := lang(c)
	countries, err := s.options(c.Request().Context(), "countries", "iso2", l)
	if err != nil {
		return err
	}
	var rows []conflictRow
	if in.Title != nil {
		rows = append(rows, conflictRow{Field: "title", Label: s.proposalLabel(l, call, "title"), Yours: *in.Title, Theirs: current.Title})
	}
	if in.RequestedMinor != nil {
		rows = append(rows, conflictRow{Field: "requested_minor", Label: s.proposalLabel(l, call, "requested_minor"),
			Yours: call.Money(*in.RequestedMinor), Theirs: call.Money(current.RequestedMinor)})
	}
	if in.Partners != nil {
		rows = append(rows, conflictRow{Field: "partners", Label: s.proposalLabel(l, call, "partners"),
			Yours: s.partnersText(l, *in.Partners, countries), Theirs: s.partnersText(l, current.Partners.V, countries)})
	}
	for _, q := range call.Form.V.Questions() {
		a, ok := in.Answers[q.ID]
		if !ok {
			continue
		}
		rows = append(rows, conflictRow{Field: "answers." + q.ID, Label: q.Label.In(l, call.Languages.V),
			Yours: s.proposalAnswerText(l, call, q, a, countries), Theirs: s.proposalAnswerText(l, call, q, current.Answers.V[q.ID], countries)})
	}
	var hidden []hiddenField
	names := make([]string, 0, len(form))
	for k := range form {
		if k != "version" && !strings.HasPrefix(k, "keep.") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range form[k] {
			hidden = append(hidden, hiddenField{Name: k, Value: v})
		}
	}
	var who string
	if current.UpdatedBy != "" {
		if u, err := s.Accounts.User(c.Request().Context(), current.UpdatedBy); err == nil {
			who = u.Name
		}
	}
	tz := currentVisitor(c).User.Timezone
	data := map[string]any{"P": current, "Rows": rows, "Hidden": hidden, "Version": current.Version, "Section": form.Get("section"),
		"Who": who, "When": fmtZone(current.UpdatedAt, tz)}
	pg := s.newPage(c, s.Text.Translate(l, "proposal_conflict_title", nil), data)
	return s.render(c, http.StatusConflict, "proposal_conflict", pg)
}

func (s *Server) partnersText(l string, ps []proposals.Partner, countries []option) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		t := p.Name + " (" + optionName(countries, p.Country) + ")"
		if p.Lead {
			t += " — " + s.Text.Translate(l, "proposal_partner_lead", nil)
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "; ")
}
