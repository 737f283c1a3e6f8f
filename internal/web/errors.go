package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"facility/internal/accounts"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/organisations"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// errNotFound answers 404 for anything the visitor may not know exists.
var errNotFound = echo.NewHTTPError(http.StatusNotFound, "not_found")

// apiError is the one error format of the JSON API.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	RequestID string         `json:"request_id"`
	Fields    []fieldProblem `json:"fields,omitempty"`
}

// statusOf maps domain errors to HTTP.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	var te *accounts.ThrottledError
	switch {
	case errors.As(err, &he):
		code := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" && m != code {
			return he.Code, m
		}
		return he.Code, codeFor(he.Code)
	case errors.As(err, &te):
		return http.StatusTooManyRequests, "throttled"
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, organisations.ErrNotFound),
		errors.Is(err, calls.ErrNotFound), errors.Is(err, proposals.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, calls.ErrConflict), errors.As(err, new(*proposals.ConflictError)):
		return http.StatusConflict, "conflict"
	case errors.Is(err, calls.ErrWrongStatus), errors.Is(err, proposals.ErrWrongStatus):
		return http.StatusConflict, "wrong_status"
	case errors.As(err, new(*proposals.DeadlineError)), errors.Is(err, proposals.ErrClosed), errors.Is(err, proposals.ErrNotOpen):
		return http.StatusUnprocessableEntity, "deadline"
	case errors.Is(err, accounts.ErrBadCredentials):
		return http.StatusUnauthorized, "bad_credentials"
	case errors.Is(err, accounts.ErrNoSession):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, accounts.ErrBadToken), errors.Is(err, organisations.ErrInvitationInvalid):
		return http.StatusGone, "link_invalid"
	case errors.Is(err, accounts.ErrTOTPReplay):
		return http.StatusUnprocessableEntity, "totp_replay"
	case errors.Is(err, authz.ErrInvalidGrant):
		return http.StatusUnprocessableEntity, "invalid_grant"
	}
	if _, ok := validate.As(err); ok {
		return http.StatusUnprocessableEntity, "invalid_input"
	}
	return http.StatusInternalServerError, "internal"
}

func codeFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "throttled"
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusConflict:
		return "conflict"
	}
	return "internal"
}

// handleError answers every error the same way: JSON for the API, a page
// otherwise; a request id, and never internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	status, code := statusOf(err)
	if status >= 500 {
		s.Log.Error("request failed", "request_id", requestID(c), "path", c.Request().URL.Path, "error", err.Error())
		code = codeFor(status)
	}
	var te *accounts.ThrottledError
	if errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds())))
	}
	l := lang(c)
	msg := s.Text.Translate(l, "status_"+code, nil)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if status == http.StatusUnauthorized && !isAPI(c) {
		_ = c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	if isAPI(c) {
		body := apiError{Error: apiErrorBody{Code: code, Message: msg, RequestID: requestID(c)}}
		if fe, ok := validate.As(err); ok {
			for _, e := range fe {
				body.Error.Fields = append(body.Error.Fields, fieldProblem{Field: e.Field, Code: e.Code, Message: fieldMessage(s.Text, l, e)})
			}
		}
		_ = c.JSON(status, body)
		return
	}
	p := s.newPage(c, s.Text.Translate(l, "title_error", nil), map[string]any{"Status": status, "Message": msg})
	if rerr := s.render(c, status, "error", p); rerr != nil {
		s.Log.Error("render error page", "error", rerr)
		_ = c.String(status, fmt.Sprintf("%d %s (request %s)", status, http.StatusText(status), requestID(c)))
	}
}

// deny logs and audits a refused request, then answers 404 (hide) or 403.
func (s *Server) deny(c echo.Context, hide bool, dom, obj, act string) error {
	a := actor(c)
	s.Log.Warn("access denied", "request_id", a.RequestID, "user_id", a.UserID, "domain", dom, "object", obj, "action", act,
		"path", c.Request().URL.Path)
	if err := audit.Write(c.Request().Context(), s.DB.Gorm, a, audit.Entry{Action: "authz.deny", ObjectType: obj,
		ObjectID: c.Request().URL.Path, Domain: dom, Details: map[string]any{"action": act}}); err != nil {
		return err
	}
	if hide {
		return errNotFound
	}
	return echo.NewHTTPError(http.StatusForbidden, "forbidden")
}

// can checks a permission; on refusal it denies (see deny).
func (s *Server) can(c echo.Context, hide bool, dom, obj, act string) error {
	v := currentVisitor(c)
	if !v.fullySignedIn() {
		return echo.NewHTTPError(http.StatusUnauthorized, "unauthorized")
	}
	ok, err := s.Authz.Allowed(v.User.ID, dom, obj, act)
	if err != nil {
		return err
	}
	if !ok {
		return s.deny(c, hide, dom, obj, act)
	}
	return nil
}
