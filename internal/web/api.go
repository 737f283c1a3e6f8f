package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"facility/internal/accounts"
	"facility/internal/validate"
)

// decodeJSON reads a request body into an explicit input struct, refusing
// unknown fields, trailing data and malformed JSON with a field-level error.
func decodeJSON(c echo.Context, into any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return validate.One("body", "json_required")
	}
	// Bodies are bounded by the body limit, so reading one whole is safe; it
	// lets invalid UTF-8 be refused instead of silently replaced by the decoder.
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return validate.One("body", "invalid_json")
	}
	if !utf8.Valid(body) {
		return validate.One("body", "invalid_utf8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return validate.One(strings.ReplaceAll(ute.Field, ".", "_"), "wrong_type")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return validate.One(strings.Trim(f, `"`), "unknown_field")
		}
		return validate.One("body", "invalid_json")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return validate.One("body", "invalid_json")
	}
	return nil
}

func (s *Server) apiRoutes() {
	g := s.echo.Group("/api/v1")
	g.GET("/openapi.json", s.openAPIDocument)
	g.POST("/registrations", s.apiRegister)
	g.POST("/session", s.apiLogin)
	g.POST("/session/totp", s.apiTOTP)
	g.DELETE("/session", s.apiLogout)
	g.POST("/email-verifications/:token", s.apiVerify)
	g.POST("/password-resets", s.apiForgot)
	g.POST("/password-resets/:token", s.apiReset)
	g.GET("/me", s.apiMe)
	g.PATCH("/me", s.apiUpdateMe)
	g.GET("/me/sessions", s.apiSessions)
	g.DELETE("/me/sessions/:id", s.apiRevokeSession)
	g.GET("/me/tokens", s.apiTokens)
	g.POST("/me/tokens", s.apiCreateToken)
	g.DELETE("/me/tokens/:id", s.apiRevokeToken)
	g.GET("/reference/:table", s.apiReference)
	s.apiOrganisationRoutes(g)
	s.apiAdminRoutes(g)
	s.apiCallDesignRoutes(g)
	s.apiPublicCallRoutes(g)
	s.apiProposalRoutes(g)
	s.apiAttachmentRoutes(g)
	s.apiScreeningRoutes(g)
	s.apiRoundRoutes(g)
}

func (s *Server) apiRegister(c echo.Context) error {
	var r registration
	if err := decodeJSON(c, &r); err != nil {
		return err
	}
	u, err := s.signUp(c, r, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) apiLogin(c echo.Context) error {
	var in credentials
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	res, err := s.Accounts.Login(c.Request().Context(), actor(c), in.Email, in.Password, c.Request().UserAgent())
	if err != nil {
		return err
	}
	setCookie(c, sessionCookie, res.Token, 0)
	return c.JSON(http.StatusOK, map[string]any{"second_factor_required": res.NeedsTOTP, "second_factor_enrolment_required": res.NeedsEnrolment})
}

type codeInput struct {
	Code string `json:"code"`
}

func (s *Server) apiTOTP(c echo.Context) error {
	v := currentVisitor(c)
	if !v.signedIn() || v.ViaToken {
		return echo.NewHTTPError(http.StatusUnauthorized, "unauthorized")
	}
	var in codeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	token, err := s.Accounts.VerifyTOTP(c.Request().Context(), actor(c), v.Session.ID, in.Code)
	if err != nil {
		return err
	}
	setCookie(c, sessionCookie, token, 0)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiLogout(c echo.Context) error {
	v := currentVisitor(c)
	if v.signedIn() && !v.ViaToken {
		if err := s.Accounts.Logout(c.Request().Context(), actor(c), v.Token); err != nil {
			return err
		}
	}
	clearCookie(c, sessionCookie)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiVerify(c echo.Context) error {
	if err := s.Accounts.VerifyEmail(c.Request().Context(), actor(c), c.Param("token")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type emailInput struct {
	Email string `json:"email"`
}

func (s *Server) apiForgot(c echo.Context) error {
	var in emailInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.RequestPasswordReset(c.Request().Context(), actor(c), in.Email); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

type passwordInput struct {
	Password string `json:"password"`
}

func (s *Server) apiReset(c echo.Context) error {
	var in passwordInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.ResetPassword(c.Request().Context(), actor(c), c.Param("token"), in.Password); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiMe(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	grants, err := s.Authz.Grants(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"user": v.User, "roles": grants})
}

type profileInput struct {
	Name     *string `json:"name"`
	Locale   *string `json:"locale"`
	Timezone *string `json:"timezone"`
}

func (s *Server) apiUpdateMe(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	var in profileInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := accounts.ProfileInput{Name: v.User.Name, Locale: v.User.Locale, Timezone: v.User.Timezone}
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Locale != nil {
		p.Locale = *in.Locale
	}
	if in.Timezone != nil {
		p.Timezone = *in.Timezone
	}
	if err := s.Accounts.UpdateProfile(c.Request().Context(), actor(c), p); err != nil {
		return err
	}
	u, err := s.Accounts.User(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) apiSessions(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.Sessions(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": list})
}

func (s *Server) apiRevokeSession(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	if err := s.Accounts.RevokeSession(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiTokens(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.APITokens(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": list})
}

type tokenInput struct {
	Name string `json:"name"`
	Days int    `json:"days"`
}

func (s *Server) apiCreateToken(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	if v.ViaToken {
		// A token cannot mint tokens: a leaked one must not outlive its revocation.
		return echo.NewHTTPError(http.StatusForbidden, "forbidden")
	}
	var in tokenInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	token, t, err := s.Accounts.CreateAPIToken(c.Request().Context(), actor(c), in.Name, in.Days)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"token": token, "details": t})
}

func (s *Server) apiRevokeToken(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	if err := s.Accounts.RevokeAPIToken(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// referenceTables are the lists the API publishes, with their key column.
var referenceTables = map[string][2]string{
	"countries":            {"countries", "iso2"},
	"organisation-types":   {"organisation_types", "code"},
	"facilities":           {"thematic_facilities", "code"},
	"regions":              {"ilo_regions", "code"},
	"subregions":           {"ilo_subregions", "code"},
	"innovation-processes": {"iso_processes", "code"},
	"indicators":           {"indicators", "code"},
}

func (s *Server) apiReference(c echo.Context) error {
	t, ok := referenceTables[c.Param("table")]
	if !ok {
		return errNotFound
	}
	var rows []map[string]any
	if err := s.DB.Gorm.WithContext(c.Request().Context()).Table(t[0]).Order(t[1]).Find(&rows).Error; err != nil {
		return fmt.Errorf("read %s: %w", t[0], err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age="+fmt.Sprint(int(time.Hour.Seconds())))
	return c.JSON(http.StatusOK, map[string]any{"items": rows})
}
