package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/gates"
	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/validate"
)

// Screening (G1): the manager's queue of a call's submitted proposals with
// their automatic eligibility results, bulk and single decisions, the
// read-only view of a proposal, and individual deadline extensions.

func (s *Server) screeningRoutes() {
	e := s.echo
	e.GET("/manage/calls/:id/proposals", s.screeningQueuePage)
	e.POST("/manage/calls/:id/screening", s.screeningBulk)
	e.GET("/manage/proposals/:id", s.screeningProposalPage)
	e.POST("/manage/proposals/:id/screening", s.screeningDecideOne)
	e.POST("/manage/proposals/:id/extension", s.screeningExtend)
	s.screeningReplyRoutes()
}

func (s *Server) apiScreeningRoutes(g *echo.Group) {
	g.GET("/manage/calls/:id/proposals", s.apiScreeningQueue)
	g.POST("/manage/calls/:id/screening", s.apiScreeningDecide)
	g.GET("/manage/proposals/:id", s.apiScreeningProposal)
	g.GET("/manage/proposals/:id/gates", s.apiScreeningGates)
	g.POST("/manage/proposals/:id/extension", s.apiScreeningExtension)
	s.apiScreeningReplyRoutes(g)
}

// screeningAccess lets managers of the facility decide, and people who read
// every proposal there (auditors, administrators) look. Anyone who does not
// know the facility's calls gets 404; those who do but may not screen
// (evaluators, mentors) get 403: these are manager endpoints. Both are
// audited.
func (s *Server) screeningAccess(c echo.Context, facility string, decide bool) error {
	dom := authz.FacilityDomain(facility)
	if err := s.can(c, true, dom, authz.ObjCall, authz.ActRead); err != nil {
		return err
	}
	if !decide {
		readAll, err := s.Authz.Allowed(currentVisitor(c).User.ID, dom, authz.ObjProposal, authz.ActRead)
		if err != nil || readAll {
			return err
		}
	}
	return s.can(c, false, dom, authz.ObjProposal, authz.ActScreen)
}

// screeningError turns the domain's "does not exist" into a 404.
func screeningError(err error) error {
	if errors.Is(err, calls.ErrNotFound) || errors.Is(err, proposals.ErrNotFound) || errors.Is(err, screening.ErrNotFound) {
		return errNotFound
	}
	return err
}

// screeningCall loads the call in the path and checks access to its proposals.
func (s *Server) screeningCall(c echo.Context, decide bool) (*calls.Call, error) {
	if _, err := signedIn(c); err != nil {
		return nil, err
	}
	call, err := s.Calls.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, screeningError(err)
	}
	if err := s.screeningAccess(c, call.FacilityCode, decide); err != nil {
		return nil, err
	}
	return call, nil
}

// screeningProposal loads the proposal in the path, its call, and checks access.
func (s *Server) screeningProposal(c echo.Context, decide bool) (*proposals.Proposal, *calls.Call, error) {
	if _, err := signedIn(c); err != nil {
		return nil, nil, err
	}
	ctx := c.Request().Context()
	p, err := s.Proposals.Get(ctx, c.Param("id"))
	if err != nil {
		return nil, nil, screeningError(err)
	}
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return nil, nil, screeningError(err)
	}
	if err := s.screeningAccess(c, call.FacilityCode, decide); err != nil {
		return nil, nil, err
	}
	return p, call, nil
}

// screeningCanDecide reports, without auditing, whether the visitor may decide.
func (s *Server) screeningCanDecide(c echo.Context, call *calls.Call) (bool, error) {
	return s.Authz.Allowed(currentVisitor(c).User.ID, authz.FacilityDomain(call.FacilityCode), authz.ObjProposal, authz.ActScreen)
}

// screeningNames are reference names in the reader's language.
type screeningNames struct {
	types, countries, regions map[string]string
}

func (s *Server) screeningNames(ctx context.Context, lang string) (screeningNames, error) {
	var n screeningNames
	for _, t := range []struct {
		table, key string
		into       *map[string]string
	}{{"organisation_types", "code", &n.types}, {"countries", "iso2", &n.countries}, {"ilo_regions", "code", &n.regions}} {
		opts, err := s.options(ctx, t.table, t.key, lang)
		if err != nil {
			return n, err
		}
		m := make(map[string]string, len(opts))
		for _, o := range opts {
			m[o.Code] = o.Name
		}
		*t.into = m
	}
	return n, nil
}

func (n screeningNames) name(m map[string]string, code string) string {
	if v, ok := m[code]; ok {
		return v
	}
	return code
}

// screeningNumber reads a number from JSON-decoded parameters.
func screeningNumber(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int:
		return int64(x)
	case int64:
		return x
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

// outcomeText puts an automatic eligibility result in words, in lang.
func (s *Server) outcomeText(lang string, call *calls.Call, o calls.Outcome, n screeningNames) string {
	data := map[string]any{}
	for k, v := range o.Params {
		data[k] = v
	}
	switch o.Rule.Kind {
	case calls.RuleOrgType:
		data["Value"] = n.name(n.types, fmt.Sprint(o.Params["Value"]))
	case calls.RuleCountry:
		data["Value"] = n.name(n.countries, fmt.Sprint(o.Params["Value"]))
	case calls.RuleRegion:
		data["Value"] = n.name(n.regions, fmt.Sprint(o.Params["Value"]))
	case calls.RuleAmount:
		for _, k := range []string{"Requested", "Min", "Max"} {
			data[k] = call.Money(screeningNumber(o.Params[k]))
		}
	case calls.RuleYesNo:
		qid := fmt.Sprint(o.Params["Question"])
		if q, ok := call.Form.V.Question(qid); ok {
			data["Question"] = q.Label.In(lang, call.Languages.V)
		}
		data["Expect"] = s.Text.Translate(lang, "screening_answer_"+fmt.Sprint(o.Params["Expect"]), nil)
	}
	suffix := "_failed"
	if o.Passed {
		suffix = "_passed"
	}
	return s.Text.Translate(lang, o.Reason+suffix, data)
}

// screeningOutcome is a result in words.
type screeningOutcome struct {
	Kind    string `json:"kind"`
	Passed  bool   `json:"passed"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (s *Server) outcomes(lang string, call *calls.Call, os []calls.Outcome, n screeningNames) []screeningOutcome {
	out := make([]screeningOutcome, 0, len(os))
	for _, o := range os {
		out = append(out, screeningOutcome{Kind: o.Rule.Kind, Passed: o.Passed, Reason: o.Reason, Message: s.outcomeText(lang, call, o, n)})
	}
	return out
}

// screeningRow is one proposal in the queue or the drafts list.
type screeningRow struct {
	ID           string             `json:"id"`
	Title        string             `json:"title"`
	Round        int                `json:"round"`
	Language     string             `json:"language"`
	Organisation string             `json:"organisation"`
	Country      string             `json:"country"`
	Type         string             `json:"organisation_type"`
	Requested    int64              `json:"requested_minor"`
	Amount       string             `json:"requested"`
	Status       string             `json:"status"`
	SubmittedAt  *time.Time         `json:"submitted_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
	Deadline     time.Time          `json:"deadline"`
	Extended     bool               `json:"extended"`
	Receipt      string             `json:"receipt_number"`
	AutoEligible bool               `json:"auto_eligible"`
	Outcomes     []screeningOutcome `json:"eligibility"`
	Screening    string             `json:"screening"`
	Reason       string             `json:"screening_reason"`
	// RepliedAt: pending again because the applicant answered a request.
	RepliedAt *time.Time `json:"replied_at"`
}

func (s *Server) screeningRows(lang string, call *calls.Call, es []screening.Entry, n screeningNames) []screeningRow {
	out := make([]screeningRow, 0, len(es))
	for _, e := range es {
		p := e.Proposal
		out = append(out, screeningRow{ID: p.ID, Title: p.Title, Round: p.Round, Language: p.Language, Organisation: e.Organisation.Name,
			Country: n.name(n.countries, e.Organisation.CountryIso2), Type: n.name(n.types, e.Organisation.TypeCode),
			Requested: p.RequestedMinor, Amount: call.Money(p.RequestedMinor), Status: p.Status, SubmittedAt: p.SubmittedAt,
			UpdatedAt: p.UpdatedAt, Deadline: e.Deadline, Extended: e.Deadline.After(call.RoundDeadline(p.Round)), Receipt: p.ReceiptNumber,
			AutoEligible: e.AutoEligible, Outcomes: s.outcomes(lang, call, p.Eligibility.V, n), Screening: p.Screening,
			Reason: p.ScreeningReason, RepliedAt: e.RepliedAt})
	}
	return out
}

// screeningQueueView is what the queue page shows.
type screeningQueueView struct {
	Call      *calls.Call
	CallTitle string
	Filter    string
	Filters   []string
	Rows      []screeningRow
	Drafts    []screeningRow
	CanDecide bool
	Selected  map[string]bool
	Decisions []string
	// Rounds: the call's full-proposal deadline and the invitation form.
	Rounds *roundsInfo
}

func (s *Server) screeningQueueView(c echo.Context, call *calls.Call, filter string) (*screeningQueueView, error) {
	ctx, l := c.Request().Context(), lang(c)
	es, err := s.Screening.Queue(ctx, call.ID, filter)
	if err != nil {
		return nil, err
	}
	drafts, err := s.Screening.Drafts(ctx, call.ID)
	if err != nil {
		return nil, err
	}
	n, err := s.screeningNames(ctx, l)
	if err != nil {
		return nil, err
	}
	v := &screeningQueueView{Call: call, CallTitle: call.Title.V.In(l, call.Languages.V), Filter: filter, Filters: screening.Filters,
		Rows: s.screeningRows(l, call, es, n), Drafts: s.screeningRows(l, call, drafts, n), Selected: map[string]bool{},
		Decisions: gates.Decisions[screening.Gate]}
	if v.CanDecide, err = s.screeningCanDecide(c, call); err != nil {
		return nil, err
	}
	v.Rounds = s.callRounds(c, call, nil, nil)
	v.Rounds.CanInvite = v.CanDecide && call.TwoRound && v.Rounds.FullOpen
	return v, nil
}

func (s *Server) screeningQueuePage(c echo.Context) error {
	call, err := s.screeningCall(c, false)
	if err != nil {
		return err
	}
	v, err := s.screeningQueueView(c, call, c.QueryParam("screening"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "screening_queue", s.newPage(c, s.Text.Translate(lang(c), "screening_queue_title", nil), v))
}

func (s *Server) screeningBulk(c echo.Context) error {
	call, err := s.screeningCall(c, true)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	ids := form["proposal_ids"]
	err = s.Screening.Decide(c.Request().Context(), actor(c), call.ID, ids, c.FormValue("decision"), c.FormValue("reason"), lang(c))
	if fe, ok := validate.As(err); ok {
		v, verr := s.screeningQueueView(c, call, "")
		if verr != nil {
			return verr
		}
		for _, id := range ids {
			v.Selected[id] = true
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "screening_queue_title", nil), v)
		p.Errors, p.Form = fe, formValues(c)
		return s.render(c, http.StatusUnprocessableEntity, "screening_queue", p)
	}
	if err != nil {
		return screeningError(err)
	}
	return redirectWithFlash(c, "/manage/calls/"+call.ID+"/proposals", "screening_decided")
}

// screeningAnswer is one answered question, labelled in the proposal's language.
type screeningAnswer struct {
	ID         string
	Label      string
	Paragraphs []string
	Files      []proposals.Attachment
}

type screeningSection struct {
	Title   string
	Answers []screeningAnswer
}

// screeningDecisionRow is a G1 record with the decider's name.
type screeningDecisionRow struct {
	gates.Decision
	DecidedByName string
}

type screeningExtensionRow struct {
	screening.Extension
	GrantedByName string
}

// screeningProposalView is what the manager's proposal page shows.
type screeningProposalView struct {
	Call        *calls.Call
	CallTitle   string
	P           *proposals.Proposal
	Row         screeningRow
	Sections    []screeningSection
	Partners    []proposals.Partner
	CountryName map[string]string
	Members     []proposals.Member
	Attachments []proposals.Attachment
	History     []screeningDecisionRow
	Extensions  []screeningExtensionRow
	CanDecide   bool
	CanExtend   bool
	Decisions   []string
	// ExtensionTimezone is the call's timezone, in which the new closing time is read.
	ExtensionTimezone string
	// Rounds: the proposal's round, its submitted rounds, the invitation form.
	Rounds *roundsInfo

	// Conversation: requests for more information and the answers.
	Conversation []conversationLine
}

// answerText renders an answer for reading, in the proposal's language.
func (s *Server) answerText(call *calls.Call, q calls.Question, a any, lang string, n screeningNames) string {
	label := func(v string) string {
		for _, ch := range q.Choices {
			if ch.Value == v {
				return ch.Label.In(lang, call.Languages.V)
			}
		}
		return v
	}
	switch q.Kind {
	case calls.KindYesNo:
		yes := a == true || a == "yes"
		if yes {
			return s.Text.Translate(lang, "screening_answer_yes", nil)
		}
		return s.Text.Translate(lang, "screening_answer_no", nil)
	case calls.KindMoney:
		return call.Money(screeningNumber(a))
	case calls.KindCountry:
		return n.name(n.countries, fmt.Sprint(a))
	case calls.KindSingleChoice:
		return label(fmt.Sprint(a))
	case calls.KindMultipleChoice:
		var parts []string
		if vs, ok := a.([]any); ok {
			for _, v := range vs {
				parts = append(parts, label(fmt.Sprint(v)))
			}
		}
		return strings.Join(parts, ", ")
	}
	if f, ok := a.(float64); ok {
		return fmt.Sprint(f)
	}
	return fmt.Sprint(a)
}

func (s *Server) screeningProposalData(c echo.Context, p *proposals.Proposal, call *calls.Call) (*screeningProposalView, error) {
	ctx, l := c.Request().Context(), lang(c)
	view, err := s.Screening.Proposal(ctx, p)
	if err != nil {
		return nil, err
	}
	n, err := s.screeningNames(ctx, l)
	if err != nil {
		return nil, err
	}
	v := &screeningProposalView{Call: call, CallTitle: call.Title.V.In(l, call.Languages.V), P: p,
		Row: s.screeningRows(l, call, []screening.Entry{view.Entry}, n)[0], Partners: p.Partners.V, CountryName: n.countries,
		Members: view.Members, Attachments: view.Attachments, Decisions: gates.Decisions[screening.Gate], ExtensionTimezone: call.Timezone}
	// Answers and labels in the proposal's language; names of countries
	// and choices too, so the manager reads what the applicant wrote.
	pn := n
	if p.Language != l {
		if pn, err = s.screeningNames(ctx, p.Language); err != nil {
			return nil, err
		}
	}
	for _, sec := range call.Form.V.Sections {
		if sec.Round > p.Round {
			continue
		}
		out := screeningSection{Title: sec.Title.In(p.Language, call.Languages.V)}
		for _, q := range sec.Questions {
			if !call.Form.V.Visible(q, p.Answers.V) {
				continue
			}
			a := screeningAnswer{ID: q.ID, Label: q.Label.In(p.Language, call.Languages.V)}
			if q.Kind == calls.KindFile {
				for _, f := range view.Attachments {
					if f.QuestionID == q.ID {
						a.Files = append(a.Files, f)
					}
				}
			} else if ans, ok := p.Answers.V[q.ID]; ok {
				a.Paragraphs = strings.Split(s.answerText(call, q, ans, p.Language, pn), "\n")
			}
			out.Answers = append(out.Answers, a)
		}
		v.Sections = append(v.Sections, out)
	}
	names := map[string]string{}
	nameOf := func(id string) string {
		if _, ok := names[id]; !ok {
			names[id] = id
			if u, err := s.Accounts.User(ctx, id); err == nil {
				names[id] = u.Name
			}
		}
		return names[id]
	}
	for _, d := range view.History {
		v.History = append(v.History, screeningDecisionRow{Decision: d, DecidedByName: nameOf(d.DecidedBy)})
	}
	for _, e := range view.Extensions {
		v.Extensions = append(v.Extensions, screeningExtensionRow{Extension: e, GrantedByName: nameOf(e.GrantedBy)})
	}
	if v.Conversation, err = s.managerConversation(c, p.ID); err != nil {
		return nil, err
	}
	if v.CanDecide, err = s.screeningCanDecide(c, call); err != nil {
		return nil, err
	}
	v.CanExtend = v.CanDecide && p.Status != proposals.StatusWithdrawn
	if v.Rounds, err = s.proposalRounds(c, call, p); err != nil {
		return nil, err
	}
	v.Rounds.CanInvite = v.CanDecide && invitable(call, p, v.Rounds)
	return v, nil
}

func (s *Server) screeningProposalPage(c echo.Context) error {
	p, call, err := s.screeningProposal(c, false)
	if err != nil {
		return err
	}
	return s.screeningProposalRender(c, http.StatusOK, p, call, nil, nil)
}

func (s *Server) screeningProposalRender(c echo.Context, status int, p *proposals.Proposal, call *calls.Call, errs validate.Errors, form map[string][]string) error {
	v, err := s.screeningProposalData(c, p, call)
	if err != nil {
		return err
	}
	pg := s.newPage(c, p.Title, v)
	pg.Errors = errs
	if form != nil {
		pg.Form = form
	}
	if len(pg.Form["extension_closes_at"]) == 0 {
		// Offer the proposal's current deadline, in the call's timezone, to edit.
		loc, lerr := time.LoadLocation(call.Timezone)
		if lerr != nil {
			loc = time.UTC
		}
		pg.Form.Set("extension_closes_at", v.Row.Deadline.In(loc).Format("2006-01-02T15:04"))
	}
	return s.render(c, status, "screening_proposal", pg)
}

func (s *Server) screeningDecideOne(c echo.Context) error {
	p, call, err := s.screeningProposal(c, true)
	if err != nil {
		return err
	}
	err = s.Screening.Decide(c.Request().Context(), actor(c), call.ID, []string{p.ID}, c.FormValue("decision"), c.FormValue("reason"), lang(c))
	if fe, ok := validate.As(err); ok {
		return s.screeningProposalRender(c, http.StatusUnprocessableEntity, p, call, fe, formValues(c))
	}
	if err != nil {
		return screeningError(err)
	}
	return redirectWithFlash(c, "/manage/proposals/"+p.ID, "screening_decided")
}

// screeningWallClock reads a new closing time written in the call's timezone.
func screeningWallClock(v, tz string) (time.Time, bool) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), loc)
	return t.UTC(), err == nil
}

func (s *Server) screeningExtend(c echo.Context) error {
	p, call, err := s.screeningProposal(c, true)
	if err != nil {
		return err
	}
	closes, ok := screeningWallClock(c.FormValue("extension_closes_at"), call.Timezone)
	if ok {
		err = s.Proposals.GrantExtension(c.Request().Context(), actor(c), p.ID, closes, c.FormValue("extension_reason"))
	} else {
		err = validate.One("closes_at", "screening_closes_at_invalid")
	}
	if fe, ok := validate.As(err); ok {
		return s.screeningProposalRender(c, http.StatusUnprocessableEntity, p, call, formErrors(fe, "extension_", nil), formValues(c))
	}
	if err != nil {
		return screeningError(err)
	}
	return redirectWithFlash(c, "/manage/proposals/"+p.ID, "screening_extended")
}

// API

func (s *Server) apiScreeningQueue(c echo.Context) error {
	call, err := s.screeningCall(c, false)
	if err != nil {
		return err
	}
	ctx, l := c.Request().Context(), lang(c)
	filter := c.QueryParam("screening")
	var es []screening.Entry
	if filter == "draft" {
		es, err = s.Screening.Drafts(ctx, call.ID)
	} else {
		es, err = s.Screening.Queue(ctx, call.ID, filter)
	}
	if err != nil {
		return err
	}
	n, err := s.screeningNames(ctx, l)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"call_id": call.ID, "currency": call.Currency, "proposals": s.screeningRows(l, call, es, n)})
}

// screeningInput is a G1 decision as the API receives it.
type screeningInput struct {
	ProposalIDs []string `json:"proposal_ids"`
	Decision    string   `json:"decision"`
	Reason      string   `json:"reason"`
}

func (s *Server) apiScreeningDecide(c echo.Context) error {
	call, err := s.screeningCall(c, true)
	if err != nil {
		return err
	}
	var in screeningInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Screening.Decide(c.Request().Context(), actor(c), call.ID, in.ProposalIDs, in.Decision, in.Reason, lang(c)); err != nil {
		return screeningError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"decision": in.Decision, "proposal_ids": in.ProposalIDs})
}

// screeningAttachment is a file as the manager's API lists it.
type screeningAttachment struct {
	proposals.Attachment
	URL string `json:"url"`
}

func (s *Server) apiScreeningProposal(c echo.Context) error {
	p, call, err := s.screeningProposal(c, false)
	if err != nil {
		return err
	}
	ctx, l := c.Request().Context(), lang(c)
	view, err := s.Screening.Proposal(ctx, p)
	if err != nil {
		return err
	}
	n, err := s.screeningNames(ctx, l)
	if err != nil {
		return err
	}
	conversation, err := s.Screening.Conversation(ctx, p.ID)
	if err != nil {
		return err
	}
	files := make([]screeningAttachment, 0, len(view.Attachments))
	for _, f := range view.Attachments {
		files = append(files, screeningAttachment{Attachment: f, URL: "/proposals/" + p.ID + "/attachments/" + f.ID})
	}
	return c.JSON(http.StatusOK, map[string]any{
		"proposal": p, "organisation": view.Organisation, "deadline": view.Deadline,
		"eligibility": s.outcomes(l, call, p.Eligibility.V, n), "auto_eligible": view.AutoEligible,
		"members": view.Members, "attachments": files, "g1_history": view.History, "extensions": view.Extensions,
		"conversation": conversation})
}

func (s *Server) apiScreeningGates(c echo.Context) error {
	p, _, err := s.screeningProposal(c, false)
	if err != nil {
		return err
	}
	ds, err := gates.History(c.Request().Context(), s.DB.Gorm, "proposal", p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"decisions": ds})
}

// extensionInput is an individual extension as the API receives it.
type extensionInput struct {
	ClosesAt string `json:"closes_at"`
	Reason   string `json:"reason"`
}

func (s *Server) apiScreeningExtension(c echo.Context) error {
	p, _, err := s.screeningProposal(c, true)
	if err != nil {
		return err
	}
	var in extensionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	closes, perr := time.Parse(time.RFC3339, strings.TrimSpace(in.ClosesAt))
	if perr != nil {
		return validate.One("closes_at", "screening_closes_at_invalid")
	}
	ctx := c.Request().Context()
	if err := s.Proposals.GrantExtension(ctx, actor(c), p.ID, closes, in.Reason); err != nil {
		return screeningError(err)
	}
	d, err := s.Proposals.Deadline(ctx, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"proposal_id": p.ID, "deadline": d})
}

func screeningPaths() obj {
	id := idParam("id")
	outcome := object(obj{"kind": str(), "passed": boolean(), "reason": str(), "message": obj{"type": "string", "description": "The result in words, in the reader's language"}})
	row := object(obj{"id": strf("uuid"), "title": str(), "round": obj{"type": "integer", "description": "1: concept note (or the only round), 2: full proposal"}, "language": str(), "organisation": str(), "country": str(),
		"organisation_type": str(), "requested_minor": integer(), "requested": obj{"type": "string", "description": "Formatted, e.g. USD 25,000.00"},
		"status": str(), "submitted_at": strf("date-time"), "updated_at": strf("date-time"),
		"deadline": obj{"type": "string", "format": "date-time", "description": "The proposal's own deadline: the call's closing time plus grace, or a later individual extension"},
		"extended": boolean(), "receipt_number": str(), "auto_eligible": boolean(), "eligibility": arrayOf(outcome),
		"screening": obj{"type": "string", "enum": []string{"pending", "eligible", "ineligible", "more_information"}}, "screening_reason": str(),
		"replied_at": obj{"type": "string", "format": "date-time", "description": "Set when the proposal is pending again because the applicant answered a request for more information"}})
	decision := object(obj{"id": strf("uuid"), "subject_type": str(), "subject_id": strf("uuid"), "gate": str(), "decision": str(),
		"reason": str(), "conditions": arrayOf(obj{"type": "object"}), "decided_by": strf("uuid"), "created_at": strf("date-time")})
	filter := obj{"name": "screening", "in": "query", "required": false, "description": "pending, replied (pending again because the applicant answered a request), " +
		"eligible, ineligible, more_information, auto_failed (some automatic rule failed), or draft (proposals not yet submitted); all submitted proposals when absent",
		"schema": obj{"type": "string", "enum": []string{"pending", "replied", "eligible", "ineligible", "more_information", "auto_failed", "draft"}}}
	forbidden := func(o obj) obj {
		o["responses"].(obj)["403"] = obj{"description": "Manager endpoint: the caller reads the facility's proposals but does not manage them", "content": jsonContent(ref("Error"))}
		return o
	}
	return obj{
		"/manage/calls/{id}/proposals": obj{"get": forbidden(withParams(op("screening", "The screening queue of a call (managers of its facility): submitted proposals with their automatic eligibility results and screening state",
			nil, "200", object(obj{"call_id": strf("uuid"), "currency": str(), "proposals": arrayOf(row)})), id, filter))},
		"/manage/calls/{id}/screening": obj{"post": forbidden(withParams(op("screening", "Record one G1 decision for one or more submitted proposals of this call, all or none; "+
			"ineligible and more_information need a reason, which the applicant reads; each applicant is e-mailed in the proposal's language",
			object(obj{"proposal_ids": arrayOf(strf("uuid")), "decision": obj{"type": "string", "enum": []string{"eligible", "ineligible", "more_information"}},
				"reason": str()}, "proposal_ids", "decision"), "200",
			object(obj{"decision": str(), "proposal_ids": arrayOf(strf("uuid"))})), id))},
		"/manage/proposals/{id}": obj{"get": forbidden(withParams(op("screening", "A proposal as its call's managers read it: answers, team, attachments with download links, eligibility results, G1 history, extensions",
			nil, "200", object(obj{"proposal": obj{"type": "object"}, "organisation": object(obj{"id": strf("uuid"), "name": str(), "type": str(), "country": str(), "year_founded": integer()}),
				"deadline": strf("date-time"), "eligibility": arrayOf(outcome), "auto_eligible": boolean(), "members": arrayOf(obj{"type": "object"}),
				"attachments": arrayOf(obj{"type": "object"}), "g1_history": arrayOf(decision),
				"extensions":   arrayOf(object(obj{"closes_at": strf("date-time"), "reason": str(), "granted_by": strf("uuid"), "created_at": strf("date-time")})),
				"conversation": arrayOf(object(obj{"kind": str(), "id": strf("uuid"), "decision_id": strf("uuid"), "body": str(), "by": strf("uuid"), "by_name": str(), "at": strf("date-time")}))})), id))},
		"/manage/proposals/{id}/gates": obj{"get": forbidden(withParams(op("screening", "Every gate decision recorded for a proposal, oldest first (append-only; the latest per gate is in force)",
			nil, "200", listOf("decisions", decision)), id))},
		"/manage/proposals/{id}/extension": obj{"post": forbidden(withParams(op("screening", "Grant a proposal an individual deadline later than the call's (closing time plus grace), with a reason; audited",
			object(obj{"closes_at": obj{"type": "string", "format": "date-time", "description": "RFC 3339, e.g. 2026-12-20T17:00:00+01:00"}, "reason": str()}, "closes_at", "reason"),
			"200", object(obj{"proposal_id": strf("uuid"), "deadline": strf("date-time")})), id))},
	}
}
