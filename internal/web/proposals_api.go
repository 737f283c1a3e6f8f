package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/idempotency"
	"facility/internal/proposals"
	"facility/internal/validate"
)

func (s *Server) apiProposalRoutes(g *echo.Group) {
	g.POST("/proposals", s.apiStartProposal)
	g.GET("/proposals", s.apiMyProposals)
	g.GET("/proposals/:id", s.apiProposal)
	g.PATCH("/proposals/:id", s.apiSaveProposal)
	g.GET("/proposals/:id/missing", s.apiProposalMissing)
	g.POST("/proposals/:id/submit", s.apiSubmitProposal)
	g.POST("/proposals/:id/withdraw", s.apiWithdrawProposal)
	g.GET("/proposals/:id/receipt", s.apiProposalReceipt)
	g.GET("/proposals/:id/members", s.apiProposalMembers)
	g.POST("/proposals/:id/members", s.apiAddProposalMember)
	g.DELETE("/proposals/:id/members/:uid", s.apiRemoveProposalMember)
}

// proposalStart is what the API takes to start a proposal.
type proposalStart struct {
	CallID         string `json:"call_id"`
	OrganisationID string `json:"organisation_id"`
	Title          string `json:"title"`
	Language       string `json:"language"`
}

// proposalPatch is an edit (autosave): the fields sent change, the others
// stay; an answer of null clears it. version is the version the edit is
// based on.
type proposalPatch struct {
	Version        *int                 `json:"version"`
	Title          *string              `json:"title,omitempty"`
	RequestedMinor *int64               `json:"requested_minor,omitempty"`
	Answers        map[string]any       `json:"answers,omitempty"`
	Partners       *[]proposals.Partner `json:"partners,omitempty"`
}

type memberInput struct {
	Email  string `json:"email"`
	Rights string `json:"rights"`
}

// proposalOut is a proposal with what the reader may do and its deadline.
type proposalOut struct {
	*proposals.Proposal
	Rights   string    `json:"rights"`
	Deadline time.Time `json:"deadline"`
}

// receiptOut is the proof of a submission.
type receiptOut struct {
	ProposalID    string     `json:"proposal_id"`
	Status        string     `json:"status"`
	ReceiptNumber string     `json:"receipt_number"`
	SubmittedAt   *time.Time `json:"submitted_at"`
	ContentHash   string     `json:"content_hash"`
}

func receiptOf(p *proposals.Proposal) receiptOut {
	return receiptOut{ProposalID: p.ID, Status: p.Status, ReceiptNumber: p.ReceiptNumber, SubmittedAt: p.SubmittedAt, ContentHash: p.ContentHash}
}

// conflictOut answers an edit based on an older version: both versions.
type conflictOut struct {
	Error   apiErrorBody        `json:"error"`
	Current *proposals.Proposal `json:"current"`
	Yours   proposalPatch       `json:"yours"`
}

// lateOut answers a submission or withdrawal after the deadline.
type lateOut struct {
	Error    apiErrorBody `json:"error"`
	Deadline time.Time    `json:"deadline"`
	Received time.Time    `json:"received"`
}

func (s *Server) out(ctx context.Context, p *proposals.Proposal, rights string) (proposalOut, error) {
	d, err := s.Proposals.Deadline(ctx, p)
	return proposalOut{Proposal: p, Rights: rights, Deadline: d}, err
}

// apiInvalid answers 422 with each field's message, naming questions by
// their labels in the reader's language.
func (s *Server) apiInvalid(c echo.Context, call *calls.Call, errs validate.Errors) error {
	l := lang(c)
	body := apiError{Error: apiErrorBody{Code: "invalid_input", Message: s.Text.Translate(l, "status_invalid_input", nil), RequestID: requestID(c)}}
	for _, e := range errs {
		body.Error.Fields = append(body.Error.Fields, fieldProblem{Field: e.Field, Code: e.Code, Message: s.proposalMessage(l, call, e)})
	}
	return c.JSON(http.StatusUnprocessableEntity, body)
}

func (s *Server) apiLate(c echo.Context, de *proposals.DeadlineError) error {
	return c.JSON(http.StatusUnprocessableEntity, lateOut{Error: apiErrorBody{Code: "proposal_deadline_passed",
		Message: s.lateMessage(c, de), RequestID: requestID(c)}, Deadline: de.Deadline, Received: de.Received})
}

func (s *Server) apiStartProposal(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	var in proposalStart
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	call, err := s.Calls.Get(c.Request().Context(), in.CallID)
	if err != nil || call.Status != calls.StatusPublished {
		return validate.One("call_id", "not_found")
	}
	if in.OrganisationID == "" {
		return validate.One("organisation_id", "required")
	}
	if !database.ValidID(in.OrganisationID) {
		return validate.One("organisation_id", "not_allowed")
	}
	if err := s.can(c, true, authz.OrgDomain(in.OrganisationID), authz.ObjProposal, authz.ActCreate); err != nil {
		return err
	}
	p, err := s.Proposals.Start(c.Request().Context(), actor(c), proposals.StartInput(in))
	if fe, ok := validate.As(err); ok {
		return s.apiInvalid(c, call, fe)
	}
	if err != nil {
		return proposalErr(err)
	}
	out, err := s.out(c.Request().Context(), p, proposals.RightSubmit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiMyProposals(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := s.Proposals.MineWithDetails(ctx, v.User.ID)
	if err != nil {
		return err
	}
	items := make([]proposalOut, 0, len(list))
	for i := range list {
		items = append(items, proposalOut{Proposal: &list[i].Proposal, Rights: list[i].Rights, Deadline: list[i].Deadline})
	}
	return c.JSON(http.StatusOK, map[string]any{"proposals": items})
}

func (s *Server) apiProposal(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	out, err := s.out(c.Request().Context(), p, rights)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiSaveProposal(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightEdit)
	if err != nil {
		return err
	}
	var in proposalPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Version == nil {
		return validate.One("version", "required")
	}
	ctx := c.Request().Context()
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return err
	}
	saved, err := s.Proposals.Save(ctx, actor(c), p.ID, proposals.SaveInput{Version: *in.Version, Title: in.Title,
		RequestedMinor: in.RequestedMinor, Answers: in.Answers, Partners: in.Partners})
	var ce *proposals.ConflictError
	if errors.As(err, &ce) {
		return c.JSON(http.StatusConflict, conflictOut{Error: apiErrorBody{Code: "conflict",
			Message: s.Text.Translate(lang(c), "status_conflict", nil), RequestID: requestID(c)}, Current: ce.Current, Yours: in})
	}
	if fe, ok := validate.As(err); ok {
		return s.apiInvalid(c, call, fe)
	}
	if err != nil {
		return proposalErr(err)
	}
	out, err := s.out(ctx, saved, rights)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiProposalMissing(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return err
	}
	missing, err := s.Proposals.Missing(ctx, p)
	if err != nil {
		return err
	}
	items := make([]fieldProblem, 0, len(missing))
	for _, e := range missing {
		items = append(items, fieldProblem{Field: e.Field, Code: e.Code, Message: s.proposalMessage(lang(c), call, e)})
	}
	return c.JSON(http.StatusOK, map[string]any{"complete": len(items) == 0, "missing": items})
}

// apiSubmitProposal leaves the proposal, and the person's right to submit
// it, to the submission desk: it reads them in the transaction that
// submits, together with the other submissions waiting (the deadline rush).
func (s *Server) apiSubmitProposal(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	body, err := submitRequestShape(c)
	if err != nil {
		// Someone without access learns nothing, not even that the request
		// was malformed.
		if _, _, aerr := s.proposalFor(c, proposals.RightSubmit); aerr != nil {
			return aerr
		}
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	ctx := c.Request().Context()
	id := c.Param("id")
	// The desk stores the receipt as the key's response, so a repetition
	// gets the same body.
	res, replayed, err := s.Desk.Submit(ctx, proposals.Submission{Actor: actor(c), ProposalID: id,
		UserID: v.User.ID, Key: key,
		RequestHash: idempotency.Hash(http.MethodPost, c.Request().URL.Path, string(body)),
		Respond: func(sp *proposals.Proposal) (idempotency.Response, error) {
			b, err := json.Marshal(receiptOf(sp))
			if err != nil {
				return idempotency.Response{}, err
			}
			return idempotency.Response{Status: http.StatusOK, Body: b}, nil
		}})
	var de *proposals.DeadlineError
	var ae *proposals.AccessError
	switch {
	case errors.Is(err, proposals.ErrNotFound):
		return s.deny(c, true, "", authz.ObjProposal, rightAction[proposals.RightSubmit])
	case errors.As(err, &ae):
		return s.deny(c, ae.Hidden, authz.OrgDomain(ae.OrganisationID), authz.ObjProposal, rightAction[proposals.RightSubmit])
	case errors.As(err, &de):
		return s.apiLate(c, de)
	case err != nil:
		if fe, ok := validate.As(err); ok {
			// What is missing is named in the call's words.
			p, perr := s.Proposals.Get(ctx, id)
			if perr != nil {
				return perr
			}
			call, cerr := s.Calls.Get(ctx, p.CallID)
			if cerr != nil {
				return cerr
			}
			return s.apiInvalid(c, call, fe)
		}
		return proposalErr(err)
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.JSONBlob(res.Status, res.Body)
}

// submitRequestShape checks a submit request's key and body, and returns
// the body, trimmed. The body is optional and carries nothing yet, but it
// is part of the request: the same key with another body is another
// request.
func submitRequestShape(c echo.Context) ([]byte, error) {
	if c.Request().Header.Get("Idempotency-Key") == "" {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "proposal_key_required")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return nil, validate.One("body", "invalid_json")
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var none struct{}
		if err := dec.Decode(&none); err != nil {
			if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				return nil, validate.One(strings.Trim(f, `"`), "unknown_field")
			}
			return nil, validate.One("body", "invalid_json")
		}
	}
	return body, nil
}

func (s *Server) apiWithdrawProposal(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.Proposals.Withdraw(ctx, actor(c), p.ID)
	var de *proposals.DeadlineError
	if errors.As(err, &de) {
		return s.apiLate(c, de)
	}
	if err != nil {
		return proposalErr(err)
	}
	if p, err = s.Proposals.Get(ctx, p.ID); err != nil {
		return err
	}
	out, err := s.out(ctx, p, rights)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiProposalReceipt(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	return s.apiReceipt(c, p)
}

func (s *Server) apiProposalMembers(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	list, err := s.Proposals.Members(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"members": list})
}

func (s *Server) apiAddProposalMember(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	var in memberInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Proposals.AddMember(c.Request().Context(), actor(c), p.ID, in.Email, in.Rights)
	if err != nil {
		return proposalErr(err)
	}
	return c.JSON(http.StatusCreated, m)
}

func (s *Server) apiRemoveProposalMember(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightSubmit)
	if err != nil {
		return err
	}
	if err := s.Proposals.RemoveMember(c.Request().Context(), actor(c), p.ID, c.Param("uid")); err != nil {
		return proposalErr(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// proposalSchema describes a proposal as the API returns it.
func proposalSchema() obj {
	partner := object(obj{"organisation_id": strf("uuid"), "name": str(), "country": obj{"type": "string", "description": "ISO 3166-1 alpha-2"}, "lead": boolean()},
		"name", "country", "lead")
	return object(obj{"id": strf("uuid"), "call_id": strf("uuid"), "organisation_id": strf("uuid"), "round": integer(), "title": str(),
		"language": str(), "requested_minor": obj{"type": "integer", "description": "minor units of the call's currency"},
		"answers":  obj{"type": "object", "description": "question id -> answer (text, number, minor units for money, true/false for yes/no, list for multiple choice)"},
		"partners": arrayOf(partner), "status": obj{"type": "string", "enum": []string{proposals.StatusDraft, proposals.StatusSubmitted, proposals.StatusWithdrawn}},
		"screening": str(), "screening_reason": str(), "eligibility": arrayOf(obj{"type": "object"}), "version": integer(),
		"created_at": strf("date-time"), "updated_at": strf("date-time"), "submitted_at": strf("date-time"), "content_hash": str(),
		"receipt_number": str(), "withdrawn_at": strf("date-time"), "rights": obj{"type": "string", "enum": proposals.RightsList},
		"deadline": obj{"type": "string", "format": "date-time", "description": "closing time plus grace, or an individual extension"}})
}

func proposalPaths() obj {
	id := idParam("id")
	p := proposalSchema()
	receipt := object(obj{"proposal_id": strf("uuid"), "status": str(), "receipt_number": str(), "submitted_at": strf("date-time"), "content_hash": str()})
	member := object(obj{"user_id": strf("uuid"), "name": str(), "email": strf("email"), "rights": obj{"type": "string", "enum": proposals.RightsList}, "created_at": strf("date-time")})
	partner := object(obj{"organisation_id": strf("uuid"), "name": str(), "country": str(), "lead": boolean()}, "name", "country", "lead")
	patch := object(obj{"version": obj{"type": "integer", "description": "the version this edit is based on"}, "title": str(),
		"requested_minor": integer(), "answers": obj{"type": "object", "description": "question id -> answer; null clears"}, "partners": arrayOf(partner)}, "version")
	save := op("proposals", "Save an edit (autosave). Answers the saved proposal; 409 with the stored version (current) and yours when it was changed since your version", patch, "200", p)
	save["responses"].(obj)["409"] = obj{"description": "Changed by someone else since your version", "content": jsonContent(object(obj{
		"error": ref("Error"), "current": p, "yours": patch}))}
	submit := withParams(op("proposals", "Submit a complete draft before the deadline (database clock). Idempotency-Key required: repeating the request "+
		"with the same key answers the first response (Idempotent-Replayed: true), also to a repetition sent while the first runs, which waits for it; the same key for another request 422. "+
		"Late: 422 with the deadline; incomplete: 422 with the missing fields", nil, "200", receipt),
		id, obj{"name": "Idempotency-Key", "in": "header", "required": true, "schema": obj{"type": "string", "minLength": 1, "maxLength": 255}})
	submit["responses"].(obj)["409"] = obj{"description": "The proposal is not a draft (submitted already with another key, or withdrawn)", "content": jsonContent(ref("Error"))}
	return obj{
		"/proposals": obj{
			"get": op("proposals", "My proposals (every call)", nil, "200", listOf("proposals", p)),
			"post": op("proposals", "Start a proposal for one of my organisations (needs proposal creation rights in it)",
				object(obj{"call_id": strf("uuid"), "organisation_id": strf("uuid"), "title": str(), "language": str()}, "call_id", "organisation_id", "title", "language"), "201", p),
		},
		"/proposals/{id}": obj{
			"get":   withParams(op("proposals", "A proposal I may see", nil, "200", p), id),
			"patch": withParams(save, id),
		},
		"/proposals/{id}/missing": obj{"get": withParams(op("proposals", "What must still be done before submitting",
			nil, "200", object(obj{"complete": boolean(), "missing": arrayOf(object(obj{"field": str(), "code": str(), "message": str()}))})), id)},
		"/proposals/{id}/submit":   obj{"post": submit},
		"/proposals/{id}/withdraw": obj{"post": withParams(op("proposals", "Withdraw a submitted proposal before the deadline", nil, "200", p), id)},
		"/proposals/{id}/receipt":  obj{"get": withParams(op("proposals", "The receipt of a submitted proposal, with every submitted round (a two-round call's concept note stays listed while the full proposal is written)", nil, "200", receiptWithRoundsSchema()), id)},
		"/proposals/{id}/members": obj{
			"get":  withParams(op("proposals", "The proposal's team", nil, "200", listOf("members", member)), id),
			"post": withParams(op("proposals", "Add a person with an account to the team, or change their rights (needs submit rights)", object(obj{"email": strf("email"), "rights": obj{"type": "string", "enum": proposals.RightsList}}, "email", "rights"), "201", member), id),
		},
		"/proposals/{id}/members/{uid}": obj{"delete": withParams(op("proposals", "Take a person off the team (needs submit rights)", nil, "204", nil), id, idParam("uid"))},
	}
}
