package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/gates"
	"facility/internal/validate"
)

// Call design for Facility managers (ISO 56002 8.3.2): the list of their
// facilities' calls, a new call's basics, the design page with its form
// builder, eligibility rules and criteria, a preview of the applicant form,
// and the G0 approval gate up to publication. Every change is a POST that
// loads the call, changes its calls.Input and saves it with the version the
// page was built from, so two managers never overwrite each other unseen.
// The builder forms live in calls_design_builder.go, the reading of form
// fields in calls_design_form.go and the error messages in
// calls_design_errors.go.

func (s *Server) callDesignRoutes() {
	e := s.echo
	e.GET("/manage/calls", s.manageCalls)
	e.GET("/manage/calls/new", s.newCallForm)
	e.POST("/manage/calls/new", s.createCall)
	e.GET("/manage/calls/:id", s.callDesignPage)
	e.GET("/manage/calls/:id/preview", s.callPreview)
	e.POST("/manage/calls/:id/basics", s.saveCallBasics)
	e.POST("/manage/calls/:id/submit", s.submitCallForApproval)
	e.POST("/manage/calls/:id/g0", s.decideCallG0)
	e.POST("/manage/calls/:id/publish", s.publishCall)
	s.callBuilderRoutes()
}

// managedFacilities are the facilities where the visitor may design calls
// (managers of them; administrators through their system grant).
func (s *Server) managedFacilities(c echo.Context) ([]option, error) {
	v := currentVisitor(c)
	all, err := s.options(c.Request().Context(), "thematic_facilities", "code", lang(c))
	if err != nil {
		return nil, err
	}
	var out []option
	for _, f := range all {
		ok, err := s.Authz.Allowed(v.User.ID, authz.FacilityDomain(f.Code), authz.ObjCall, authz.ActUpdate)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// designer returns the facilities the visitor manages, or an audited
// refusal when there are none.
func (s *Server) designer(c echo.Context) ([]option, error) {
	if _, err := signedIn(c); err != nil {
		return nil, err
	}
	fs, err := s.managedFacilities(c)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, s.deny(c, false, authz.KindSystem, authz.ObjCall, authz.ActUpdate)
	}
	return fs, nil
}

// managedCall loads a call the visitor may act on with act. Someone who may
// not even read the facility's calls gets 404 (they may not know the call
// exists); someone who may read but not do this gets 403. Both are audited.
func (s *Server) managedCall(c echo.Context, act string) (*calls.Call, error) {
	if _, err := signedIn(c); err != nil {
		return nil, err
	}
	call, err := s.Calls.Get(c.Request().Context(), c.Param("id"))
	if errors.Is(err, calls.ErrNotFound) {
		return nil, s.deny(c, true, authz.KindSystem, authz.ObjCall, act)
	}
	if err != nil {
		return nil, err
	}
	dom := authz.FacilityDomain(call.FacilityCode)
	if err := s.can(c, true, dom, authz.ObjCall, authz.ActRead); err != nil {
		return nil, err
	}
	if err := s.can(c, false, dom, authz.ObjCall, act); err != nil {
		return nil, err
	}
	return call, nil
}

// callError maps the calls domain's errors to HTTP for the pages.
func callError(err error) error {
	switch {
	case errors.Is(err, calls.ErrNotFound):
		return errNotFound
	case errors.Is(err, calls.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, "call_conflict")
	case errors.Is(err, calls.ErrWrongStatus):
		return echo.NewHTTPError(http.StatusConflict, "call_wrong_status")
	}
	return err
}

// g0Entry is one G0 decision as the pages show it.
type g0Entry struct {
	Gate, Decision, Reason, DecidedBy string
	By                                string // the decider's name
	CreatedAt                         time.Time
}

func (s *Server) g0History(ctx context.Context, callID string) ([]g0Entry, error) {
	list, err := gates.History(ctx, s.DB.Gorm, "call", callID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]g0Entry, 0, len(list))
	for _, d := range list {
		if d.Gate != "G0" {
			continue
		}
		if _, ok := names[d.DecidedBy]; !ok {
			names[d.DecidedBy] = d.DecidedBy
			if u, err := s.Accounts.User(ctx, d.DecidedBy); err == nil {
				names[d.DecidedBy] = u.Name
			}
		}
		out = append(out, g0Entry{Gate: d.Gate, Decision: d.Decision, Reason: d.Reason, DecidedBy: d.DecidedBy,
			By: names[d.DecidedBy], CreatedAt: d.CreatedAt})
	}
	return out, nil
}

// callRow is one call on the managers' list.
type callRow struct {
	Call     calls.Call
	Title    string
	Facility string
	History  []g0Entry
}

func (s *Server) manageCalls(c echo.Context) error {
	fs, err := s.designer(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	codes := make([]string, len(fs))
	for i, f := range fs {
		codes[i] = f.Code
	}
	list, err := s.Calls.ForFacilities(ctx, codes)
	if err != nil {
		return err
	}
	rows := make([]callRow, 0, len(list))
	for _, cl := range list {
		h, err := s.g0History(ctx, cl.ID)
		if err != nil {
			return err
		}
		rows = append(rows, callRow{Call: cl, Title: cl.Title.V.In(lang(c), cl.Languages.V), Facility: optionName(fs, cl.FacilityCode), History: h})
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "calls_manage_title", nil), map[string]any{"Calls": rows})
	return s.render(c, http.StatusOK, "manage_calls", p)
}

// designView is what the design pages show.
type designView struct {
	Call     *calls.Call // nil on the new-call page
	Input    calls.Input // the stored design, as a manager writes it
	Editable bool
	// Sent names the form that was refused, Form what it carried: that form
	// is refilled with it and nothing typed is lost.
	Sent        string
	Form        url.Values
	Problems    []designProblem
	Conflict    bool
	WrongStatus bool
	Facilities  []option
	Facility    string
	Regions     []option
	Countries   []option
	OrgTypes    []option
	Indicators  []option
	Timezones   []string
	Currencies  []string
	Languages   []string
	Kinds       []string
	FileTypes   []string
	History     []g0Entry
	Decisions   []string
	Origins     []string
	Scopes      []string
	Answers     []string
	ListRules   []string // rule kinds whose values come from a list
	// The question page.
	Section  *calls.Section
	Question *calls.Question
	Action   string // where the question form goes
	// Lang is the language texts of the design are shown in.
	Lang string
	t    func(id string, data map[string]any) string
}

// Val is a field's value: what was sent if form is the refused one, else stored.
func (d *designView) Val(form, field, stored string) string {
	if d.Sent == form {
		return d.Form.Get(field)
	}
	return stored
}

// Checked says whether a checkbox or option is on.
func (d *designView) Checked(form, field, value string, stored bool) bool {
	if d.Sent == form {
		return slices.Contains(d.Form[field], value)
	}
	return stored
}

// Err is the message for an input of a form, or "".
func (d *designView) Err(form, input string) string {
	for _, p := range d.Problems {
		if p.Form == form && p.Input == input {
			return p.Short
		}
	}
	return ""
}

// ID is an input's element id on a page with several forms.
func (d *designView) ID(form, input string) string { return "f-" + form + "-" + input }

// Has reports whether list contains v (for stored multi-selects).
func (d *designView) Has(list []string, v string) bool { return slices.Contains(list, v) }

// Text reads a text in a language (stored values of multilingual fields).
func (d *designView) Text(t calls.Text, l string) string { return t[l] }

// Money shows minor units as a decimal amount for an input.
// A new call's amounts start empty.
func (d *designView) Money(minor int64) string {
	if d.Call == nil {
		return ""
	}
	return moneyInput(minor, d.Input.Currency)
}

// Float shows an optional number for an input.
func (d *designView) Float(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// Num shows a number for an input.
func (d *designView) Num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// designData fills the lists every design page needs.
func (s *Server) designData(c echo.Context, call *calls.Call) (*designView, error) {
	ctx, l := c.Request().Context(), lang(c)
	d := &designView{Call: call, Form: url.Values{}, Timezones: callTimezones, Currencies: calls.Currencies, Lang: l,
		t:         func(id string, data map[string]any) string { return s.Text.Translate(l, id, data) },
		Languages: []string{"en", "fr", "es"}, Kinds: calls.QuestionKinds, FileTypes: calls.FileTypes, Decisions: gates.Decisions["G0"],
		Origins: []string{"external", "internal"}, Scopes: []string{"global", "regional", "national"}, Answers: []string{"yes", "no"},
		ListRules: []string{calls.RuleOrgType, calls.RuleCountry, calls.RuleRegion}}
	var err error
	if d.Facilities, err = s.managedFacilities(c); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		into       *[]option
		table, key string
	}{{&d.Regions, "ilo_regions", "code"}, {&d.Countries, "countries", "iso2"}, {&d.OrgTypes, "organisation_types", "code"}, {&d.Indicators, "indicators", "code"}} {
		if *t.into, err = s.options(ctx, t.table, t.key, l); err != nil {
			return nil, err
		}
	}
	for i, o := range d.Indicators {
		d.Indicators[i].Name = o.Code + " – " + o.Name
	}
	if call != nil {
		d.Input = inputOf(call)
		d.Editable = call.Status == calls.StatusDraft
		all, err := s.options(ctx, "thematic_facilities", "code", l)
		if err != nil {
			return nil, err
		}
		d.Facility = optionName(all, call.FacilityCode)
		if d.History, err = s.g0History(ctx, call.ID); err != nil {
			return nil, err
		}
		if !slices.Contains(d.Timezones, call.Timezone) {
			d.Timezones = append([]string{call.Timezone}, d.Timezones...)
		}
	} else {
		d.Input = calls.Input{Languages: []string{"en"}, Timezone: "UTC", Currency: "USD", Origin: "external", Scope: "global"}
	}
	return d, nil
}

func (s *Server) newCallForm(c echo.Context) error {
	if _, err := s.designer(c); err != nil {
		return err
	}
	d, err := s.designData(c, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "manage_call_new", s.newPage(c, s.Text.Translate(lang(c), "calls_new_title", nil), d))
}

func (s *Server) createCall(c echo.Context) error {
	fs, err := s.designer(c)
	if err != nil {
		return err
	}
	in := calls.Input{FacilityCode: c.FormValue("facility")}
	perrs := readBasics(c, &in)
	if in.FacilityCode != "" && !slices.ContainsFunc(fs, func(o option) bool { return o.Code == in.FacilityCode }) {
		if s.knownFacility(c, in.FacilityCode) {
			return s.deny(c, false, authz.FacilityDomain(in.FacilityCode), authz.ObjCall, authz.ActCreate)
		}
		perrs.Add("facility", "not_allowed", nil)
	}
	var call *calls.Call
	if len(perrs) > 0 {
		err = s.mergeCheck(c, &in, perrs)
	} else {
		call, err = s.Calls.Create(c.Request().Context(), actor(c), in)
	}
	if fe, ok := validate.As(err); ok {
		d, derr := s.designData(c, nil)
		if derr != nil {
			return derr
		}
		d.Sent, d.Form = "basics", formValues(c)
		d.Problems = s.designProblems(lang(c), &in, fe, "basics", "")
		return s.render(c, http.StatusUnprocessableEntity, "manage_call_new", s.newPage(c, s.Text.Translate(lang(c), "calls_new_title", nil), d))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, "/manage/calls/"+call.ID, "call_created")
}

func (s *Server) knownFacility(c echo.Context, code string) bool {
	all, err := s.options(c.Request().Context(), "thematic_facilities", "code", "en")
	return err == nil && slices.ContainsFunc(all, func(o option) bool { return o.Code == code })
}

// mergeCheck runs the domain's checks on in, so a form with unreadable
// fields still reports every other problem at once; the form's own
// complaints replace the domain's for the same field.
func (s *Server) mergeCheck(c echo.Context, in *calls.Input, perrs validate.Errors) error {
	_, _, errs := s.Calls.Check(c.Request().Context(), in)
	// Complaints that only follow from an unreadable amount are left out.
	follows := map[string]string{"grant_above_budget": "budget_minor", "max_below_min": "min_grant_minor"}
	out := slices.Clone(perrs)
	for _, e := range errs {
		if !perrs.Has(e.Field) && !perrs.Has(follows[e.Code]) {
			out = append(out, e)
		}
	}
	return out
}

// designPage renders the design page, possibly after a refused form.
func (s *Server) designPage(c echo.Context, status int, call *calls.Call, prepare func(*designView)) error {
	d, err := s.designData(c, call)
	if err != nil {
		return err
	}
	if prepare != nil {
		prepare(d)
	}
	title := call.Reference + " · " + call.Title.V.In(lang(c), call.Languages.V)
	return s.render(c, status, "manage_call", s.newPage(c, title, d))
}

func (s *Server) callDesignPage(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	return s.designPage(c, http.StatusOK, call, nil)
}

// refused re-renders the page a refused change came from: input errors
// next to their fields, a conflict or a wrong status as a message, and the
// submitted values kept.
func (s *Server) refused(c echo.Context, err error, in *calls.Input, form, prefix string,
	render func(status int, call *calls.Call, prepare func(*designView)) error) error {
	fe, invalid := validate.As(err)
	conflict, wrong := errors.Is(err, calls.ErrConflict), errors.Is(err, calls.ErrWrongStatus)
	if !invalid && !conflict && !wrong {
		return callError(err)
	}
	// Reload: the page shows the call as it is now.
	call, gerr := s.Calls.Get(c.Request().Context(), c.Param("id"))
	if gerr != nil {
		return callError(gerr)
	}
	status := http.StatusUnprocessableEntity
	if conflict || wrong {
		status = http.StatusConflict
	}
	return render(status, call, func(d *designView) {
		d.Sent, d.Form, d.Conflict, d.WrongStatus = form, formValues(c), conflict, wrong
		if invalid {
			d.Problems = s.designProblems(lang(c), in, fe, form, prefix)
		}
	})
}

// formVersion is the version of the call the submitted form was built from.
func formVersion(c echo.Context) int {
	n, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return -1 // never a stored version: answered as a conflict
	}
	return n
}

func (s *Server) saveCallBasics(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	in := inputOf(call)
	perrs := readBasics(c, &in)
	if len(perrs) > 0 {
		err = s.mergeCheck(c, &in, perrs)
	} else {
		_, err = s.Calls.Update(c.Request().Context(), actor(c), call.ID, formVersion(c), in)
	}
	if err != nil {
		return s.refused(c, err, &in, "basics", "", func(status int, call *calls.Call, prepare func(*designView)) error {
			return s.designPage(c, status, call, prepare)
		})
	}
	return redirectWithFlash(c, "/manage/calls/"+call.ID+"#basics", "call_saved")
}

// workflow runs a G0 step from the design page.
func (s *Server) workflow(c echo.Context, act, form, prefix, flash string, step func(*calls.Call) error) error {
	call, err := s.managedCall(c, act)
	if err != nil {
		return err
	}
	if err := step(call); err != nil {
		in := inputOf(call)
		return s.refused(c, err, &in, form, prefix, func(status int, call *calls.Call, prepare func(*designView)) error {
			return s.designPage(c, status, call, prepare)
		})
	}
	return redirectWithFlash(c, "/manage/calls/"+call.ID+"#workflow", flash)
}

func (s *Server) submitCallForApproval(c echo.Context) error {
	return s.workflow(c, authz.ActSubmit, "submit", "-", "call_submitted", func(call *calls.Call) error {
		return s.Calls.SubmitForApproval(c.Request().Context(), actor(c), call.ID)
	})
}

func (s *Server) decideCallG0(c echo.Context) error {
	return s.workflow(c, authz.ActDecide, "g0", "", "call_decided", func(call *calls.Call) error {
		return s.Calls.DecideG0(c.Request().Context(), actor(c), call.ID, c.FormValue("decision"), c.FormValue("reason"))
	})
}

func (s *Server) publishCall(c echo.Context) error {
	return s.workflow(c, authz.ActPublish, "publish", "-", "call_published", func(call *calls.Call) error {
		return s.Calls.Publish(c.Request().Context(), actor(c), call.ID)
	})
}

// previewQuestion is a question of the preview with what shows it.
type previewQuestion struct {
	calls.Question
	Label, Help string
	Files       string // allowed file types, for reading
	Choices     []option
	// Condition explains a conditional question: the question it depends on
	// and the answers that show it.
	ConditionLabel  string
	ConditionValues []string
}

type previewSection struct {
	ID, Title string
	Round     int
	Questions []previewQuestion
}

func (s *Server) callPreview(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	d, err := s.designData(c, call)
	if err != nil {
		return err
	}
	// The preview speaks the reader's language if the call does, else the
	// call's first; ?lang= picks another of the call's languages.
	d.Lang = lang(c)
	if q := c.QueryParam("lang"); call.Speaks(q) {
		d.Lang = q
	} else if !call.Speaks(d.Lang) && len(call.Languages.V) > 0 {
		d.Lang = call.Languages.V[0]
	}
	fb := call.Languages.V
	form := call.Form.V
	var sections []previewSection
	for _, sec := range form.Sections {
		ps := previewSection{ID: sec.ID, Title: sec.Title.In(d.Lang, fb), Round: sec.Round}
		for _, q := range sec.Questions {
			pq := previewQuestion{Question: q, Label: q.Label.In(d.Lang, fb), Help: q.Help.In(d.Lang, fb), Files: strings.Join(q.FileTypes, ", ")}
			for _, ch := range q.Choices {
				pq.Choices = append(pq.Choices, option{Code: ch.Value, Name: ch.Label.In(d.Lang, fb)})
			}
			if q.VisibleIf != nil {
				src, _ := form.Question(q.VisibleIf.Question)
				pq.ConditionLabel = src.Label.In(d.Lang, fb)
				for _, v := range q.VisibleIf.Values {
					name := v
					switch {
					case src.Kind == calls.KindYesNo:
						name = s.Text.Translate(d.Lang, "calls_answer_"+v, nil)
					default:
						for _, ch := range src.Choices {
							if ch.Value == v {
								name = ch.Label.In(d.Lang, fb)
							}
						}
					}
					pq.ConditionValues = append(pq.ConditionValues, name)
				}
			}
			ps.Questions = append(ps.Questions, pq)
		}
		sections = append(sections, ps)
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "calls_preview_title", nil), map[string]any{"D": d, "Sections": sections,
		"Title": call.Title.V.In(d.Lang, fb), "Challenge": call.Challenge.V.In(d.Lang, fb)})
	return s.render(c, http.StatusOK, "manage_preview", p)
}

// callTimezones are the zones offered for a call's timeline: UTC and the
// places the Facility's calls are usually run from (Geneva is Europe/Zurich
// in the timezone database).
var callTimezones = []string{"UTC", "Europe/Zurich", "Europe/Brussels", "Europe/Budapest", "Europe/Moscow", "Europe/Rome", "Europe/Paris",
	"Africa/Abidjan", "Africa/Accra", "Africa/Addis_Ababa", "Africa/Cairo", "Africa/Dakar", "Africa/Dar_es_Salaam", "Africa/Johannesburg",
	"Africa/Kinshasa", "Africa/Lagos", "Africa/Nairobi", "Africa/Yaounde", "America/Argentina/Buenos_Aires", "America/Bogota",
	"America/Costa_Rica", "America/Lima", "America/Mexico_City", "America/New_York", "America/Port_of_Spain", "America/Santiago",
	"America/Sao_Paulo", "Asia/Bangkok", "Asia/Beirut", "Asia/Dhaka", "Asia/Jakarta", "Asia/Karachi", "Asia/Kathmandu", "Asia/Kolkata",
	"Asia/Manila", "Asia/Shanghai", "Asia/Tokyo", "Pacific/Fiji"}

// inputOf is a stored call as a manager writes it: times back in the
// call's own timezone.
func inputOf(c *calls.Call) calls.Input {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	const layout = "2006-01-02T15:04"
	in := calls.Input{FacilityCode: c.FacilityCode, Origin: c.Origin, Scope: c.Scope, Languages: slices.Clone(c.Languages.V),
		Title: c.Title.V, Challenge: c.Challenge.V, TwoRound: c.TwoRound, Opens: c.OpensAt.In(loc).Format(layout),
		Closes: c.ClosesAt.In(loc).Format(layout), Timezone: c.Timezone, GraceMinutes: c.GraceMinutes, Currency: c.Currency,
		BudgetMinor: c.BudgetMinor, MinGrantMinor: c.MinGrantMinor, MaxGrantMinor: c.MaxGrantMinor,
		Regions: slices.Clone(c.Regions.V), Countries: slices.Clone(c.Countries.V), OrgTypes: slices.Clone(c.OrgTypes.V),
		Indicators: slices.Clone(c.Indicators.V), Donors: slices.Clone(c.Donors.V), Form: c.Form.V,
		Eligibility: slices.Clone(c.Eligibility.V), Criteria: slices.Clone(c.Criteria.V)}
	if c.FullProposalClosesAt != nil {
		in.FullProposalCloses = c.FullProposalClosesAt.In(loc).Format(layout)
	}
	return in
}

// inputState is one text input of a design form, for the "manage_input" block.
type inputState struct {
	ID, Name, Kind, Label, Value, Err string
}

// In describes an input of form: its value (sent or stored) and its error.
// kind is an input type, or "textarea".
func (d *designView) In(form, name, kind, label, stored string) inputState {
	return inputState{ID: d.ID(form, name), Name: name, Kind: kind, Label: label, Value: d.Val(form, name, stored), Err: d.Err(form, name)}
}

// multiState is a multiple select of a design form, for "manage_multi".
type multiState struct {
	ID, Name, Label, Err string
	Options              []selectable
}

type selectable struct {
	Code, Name string
	Selected   bool
}

// Multi describes a multiple select of form with its options and choices.
func (d *designView) Multi(form, name, label string, opts []option, stored []string) multiState {
	m := multiState{ID: d.ID(form, name), Name: name, Label: label, Err: d.Err(form, name)}
	for _, o := range opts {
		m.Options = append(m.Options, selectable{Code: o.Code, Name: o.Name, Selected: d.Checked(form, name, o.Code, slices.Contains(stored, o.Code))})
	}
	return m
}

// Lines shows a list one item a line, for a textarea.
func (d *designView) Lines(list []string) string { return strings.Join(list, "\n") }

// N counts from one.
func (d *designView) N(i int) int { return i + 1 }

// Tr shows a text of the design in the page's language, else the call's.
func (d *designView) Tr(t calls.Text) string { return t.In(d.Lang, d.Input.Languages) }

// QuestionLabel is the label of question id, or id.
func (d *designView) QuestionLabel(id string) string {
	if q, ok := d.Input.Form.Question(id); ok {
		return d.Tr(q.Label)
	}
	return id
}

// YesNoQuestions are the questions a yes/no eligibility rule may look at.
func (d *designView) YesNoQuestions() []calls.Question {
	var out []calls.Question
	for _, q := range d.Input.Form.Questions() {
		if q.Kind == calls.KindYesNo {
			out = append(out, q)
		}
	}
	return out
}

// RuleText describes an eligibility rule in words.
func (d *designView) RuleText(r calls.Rule) string {
	names := func(opts []option) string {
		out := make([]string, 0, len(r.Values))
		for _, v := range r.Values {
			out = append(out, optionName(opts, v))
		}
		return strings.Join(out, ", ")
	}
	data := map[string]any{}
	switch r.Kind {
	case calls.RuleOrgType:
		data["Values"] = names(d.OrgTypes)
	case calls.RuleCountry:
		data["Values"] = names(d.Countries)
	case calls.RuleRegion:
		data["Values"] = names(d.Regions)
	case calls.RuleOrgAge:
		data["Years"] = r.MinYears
	case calls.RuleAmount:
		data["Min"], data["Max"] = calls.FormatMoney(d.Input.MinGrantMinor, d.Input.Currency), calls.FormatMoney(d.Input.MaxGrantMinor, d.Input.Currency)
	case calls.RuleYesNo:
		data["Question"], data["Expect"] = d.QuestionLabel(r.Question), d.t("calls_answer_"+r.Expect, nil)
	}
	return d.t("calls_rule_"+r.Kind, data)
}

// Amount shows money for reading.
func (d *designView) Amount(minor int64) string { return calls.FormatMoney(minor, d.Input.Currency) }

// BlankCriterion starts the form of a new criterion.
func (d *designView) BlankCriterion() calls.Criterion {
	return calls.Criterion{Weight: 1, ScaleMin: 0, ScaleMax: 5, Step: 1}
}

// CriterionInputs are the inputs of a criterion's form.
func (d *designView) CriterionInputs(form string, cr calls.Criterion) []inputState {
	out := []inputState{d.In(form, "id", "text", d.t("calls_field_id", nil), cr.ID)}
	for _, l := range d.Input.Languages {
		in := d.t("calls_language_"+l, nil)
		out = append(out, d.In(form, "name."+l, "text", d.t("calls_field_name", nil)+" ("+in+")", cr.Name[l]))
	}
	for _, l := range d.Input.Languages {
		in := d.t("calls_language_"+l, nil)
		out = append(out, d.In(form, "description."+l, "textarea", d.t("calls_field_description", nil)+" ("+in+")", cr.Description[l]))
	}
	return append(out, d.In(form, "weight", "decimal", d.t("calls_field_weight", nil), d.Num(cr.Weight)),
		d.In(form, "scale_min", "decimal", d.t("calls_field_scale_min", nil), d.Num(cr.ScaleMin)),
		d.In(form, "scale_max", "decimal", d.t("calls_field_scale_max", nil), d.Num(cr.ScaleMax)),
		d.In(form, "step", "decimal", d.t("calls_field_step", nil), d.Num(cr.Step)),
		d.In(form, "threshold", "decimal", d.t("calls_field_threshold", nil), d.Float(cr.Threshold)))
}
