package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/validate"
)

// The call design API: the same steps as the pages, with the same checks.

func (s *Server) apiCallDesignRoutes(g *echo.Group) {
	g.GET("/manage/calls", s.apiManagedCalls)
	g.POST("/manage/calls", s.apiCreateCall)
	g.GET("/manage/calls/:id", s.apiManagedCall)
	g.PUT("/manage/calls/:id", s.apiUpdateCall)
	g.POST("/manage/calls/:id/submit-for-approval", s.apiSubmitCall)
	g.POST("/manage/calls/:id/g0", s.apiDecideCallG0)
	g.POST("/manage/calls/:id/publish", s.apiPublishCall)
	g.GET("/manage/calls/:id/gates", s.apiCallGates)
}

// callUpdate is the body of PUT /manage/calls/{id}.
type callUpdate struct {
	Version int         `json:"version"`
	Call    calls.Input `json:"call"`
}

// g0Input is the body of POST /manage/calls/{id}/g0.
type g0Input struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

// managedCallJSON is a call with its design as a manager writes it (the
// input a PUT takes back).
type managedCallJSON struct {
	Call  *calls.Call `json:"call"`
	Input calls.Input `json:"input"`
}

func managedJSON(c *calls.Call) managedCallJSON { return managedCallJSON{Call: c, Input: inputOf(c)} }

// apiCallFail answers a refused call request: field errors in words, a
// conflict with the call as it now is, the domain's other errors as usual.
func (s *Server) apiCallFail(c echo.Context, err error, in *calls.Input, id string) error {
	l := lang(c)
	if fe, ok := validate.As(err); ok {
		body := apiError{Error: apiErrorBody{Code: "invalid_input", Message: s.Text.Translate(l, "status_invalid_input", nil), RequestID: requestID(c)}}
		for _, e := range fe {
			body.Error.Fields = append(body.Error.Fields, fieldProblem{Field: e.Field, Code: e.Code, Message: s.designMessage(l, in, e)})
		}
		return c.JSON(http.StatusUnprocessableEntity, body)
	}
	if errors.Is(err, calls.ErrConflict) || errors.Is(err, calls.ErrWrongStatus) {
		code := "call_conflict"
		if errors.Is(err, calls.ErrWrongStatus) {
			code = "call_wrong_status"
		}
		out := map[string]any{"error": apiErrorBody{Code: code, Message: s.Text.Translate(l, "status_"+code, nil), RequestID: requestID(c)}}
		if cur, gerr := s.Calls.Get(c.Request().Context(), id); gerr == nil {
			out["current_version"], out["current_status"] = cur.Version, cur.Status
		}
		return c.JSON(http.StatusConflict, out)
	}
	return callError(err)
}

func (s *Server) apiManagedCalls(c echo.Context) error {
	fs, err := s.designer(c)
	if err != nil {
		return err
	}
	codes := make([]string, len(fs))
	for i, f := range fs {
		codes[i] = f.Code
	}
	list, err := s.Calls.ForFacilities(c.Request().Context(), codes)
	if err != nil {
		return err
	}
	if list == nil {
		list = []calls.Call{}
	}
	return c.JSON(http.StatusOK, map[string]any{"calls": list})
}

func (s *Server) apiCreateCall(c echo.Context) error {
	fs, err := s.designer(c)
	if err != nil {
		return err
	}
	var in calls.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if !slices.ContainsFunc(fs, func(o option) bool { return o.Code == in.FacilityCode }) && s.knownFacility(c, in.FacilityCode) {
		return s.deny(c, false, authz.FacilityDomain(in.FacilityCode), authz.ObjCall, authz.ActCreate)
	}
	// An unknown facility is the domain's to refuse, with the other problems.
	call, err := s.Calls.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return s.apiCallFail(c, err, &in, "")
	}
	return c.JSON(http.StatusCreated, managedJSON(call))
}

func (s *Server) apiManagedCall(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, managedJSON(call))
}

func (s *Server) apiUpdateCall(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	var body callUpdate
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	updated, err := s.Calls.Update(c.Request().Context(), actor(c), call.ID, body.Version, body.Call)
	if err != nil {
		return s.apiCallFail(c, err, &body.Call, call.ID)
	}
	return c.JSON(http.StatusOK, managedJSON(updated))
}

// apiStep runs a G0 step and answers with the call as it now is.
func (s *Server) apiStep(c echo.Context, act string, step func(*calls.Call) error) error {
	call, err := s.managedCall(c, act)
	if err != nil {
		return err
	}
	if err := step(call); err != nil {
		in := inputOf(call)
		return s.apiCallFail(c, err, &in, call.ID)
	}
	call, err = s.Calls.Get(c.Request().Context(), call.ID)
	if err != nil {
		return callError(err)
	}
	return c.JSON(http.StatusOK, managedJSON(call))
}

func (s *Server) apiSubmitCall(c echo.Context) error {
	return s.apiStep(c, authz.ActSubmit, func(call *calls.Call) error {
		return s.Calls.SubmitForApproval(c.Request().Context(), actor(c), call.ID)
	})
}

func (s *Server) apiDecideCallG0(c echo.Context) error {
	return s.apiStep(c, authz.ActDecide, func(call *calls.Call) error {
		var in g0Input
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		return s.Calls.DecideG0(c.Request().Context(), actor(c), call.ID, in.Decision, in.Reason)
	})
}

func (s *Server) apiPublishCall(c echo.Context) error {
	return s.apiStep(c, authz.ActPublish, func(call *calls.Call) error {
		return s.Calls.Publish(c.Request().Context(), actor(c), call.ID)
	})
}

func (s *Server) apiCallGates(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActRead)
	if err != nil {
		return err
	}
	h, err := s.g0History(c.Request().Context(), call.ID)
	if err != nil {
		return err
	}
	type entry struct {
		Gate        string    `json:"gate"`
		Decision    string    `json:"decision"`
		Reason      string    `json:"reason"`
		DecidedBy   string    `json:"decided_by"`
		DecidedName string    `json:"decided_by_name"`
		CreatedAt   time.Time `json:"created_at"`
	}
	out := make([]entry, 0, len(h))
	for _, d := range h {
		out = append(out, entry{Gate: d.Gate, Decision: d.Decision, Reason: d.Reason, DecidedBy: d.DecidedBy, DecidedName: d.By, CreatedAt: d.CreatedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"decisions": out})
}

func callDesignPaths() obj {
	id := idParam("id")
	sc := callDesignSchemas()
	called, input := sc["ManagedCall"].(obj), sc["CallInput"].(obj)
	conflict := obj{"description": "Changed by someone else since this version, or not possible in the call's status; current_version says where it is now",
		"content": jsonContent(object(obj{"error": obj{"type": "object"}, "current_version": integer(), "current_status": str()}))}
	with409 := func(o obj) obj {
		o["responses"].(obj)["409"] = conflict
		o["responses"].(obj)["403"] = obj{"description": "Not allowed for this facility", "content": jsonContent(ref("Error"))}
		return o
	}
	return obj{
		"/manage/calls": obj{
			"get": op("call design", "Calls of the facilities the signed-in person manages, newest first", nil, "200",
				listOf("calls", sc["Call"].(obj))),
			"post": with409(op("call design", "Create a draft call; opens and closes are wall-clock times (2006-01-02T15:04) in the call's timezone, money in minor units",
				input, "201", called)),
		},
		"/manage/calls/{id}": obj{
			"get": withParams(op("call design", "A call with its design as a manager writes it", nil, "200", called), id),
			"put": withParams(with409(op("call design", "Replace a draft call's design, if nobody changed it since version",
				object(obj{"version": integer(), "call": input}, "version", "call"), "200", called)), id),
		},
		"/manage/calls/{id}/submit-for-approval": obj{"post": withParams(with409(op("call design",
			"Send a complete draft to the G0 approval gate (it needs at least one question and weighted criteria)", nil, "200", called)), id)},
		"/manage/calls/{id}/g0": obj{"post": withParams(with409(op("call design",
			"Record the G0 decision on a call in review: approve, revise (back to draft) or cancel; a reason is required unless approving",
			object(obj{"decision": obj{"type": "string", "enum": []string{"approve", "revise", "cancel"}}, "reason": str()}, "decision"), "200", called)), id)},
		"/manage/calls/{id}/publish": obj{"post": withParams(with409(op("call design", "Publish an approved call", nil, "200", called)), id)},
		"/manage/calls/{id}/gates": obj{"get": withParams(op("call design", "The call's G0 decisions, oldest first (append-only)", nil, "200",
			listOf("decisions", object(obj{"gate": str(), "decision": str(), "reason": str(), "decided_by": strf("uuid"),
				"decided_by_name": str(), "created_at": strf("date-time")}))), id)},
	}
}

// callDesignSchemas are the call design API's schemas (written out in its
// paths).
func callDesignSchemas() obj {
	text := obj{"type": "object", "description": "Text per language code (en, fr, es): every language of the call",
		"additionalProperties": str()}
	strs := arrayOf(str())
	num := obj{"type": "number"}
	question := object(obj{"id": str(), "kind": obj{"type": "string", "enum": calls.QuestionKinds}, "label": text, "help": text,
		"required": boolean(), "max_words": integer(), "max_chars": integer(), "min": num, "max": num,
		"choices":    arrayOf(object(obj{"value": str(), "label": text}, "value", "label")),
		"visible_if": object(obj{"question": str(), "values": strs}, "question", "values"),
		"file_types": arrayOf(obj{"type": "string", "enum": calls.FileTypes}), "max_file_mb": integer()}, "id", "kind", "label")
	form := object(obj{"sections": arrayOf(object(obj{"id": str(), "round": integer(), "title": text, "questions": arrayOf(question)},
		"id", "round", "title", "questions"))})
	rule := object(obj{"kind": obj{"type": "string", "enum": calls.RuleKinds}, "values": strs, "min_years": integer(),
		"question": str(), "expect": obj{"type": "string", "enum": []string{"yes", "no"}}}, "kind")
	criterion := object(obj{"id": str(), "name": text, "description": text, "weight": num, "scale_min": num, "scale_max": num,
		"step": num, "threshold": num}, "id", "name", "weight", "scale_min", "scale_max", "step")
	input := object(obj{"facility": str(), "origin": obj{"type": "string", "enum": []string{"external", "internal"}},
		"scope":     obj{"type": "string", "enum": []string{"global", "regional", "national"}},
		"languages": arrayOf(obj{"type": "string", "enum": []string{"en", "fr", "es"}}), "title": text, "challenge": text,
		"two_round": boolean(), "opens": obj{"type": "string", "example": "2026-12-01T09:00"}, "closes": obj{"type": "string", "example": "2026-12-15T17:00"},
		"full_proposal_closes": obj{"type": "string", "example": "2027-03-15T17:00", "description": "Two-round calls only (required for them): when the full proposal closes, in the call's timezone, after closes; the grace period applies to it too"},
		"timezone":             obj{"type": "string", "example": "Europe/Zurich"}, "grace_minutes": integer(),
		"currency": obj{"type": "string", "enum": calls.Currencies}, "budget_minor": integer(), "min_grant_minor": integer(),
		"max_grant_minor": integer(), "regions": strs, "countries": strs, "organisation_types": strs, "indicators": strs, "donors": strs,
		"form": form, "eligibility": arrayOf(rule), "criteria": arrayOf(criterion)},
		"facility", "origin", "scope", "languages", "title", "challenge", "opens", "closes", "timezone", "currency",
		"budget_minor", "min_grant_minor", "max_grant_minor")
	call := obj{"type": "object", "description": "A stored call: times in UTC (RFC 3339), status draft, in_review, approved, published or cancelled, and version for optimistic updates"}
	return obj{"CallInput": input, "Call": call, "ManagedCall": object(obj{"call": call, "input": input}, "call", "input")}
}
