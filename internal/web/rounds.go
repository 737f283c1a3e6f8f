package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/calls"
	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/validate"
)

// Two-round calls: a manager invites concept notes screened eligible to
// submit a full proposal (from the screening queue, in bulk, or from a
// proposal's page), and the pages and the API show which round a proposal
// is in, the full proposal's deadline, and every round's receipt.

func (s *Server) roundRoutes() {
	e := s.echo
	e.POST("/manage/calls/:id/invite", s.inviteFullBulk)
	e.POST("/manage/proposals/:id/invite", s.inviteFullOne)
}

func (s *Server) apiRoundRoutes(g *echo.Group) {
	g.POST("/manage/calls/:id/invite", s.apiInviteFull)
	g.POST("/manage/proposals/:id/invite", s.apiInviteFullOne)
	g.GET("/manage/proposals/:id/rounds", s.apiManagerRounds)
}

// roundRow is one submitted round as the pages show it.
type roundRow struct {
	Round               int
	Name, Receipt, Time string // Time in the reader's zone and UTC, to the second
	Hash                string
}

// roundsInfo is what the pages show of a call's rounds and of a
// proposal's: the round it is in, the full proposal's deadline, the
// submitted rounds, and whether the reader may invite.
type roundsInfo struct {
	TwoRound  bool
	Round     int
	RoundName string
	// FullCloses is the full proposal's closing time in the reader's
	// timezone, UTC and the call's; FullOpen says it is still ahead.
	FullCloses string
	FullOpen   bool
	Rows       []roundRow
	CanInvite  bool
}

// roundName names a round in the reader's language.
func (s *Server) roundName(l string, call *calls.Call, round int) string {
	if !call.TwoRound {
		return s.Text.Translate(l, "rounds_name_single", nil)
	}
	if round == calls.RoundFullProposal {
		return s.Text.Translate(l, "rounds_name_2", nil)
	}
	return s.Text.Translate(l, "rounds_name_1", nil)
}

// readerTZ is readerZone's name, for the fmtZone family.
func readerTZ(c echo.Context) string { return readerZone(c).String() }

// callRounds describes a call's rounds for a page (p nil: the call only).
func (s *Server) callRounds(c echo.Context, call *calls.Call, p *proposals.Proposal, rounds []proposals.Round) *roundsInfo {
	l, tz := lang(c), readerTZ(c)
	ri := &roundsInfo{TwoRound: call.TwoRound, Round: calls.RoundConceptNote}
	if call.FullProposalClosesAt != nil {
		ri.FullCloses = inZones(*call.FullProposalClosesAt, tz, "UTC", call.Timezone)
		ri.FullOpen = time.Now().Before(*call.FullProposalClosesAt)
	}
	if p != nil {
		ri.Round = p.Round
	}
	ri.RoundName = s.roundName(l, call, ri.Round)
	for _, r := range rounds {
		ri.Rows = append(ri.Rows, roundRow{Round: r.Round, Name: s.roundName(l, call, r.Round), Receipt: r.ReceiptNumber,
			Time: inZonesToSecond(r.SubmittedAt, tz, "UTC"), Hash: r.ContentHash})
	}
	return ri
}

// proposalRounds describes a proposal's rounds, reading its records.
func (s *Server) proposalRounds(c echo.Context, call *calls.Call, p *proposals.Proposal) (*roundsInfo, error) {
	rounds, err := s.Proposals.Rounds(c.Request().Context(), p.ID)
	if err != nil {
		return nil, err
	}
	return s.callRounds(c, call, p, rounds), nil
}

// invitable reports whether p can be invited to the full proposal now, as
// far as the page can tell (the domain decides on the database clock).
func invitable(call *calls.Call, p *proposals.Proposal, ri *roundsInfo) bool {
	return call.TwoRound && ri.FullOpen && p.Round == calls.RoundConceptNote &&
		p.Status == proposals.StatusSubmitted && p.Screening == proposals.ScreeningEligible
}

// roundDeadlineView is deadlineView for the round a proposal is in: the
// full proposal's closing time in round 2.
func (s *Server) roundDeadlineView(c echo.Context, call *calls.Call, round int, d time.Time) deadlineView {
	tz := readerTZ(c)
	closes := call.RoundCloses(round)
	return deadlineView{Closes: fmtZone(closes, tz), ClosesUTC: fmtZone(closes, "UTC"), ClosesCall: fmtZone(closes, call.Timezone),
		Deadline: fmtZone(d, tz), DeadlineUTC: fmtZone(d, "UTC"), DeadlineCall: fmtZone(d, call.Timezone), CallZone: call.Timezone,
		Grace: call.GraceMinutes, ISO: d.UTC().Format(time.RFC3339), Passed: time.Now().After(d), Extended: d.After(call.RoundDeadline(round))}
}

// --- invitations (pages) ---

func (s *Server) inviteFullBulk(c echo.Context) error {
	call, err := s.screeningCall(c, true)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	ids := form["proposal_ids"]
	err = s.Screening.Invite(c.Request().Context(), actor(c), call.ID, ids, c.FormValue("invite_message"), lang(c))
	if fe, ok := validate.As(err); ok {
		v, verr := s.screeningQueueView(c, call, "")
		if verr != nil {
			return verr
		}
		for _, id := range ids {
			v.Selected[id] = true
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "screening_queue_title", nil), v)
		p.Errors, p.Form = formErrors(fe, "invite_", nil), formValues(c)
		return s.render(c, http.StatusUnprocessableEntity, "screening_queue", p)
	}
	if err != nil {
		return screeningError(err)
	}
	return redirectWithFlash(c, "/manage/calls/"+call.ID+"/proposals", "rounds_invited")
}

func (s *Server) inviteFullOne(c echo.Context) error {
	p, call, err := s.screeningProposal(c, true)
	if err != nil {
		return err
	}
	err = s.Screening.Invite(c.Request().Context(), actor(c), call.ID, []string{p.ID}, c.FormValue("invite_message"), lang(c))
	if fe, ok := validate.As(err); ok {
		return s.screeningProposalRender(c, http.StatusUnprocessableEntity, p, call, formErrors(fe, "invite_", nil), formValues(c))
	}
	if err != nil {
		return screeningError(err)
	}
	return redirectWithFlash(c, "/manage/proposals/"+p.ID, "rounds_invited")
}

// --- API ---

// inviteInput is an invitation to the full proposal as the API receives it.
type inviteInput struct {
	ProposalIDs []string `json:"proposal_ids"`
	Message     string   `json:"message"`
}

// inviteOut answers an invitation.
type inviteOut struct {
	ProposalIDs          []string   `json:"proposal_ids"`
	Round                int        `json:"round"`
	FullProposalClosesAt *time.Time `json:"full_proposal_closes_at"`
}

func (s *Server) apiInviteFull(c echo.Context) error {
	call, err := s.screeningCall(c, true)
	if err != nil {
		return err
	}
	var in inviteInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Screening.Invite(c.Request().Context(), actor(c), call.ID, in.ProposalIDs, in.Message, lang(c)); err != nil {
		return screeningError(err)
	}
	return c.JSON(http.StatusOK, inviteOut{ProposalIDs: in.ProposalIDs, Round: calls.RoundFullProposal, FullProposalClosesAt: call.FullProposalClosesAt})
}

// inviteOneInput is the optional body of an invitation of one proposal.
type inviteOneInput struct {
	Message string `json:"message"`
}

func (s *Server) apiInviteFullOne(c echo.Context) error {
	p, call, err := s.screeningProposal(c, true)
	if err != nil {
		return err
	}
	var in inviteOneInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Screening.Invite(c.Request().Context(), actor(c), call.ID, []string{p.ID}, in.Message, lang(c)); err != nil {
		return screeningError(err)
	}
	return c.JSON(http.StatusOK, inviteOut{ProposalIDs: []string{p.ID}, Round: calls.RoundFullProposal, FullProposalClosesAt: call.FullProposalClosesAt})
}

func (s *Server) apiManagerRounds(c echo.Context) error {
	p, _, err := s.screeningProposal(c, false)
	if err != nil {
		return err
	}
	rounds, err := s.Proposals.Rounds(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"proposal_id": p.ID, "round": p.Round, "rounds": rounds})
}

// receiptRound is one submitted round in a receipt.
type receiptRound struct {
	Round         int       `json:"round"`
	ReceiptNumber string    `json:"receipt_number"`
	SubmittedAt   time.Time `json:"submitted_at"`
	ContentHash   string    `json:"content_hash"`
}

// receiptWithRounds is a receipt with every submitted round.
type receiptWithRounds struct {
	receiptOut
	Round  int            `json:"round"`
	Rounds []receiptRound `json:"rounds"`
}

// apiReceipt answers the receipt of a proposal: the round in progress (when
// submitted) and every submitted round; 404 when nothing was submitted.
func (s *Server) apiReceipt(c echo.Context, p *proposals.Proposal) error {
	rounds, err := s.Proposals.Rounds(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	if p.SubmittedAt == nil && len(rounds) == 0 {
		return errNotFound
	}
	out := receiptWithRounds{receiptOut: receiptOf(p), Round: p.Round, Rounds: make([]receiptRound, 0, len(rounds))}
	for _, r := range rounds {
		out.Rounds = append(out.Rounds, receiptRound{Round: r.Round, ReceiptNumber: r.ReceiptNumber, SubmittedAt: r.SubmittedAt, ContentHash: r.ContentHash})
	}
	return c.JSON(http.StatusOK, out)
}

// --- public: the full proposal's deadline ---

// fullProposalShown is a two-round call's full-proposal closing time as
// the public page shows it, or nil.
func fullProposalShown(call *calls.Call, loc, reader *time.Location) *shownTime {
	if !call.TwoRound || call.FullProposalClosesAt == nil {
		return nil
	}
	t := newShownTime(*call.FullProposalClosesAt, loc, reader)
	return &t
}

// fullProposalISO is the full-proposal closing time (or deadline, with
// grace) for the feed, or nil for one-round calls.
func fullProposalISO(call *calls.Call, withGrace bool) *string {
	if !call.TwoRound || call.FullProposalClosesAt == nil {
		return nil
	}
	t := *call.FullProposalClosesAt
	if withGrace {
		t = call.RoundDeadline(calls.RoundFullProposal)
	}
	v := rfc3339(t)
	return &v
}

// fullProposalEvent is a two-round call's full-proposal deadline as a
// calendar event (invited applicants only, which the text says).
func (s *Server) fullProposalEvent(c *calls.Call, l, host string) (icsEvent, bool) {
	if !c.TwoRound || c.FullProposalClosesAt == nil {
		return icsEvent{}, false
	}
	closes := *c.FullProposalClosesAt
	t := func(id string, args map[string]any) string { return s.Text.Translate(l, id, args) }
	desc := []string{c.Reference, t("rounds_ics_full_closes", map[string]any{
		"Time": closes.In(locationOf(c.Timezone)).Format(shownLayout), "UTC": newShownTime(closes, time.UTC, time.UTC).UTC})}
	if c.GraceMinutes > 0 {
		desc = append(desc, t("public_grace", map[string]any{"Minutes": c.GraceMinutes,
			"Time": newShownTime(c.RoundDeadline(calls.RoundFullProposal), time.UTC, time.UTC).UTC}))
	}
	desc = append(desc, s.callURL(c.ID, ""))
	title := c.Title.V.In(l, c.Languages.V)
	return icsEvent{UID: c.ID + "-full-proposal@" + host, Summary: t("rounds_ics_full_summary", map[string]any{"Title": title}),
		Description: strings.Join(desc, "\n"), URL: s.callURL(c.ID, ""), Start: closes}, true
}

func roundPaths() obj {
	id := idParam("id")
	forbidden := func(o obj) obj {
		o["responses"].(obj)["403"] = obj{"description": "Manager endpoint: the caller reads the facility's proposals but does not manage them", "content": jsonContent(ref("Error"))}
		return o
	}
	out := object(obj{"proposal_ids": arrayOf(strf("uuid")), "round": integer(), "full_proposal_closes_at": strf("date-time")})
	round := object(obj{"round": integer(), "submitted_at": strf("date-time"), "content_hash": str(), "receipt_number": str(),
		"title": str(), "requested_minor": integer(), "answers": obj{"type": "object", "description": "The answers as submitted in that round"}})
	return obj{
		"/manage/calls/{id}/invite": obj{"post": forbidden(withParams(op("screening", "Invite concept notes of a two-round call to submit a full proposal, all or none (at most 500): "+
			"each must be submitted, in round 1 and screened eligible (G1), and the full proposal's closing time still ahead (database clock). "+
			"Each moves to round 2 as a draft (screening pending again; the concept note's receipt and hash stay in its round record) and its submitter is e-mailed "+
			"in the proposal's language with the deadline, the link and the optional message",
			object(obj{"proposal_ids": arrayOf(strf("uuid")), "message": obj{"type": "string", "maxLength": screening.MaxMessage,
				"description": "Optional note to the applicants, included in the e-mail"}}, "proposal_ids"), "200", out), id))},
		"/manage/proposals/{id}/invite": obj{"post": forbidden(withParams(op("screening", "Invite one eligible concept note to submit a full proposal (same rules as the bulk invitation)",
			object(obj{"message": obj{"type": "string", "maxLength": screening.MaxMessage}}), "200", out), id))},
		"/manage/proposals/{id}/rounds": obj{"get": forbidden(withParams(op("screening", "Every submitted round of a proposal (concept note, full proposal) with its receipt, time, hash and answers as submitted",
			nil, "200", object(obj{"proposal_id": strf("uuid"), "round": integer(), "rounds": arrayOf(round)})), id))},
	}
}

// receiptWithRoundsSchema describes GET /proposals/{id}/receipt.
func receiptWithRoundsSchema() obj {
	return object(obj{"proposal_id": strf("uuid"), "status": str(), "receipt_number": obj{"type": "string", "description": "The round in progress; empty while a full proposal is written"},
		"submitted_at": strf("date-time"), "content_hash": str(), "round": integer(),
		"rounds": arrayOf(object(obj{"round": obj{"type": "integer", "description": "1: concept note (or the only round), 2: full proposal"},
			"receipt_number": str(), "submitted_at": strf("date-time"), "content_hash": str()}))})
}
