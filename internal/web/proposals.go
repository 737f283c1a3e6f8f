package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/idempotency"
	"facility/internal/organisations"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// Applicant portal: start a proposal from a call, edit it section by
// section (with autosave in proposals_api.go), manage the team, submit
// with an idempotency key, see the receipt, withdraw.

func (s *Server) proposalRoutes() {
	e := s.echo
	e.GET("/calls/:id/proposals/new", s.newProposalForm)
	e.POST("/calls/:id/proposals", s.startProposal)
	e.GET("/proposals", s.myProposals)
	e.GET("/proposals/:id", s.proposalPage)
	e.POST("/proposals/:id", s.saveProposal)
	e.POST("/proposals/:id/submit", s.submitProposal)
	e.GET("/proposals/:id/receipt", s.proposalReceipt)
	e.POST("/proposals/:id/withdraw", s.withdrawProposal)
	e.POST("/proposals/:id/members", s.addProposalMember)
	e.POST("/proposals/:id/members/:uid/remove", s.removeProposalMember)
}

// rightAction names the authorisation action a proposal right stands for,
// for denial records.
var rightAction = map[string]string{proposals.RightView: authz.ActRead, proposals.RightEdit: authz.ActUpdate, proposals.RightSubmit: authz.ActSubmit}

// proposalFor loads the proposal in the path if the visitor has at least
// need on it. Someone with no rights at all gets 404 (they may not know it
// exists); a team member with too few rights gets 403. Both are audited.
func (s *Server) proposalFor(c echo.Context, need string) (*proposals.Proposal, string, error) {
	v, err := signedIn(c)
	if err != nil {
		return nil, "", err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	p, rights, err := s.Proposals.ForPerson(ctx, v.User.ID, id)
	if err != nil && !errors.Is(err, proposals.ErrNotFound) {
		return nil, "", err
	}
	dom := ""
	if p != nil {
		dom = authz.OrgDomain(p.OrganisationID)
	}
	if rights == "" || p == nil {
		return nil, "", s.deny(c, true, dom, authz.ObjProposal, rightAction[need])
	}
	if !proposals.Includes(rights, need) {
		return nil, "", s.deny(c, false, dom, authz.ObjProposal, rightAction[need])
	}
	return p, rights, nil
}

// proposalErr turns idempotency refusals into HTTP answers (domain errors
// are mapped by statusOf).
func proposalErr(err error) error {
	switch {
	case errors.Is(err, idempotency.ErrMismatch):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "proposal_key_reused")
	case errors.Is(err, idempotency.ErrInvalidKey):
		return echo.NewHTTPError(http.StatusBadRequest, "proposal_key_invalid")
	}
	return err
}

// newKey is a fresh idempotency key for a submit button: 128 random bits.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// --- starting a proposal ---

func (s *Server) startData(c echo.Context, call *calls.Call) (map[string]any, error) {
	v := currentVisitor(c)
	ctx := c.Request().Context()
	orgs, err := s.Organisations.ForUser(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	langs := make([]option, 0, len(call.Languages.V))
	for _, l := range call.Languages.V {
		langs = append(langs, option{Code: l, Name: s.Text.Translate(lang(c), "language_"+l, nil)})
	}
	return map[string]any{"Call": call, "CallTitle": call.Title.V.In(lang(c), call.Languages.V), "Organisations": orgs,
		"Languages": langs, "Deadline": s.deadlineView(c, call, call.Deadline())}, nil
}

// openCall is a published call, or 404.
func (s *Server) openCall(c echo.Context) (*calls.Call, error) {
	call, err := s.Calls.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, proposalErr(err)
	}
	if call.Status != calls.StatusPublished {
		return nil, errNotFound
	}
	return call, nil
}

func (s *Server) newProposalForm(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	call, err := s.openCall(c)
	if err != nil {
		return err
	}
	return s.startForm(c, call, lang(c))
}

// startForm shows the start form with the person's organisation chosen
// when they have only one, and language if the call speaks it.
func (s *Server) startForm(c echo.Context, call *calls.Call, language string) error {
	data, err := s.startData(c, call)
	if err != nil {
		return err
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "proposal_new_title", nil), data)
	if orgs := data["Organisations"].([]organisations.Membership); len(orgs) == 1 {
		p.Form.Set("organisation_id", orgs[0].ID)
	}
	p.Form.Set("language", call.Languages.V[0])
	if call.Speaks(language) {
		p.Form.Set("language", language)
	} else if call.Speaks(lang(c)) {
		p.Form.Set("language", lang(c))
	}
	return s.render(c, http.StatusOK, "proposal_new", p)
}

func (s *Server) startProposal(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	call, err := s.openCall(c)
	if err != nil {
		return err
	}
	params, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if params["title"] == nil {
		// The call page's start button: choose the organisation and the title first.
		return s.startForm(c, call, c.FormValue("language"))
	}
	in := proposals.StartInput{CallID: call.ID, OrganisationID: c.FormValue("organisation_id"), Title: c.FormValue("title"), Language: c.FormValue("language")}
	var errs validate.Errors
	if in.OrganisationID == "" {
		errs.Add("organisation_id", "required", nil)
	} else if !database.ValidID(in.OrganisationID) {
		errs.Add("organisation_id", "not_allowed", nil)
	} else if err := s.can(c, true, authz.OrgDomain(in.OrganisationID), authz.ObjProposal, authz.ActCreate); err != nil {
		return err
	}
	var p *proposals.Proposal
	if len(errs) == 0 {
		p, err = s.Proposals.Start(c.Request().Context(), actor(c), in)
		if fe, ok := validate.As(err); ok {
			errs = fe
		} else if err != nil {
			return proposalErr(err)
		}
	}
	if len(errs) > 0 {
		data, err := s.startData(c, call)
		if err != nil {
			return err
		}
		pg := s.newPage(c, s.Text.Translate(lang(c), "proposal_new_title", nil), data)
		pg.Form = formValues(c)
		data["Errors"], data["Problems"] = s.fieldMessages(lang(c), call, errs, "")
		return s.render(c, http.StatusUnprocessableEntity, "proposal_new", pg)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID, "proposal_started")
}

// --- my proposals ---

type proposalRow struct {
	P         proposals.Proposal
	Round     string // the round's name, for two-round calls
	CallTitle string
	Deadline  string
	Screening string
	Reason    string
}

func (s *Server) myProposals(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := s.Proposals.MineWithDetails(ctx, v.User.ID)
	if err != nil {
		return err
	}
	rows := make([]proposalRow, 0, len(list))
	for _, sm := range list {
		p, call, d := sm.Proposal, sm.Call, sm.Deadline
		r := proposalRow{P: p, CallTitle: call.Title.V.In(lang(c), call.Languages.V), Deadline: fmtZone(d, v.User.Timezone)}
		if call.TwoRound {
			r.Round = s.roundName(lang(c), call, p.Round)
		}
		if p.Status == proposals.StatusSubmitted {
			r.Screening = s.Text.Translate(lang(c), "proposal_screening_"+p.Screening, nil)
			if p.Screening == proposals.ScreeningIneligible || p.Screening == proposals.ScreeningMoreInfo {
				r.Reason = p.ScreeningReason
			}
		}
		rows = append(rows, r)
	}
	return s.render(c, http.StatusOK, "proposal_list", s.newPage(c, s.Text.Translate(lang(c), "proposal_list_title", nil), map[string]any{"Rows": rows}))
}

// --- the editor ---

func (s *Server) proposalPage(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	return s.editor(c, http.StatusOK, p, rights, editorState{})
}

func (s *Server) saveProposal(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightEdit)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return err
	}
	form := formValues(c)
	section := form.Get("section")
	sf, perrs := readSaveForm(call, p, form)
	if len(perrs) > 0 {
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Section: section, Form: form, Errs: perrs})
	}
	_, err = s.Proposals.Save(ctx, actor(c), p.ID, sf.In)
	var ce *proposals.ConflictError
	switch {
	case errors.As(err, &ce):
		return s.conflictPage(c, call, ce.Current, sf.In, form)
	case err != nil:
		if fe, ok := validate.As(err); ok {
			return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Section: section, Form: form, Errs: renumberPartners(fe, sf.PartnerRows)})
		}
		return proposalErr(err)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID+"?section="+url.QueryEscape(section), "proposal_saved")
}

// --- submission ---

func (s *Server) submitProposal(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	v := currentVisitor(c)
	ctx := c.Request().Context()
	// The key is in the form, made when the page was shown: a double click
	// or a resent form carries the same one and makes one submission.
	key := c.FormValue("idempotency_key")
	res, _, err := s.Desk.Submit(ctx, proposals.Submission{Actor: actor(c), ProposalID: p.ID, Locale: p.Language,
		UserID: v.User.ID, Key: key, RequestHash: idempotency.Hash("page-submit", p.ID),
		Respond: func(sp *proposals.Proposal) (idempotency.Response, error) {
			return idempotency.Response{Status: http.StatusSeeOther, Body: []byte("/proposals/" + sp.ID + "/receipt")}, nil
		}})
	var de *proposals.DeadlineError
	switch {
	case err == nil:
		return redirectWithFlash(c, string(res.Body), "proposal_submitted")
	case errors.As(err, &de):
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Notice: s.lateMessage(c, de)})
	case errors.Is(err, idempotency.ErrMismatch), errors.Is(err, idempotency.ErrInvalidKey):
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Notice: s.Text.Translate(lang(c), "proposal_submit_reload", nil)})
	}
	if fe, ok := validate.As(err); ok {
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Notice: s.Text.Translate(lang(c), "proposal_submit_incomplete", nil), Incomplete: fe})
	}
	return proposalErr(err)
}

// lateMessage says the deadline passed, with the deadline in the reader's
// timezone and in UTC.
func (s *Server) lateMessage(c echo.Context, de *proposals.DeadlineError) string {
	tz := currentVisitor(c).User.Timezone
	return s.Text.Translate(lang(c), "proposal_late", map[string]any{"Deadline": fmtZone(de.Deadline, tz), "DeadlineUTC": fmtZone(de.Deadline, "UTC"),
		"Received": fmtZone(de.Received, tz)})
}

func (s *Server) proposalReceipt(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return err
	}
	// A full proposal in progress still shows its concept note's receipt.
	rounds, err := s.proposalRounds(c, call, p)
	if err != nil {
		return err
	}
	if p.SubmittedAt == nil && len(rounds.Rows) == 0 {
		return errNotFound
	}
	org, err := s.Organisations.Get(ctx, p.OrganisationID)
	if err != nil {
		return err
	}
	tz := currentVisitor(c).User.Timezone
	data := map[string]any{"P": p, "CallTitle": call.Title.V.In(lang(c), call.Languages.V), "Reference": call.Reference, "OrgName": org.Name,
		"Amount": call.Money(p.RequestedMinor), "Withdrawn": p.Status == proposals.StatusWithdrawn, "Rounds": rounds}
	if p.SubmittedAt != nil {
		data["Time"] = inZonesToSecond(*p.SubmittedAt, tz, "UTC")
	}
	return s.render(c, http.StatusOK, "proposal_receipt", s.newPage(c, s.Text.Translate(lang(c), "proposal_receipt_title", nil), data))
}

func (s *Server) withdrawProposal(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	err = s.Proposals.Withdraw(c.Request().Context(), actor(c), p.ID)
	var de *proposals.DeadlineError
	if errors.As(err, &de) {
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Notice: s.lateMessage(c, de)})
	}
	if err != nil {
		return proposalErr(err)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID, "proposal_withdrawn")
}

// --- team ---

func (s *Server) addProposalMember(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	_, err = s.Proposals.AddMember(c.Request().Context(), actor(c), p.ID, c.FormValue("email"), c.FormValue("rights"))
	if fe, ok := validate.As(err); ok {
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Section: sectionTeam, Form: formValues(c), Errs: fe})
	}
	if err != nil {
		return proposalErr(err)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID+"?section="+sectionTeam, "proposal_member_added")
}

func (s *Server) removeProposalMember(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	if err := s.Proposals.RemoveMember(c.Request().Context(), actor(c), p.ID, c.Param("uid")); err != nil {
		return proposalErr(err)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID+"?section="+sectionTeam, "proposal_member_removed")
}
