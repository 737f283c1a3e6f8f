package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/validate"
)

// Answers to a G1 request for more information: the applicant reads the
// request on the proposal's page and answers there (or through the API);
// the answer puts the proposal back in the managers' queue. Both sides read
// the requests and answers as one conversation.

func (s *Server) screeningReplyRoutes() {
	s.echo.POST("/proposals/:id/screening/replies", s.screeningReplyForm)
}

func (s *Server) apiScreeningReplyRoutes(g *echo.Group) {
	g.GET("/proposals/:id/screening/conversation", s.apiScreeningConversation)
	g.POST("/proposals/:id/screening/replies", s.apiScreeningReply)
}

// conversationLine is one message as a page shows it, already in words.
type conversationLine struct {
	Kind  string
	From  string
	When  string
	Lines []string
}

// replyView is what the applicant's proposal page shows of the screening
// conversation, and the answer form when an answer is awaited.
type replyView struct {
	Messages []conversationLine
	// Awaiting: the Facility team asked and nobody answered yet.
	Awaiting bool
	// CanReply: awaiting, and the reader may edit or submit the proposal.
	CanReply bool
	// Body is what was typed, shown again after a refusal.
	Body string
}

// conversationLines puts the conversation in words for a page. Applicants
// read requests as coming from the Facility team; managers see who asked.
func (s *Server) conversationLines(c echo.Context, ms []screening.Message, manager bool) []conversationLine {
	l, tz := lang(c), readerTZ(c)
	out := make([]conversationLine, 0, len(ms))
	for _, m := range ms {
		line := conversationLine{Kind: m.Kind, When: fmtZone(m.At, tz), Lines: strings.Split(m.Body, "\n")}
		switch {
		case m.Kind == screening.MessageReply:
			line.From = s.Text.Translate(l, "screening_conversation_reply_by", map[string]any{"Name": m.ByName})
		case manager:
			line.From = s.Text.Translate(l, "screening_conversation_request_by", map[string]any{"Name": m.ByName})
		default:
			line.From = s.Text.Translate(l, "screening_conversation_request", nil)
		}
		out = append(out, line)
	}
	return out
}

// applicantReply builds the conversation part of a submitted proposal's page.
func (s *Server) applicantReply(c echo.Context, p *proposals.Proposal, rights string, form map[string][]string) (*replyView, error) {
	ms, err := s.Screening.Conversation(c.Request().Context(), p.ID)
	if err != nil {
		return nil, err
	}
	v := &replyView{Messages: s.conversationLines(c, ms, false),
		Awaiting: p.Status == proposals.StatusSubmitted && p.Screening == proposals.ScreeningMoreInfo}
	v.CanReply = v.Awaiting && proposals.Includes(rights, proposals.RightEdit)
	if b := form["body"]; len(b) > 0 {
		v.Body = b[0]
	}
	if len(v.Messages) == 0 && !v.Awaiting {
		return nil, nil
	}
	return v, nil
}

// managerConversation is the conversation as the manager's page shows it.
func (s *Server) managerConversation(c echo.Context, proposalID string) ([]conversationLine, error) {
	ms, err := s.Screening.Conversation(c.Request().Context(), proposalID)
	if err != nil {
		return nil, err
	}
	return s.conversationLines(c, ms, true), nil
}

func (s *Server) screeningReplyForm(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightEdit)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	_, err = s.Screening.Reply(ctx, actor(c), p.ID, c.FormValue("body"), lang(c))
	if fe, ok := validate.As(err); ok {
		return s.editor(c, http.StatusUnprocessableEntity, p, rights, editorState{Form: formValues(c), Errs: fe})
	}
	if errors.Is(err, screening.ErrNotAwaitingReply) {
		// Answered by a teammate or decided meanwhile: show what is now so.
		if p, err = s.Proposals.Get(ctx, p.ID); err != nil {
			return err
		}
		return s.editor(c, http.StatusConflict, p, rights, editorState{Notice: s.Text.Translate(lang(c), "screening_reply_not_awaiting", nil)})
	}
	if err != nil {
		return screeningError(err)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID, "screening_replied")
}

// API

// applicantMessage is a conversation message as the applicant's API shows
// it: requests come from the Facility team, without the manager's identity.
type applicantMessage struct {
	Kind       string    `json:"kind"`
	ID         string    `json:"id"`
	DecisionID string    `json:"decision_id"`
	Body       string    `json:"body"`
	ByName     string    `json:"by_name,omitempty"`
	At         time.Time `json:"at"`
}

func (s *Server) apiScreeningConversation(c echo.Context) error {
	p, rights, err := s.proposalFor(c, proposals.RightView)
	if err != nil {
		return err
	}
	ms, err := s.Screening.Conversation(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	out := make([]applicantMessage, 0, len(ms))
	for _, m := range ms {
		am := applicantMessage{Kind: m.Kind, ID: m.ID, DecisionID: m.DecisionID, Body: m.Body, At: m.At}
		if m.Kind == screening.MessageReply {
			am.ByName = m.ByName
		}
		out = append(out, am)
	}
	awaiting := p.Status == proposals.StatusSubmitted && p.Screening == proposals.ScreeningMoreInfo
	return c.JSON(http.StatusOK, map[string]any{"proposal_id": p.ID, "screening": p.Screening, "awaiting_reply": awaiting,
		"can_reply": awaiting && proposals.Includes(rights, proposals.RightEdit), "messages": out})
}

// replyInput is an answer as the API receives it.
type replyInput struct {
	Body string `json:"body"`
}

func (s *Server) apiScreeningReply(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightEdit)
	if err != nil {
		return err
	}
	var in replyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := s.Screening.Reply(ctx, actor(c), p.ID, in.Body, lang(c))
	if fe, ok := validate.As(err); ok {
		call, cerr := s.Calls.Get(ctx, p.CallID)
		if cerr != nil {
			return cerr
		}
		return s.apiInvalid(c, call, fe)
	}
	if errors.Is(err, screening.ErrNotAwaitingReply) {
		return echo.NewHTTPError(http.StatusConflict, "screening_not_awaiting_reply")
	}
	if err != nil {
		return screeningError(err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"reply": r, "screening": proposals.ScreeningPending})
}

func screeningReplyPaths() obj {
	id := idParam("id")
	message := object(obj{"kind": obj{"type": "string", "enum": []string{screening.MessageRequest, screening.MessageReply}},
		"id": strf("uuid"), "decision_id": obj{"type": "string", "format": "uuid", "description": "The G1 request, or the request a reply answers"},
		"body": str(), "by_name": obj{"type": "string", "description": "Who answered (replies only; requests come from the Facility team)"},
		"at": strf("date-time")})
	reply := object(obj{"id": strf("uuid"), "proposal_id": strf("uuid"), "decision_id": strf("uuid"), "body": str(),
		"replied_by": strf("uuid"), "created_at": strf("date-time")})
	post := withParams(op("proposals", "Answer the Facility team's request for more information (G1), with edit or submit rights on the proposal. "+
		"Allowed while the proposal is submitted and its screening is more_information; the submitted content and its hash do not change. "+
		"The proposal goes back to screening (pending) and the manager who asked is e-mailed. 409 when no answer is awaited",
		object(obj{"body": obj{"type": "string", "maxLength": screening.MaxReply, "description": "Text, line breaks allowed"}}, "body"),
		"201", object(obj{"reply": reply, "screening": str()})), id)
	post["responses"].(obj)["409"] = obj{"description": "The proposal is not waiting for more information (answered or decided meanwhile)", "content": jsonContent(ref("Error"))}
	return obj{
		"/proposals/{id}/screening/conversation": obj{"get": withParams(op("proposals", "The Facility team's requests for more information about a proposal and the applicants' answers, oldest first",
			nil, "200", object(obj{"proposal_id": strf("uuid"), "screening": str(), "awaiting_reply": boolean(), "can_reply": boolean(),
				"messages": arrayOf(message)})), id)},
		"/proposals/{id}/screening/replies": obj{"post": post},
	}
}
