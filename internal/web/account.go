package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"facility/internal/accounts"
	"facility/internal/authz"
	"facility/internal/validate"
)

func (s *Server) accountRoutes() {
	e := s.echo
	e.GET("/account", s.account)
	e.POST("/account/profile", s.updateProfile)
	e.POST("/account/password", s.changePassword)
	e.GET("/account/totp", s.totpSetup)
	e.POST("/account/totp", s.totpConfirm)
	e.POST("/account/totp/disable", s.totpDisable)
	e.POST("/account/sessions/:id/revoke", s.revokeSession)
	e.POST("/account/tokens", s.createToken)
	e.POST("/account/tokens/:id/revoke", s.revokeToken)
	e.POST("/account/verification", s.resendVerification)
}

// signedIn returns the fully signed-in visitor or an error that sends them
// to the sign-in page.
func signedIn(c echo.Context) (*visitor, error) {
	v := currentVisitor(c)
	if !v.fullySignedIn() {
		return nil, echo.NewHTTPError(http.StatusUnauthorized, "unauthorized")
	}
	return v, nil
}

func staffGrants(gs []authz.Grant) []authz.Grant {
	var out []authz.Grant
	for _, g := range gs {
		if slices.Contains(authz.StaffRoles, g.Role) {
			out = append(out, g)
		}
	}
	return out
}

// accountPage renders the account page, with errs and the submitted form
// when a form on it failed.
func (s *Server) accountPage(c echo.Context, status int, errs validate.Errors, form url.Values, newToken string) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sessions, err := s.Accounts.Sessions(ctx, v.User.ID)
	if err != nil {
		return err
	}
	tokens, err := s.Accounts.APITokens(ctx, v.User.ID)
	if err != nil {
		return err
	}
	staff, err := s.Authz.HasStaffRole(ctx, v.User.ID)
	if err != nil {
		return err
	}
	current := ""
	if v.Session != nil {
		current = v.Session.ID
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "account_title", nil), map[string]any{
		"Sessions": sessions, "Tokens": tokens, "Staff": staff, "CurrentSession": current, "NewToken": newToken})
	p.Errors = errs
	if form == nil {
		form = url.Values{"name": {v.User.Name}, "locale": {v.User.Locale}, "timezone": {v.User.Timezone}, "days": {"90"}}
	}
	p.Form = form
	return s.render(c, status, "account", p)
}

func (s *Server) account(c echo.Context) error { return s.accountPage(c, http.StatusOK, nil, nil, "") }

// formResult redisplays the account page on input errors, or follows on.
func (s *Server) formResult(c echo.Context, err error, flash string) error {
	if fe, ok := validate.As(err); ok {
		return s.accountPage(c, http.StatusUnprocessableEntity, fe, formValues(c), "")
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, "/account", flash)
}

func (s *Server) updateProfile(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	err := s.Accounts.UpdateProfile(c.Request().Context(), actor(c), accounts.ProfileInput{
		Name: c.FormValue("name"), Locale: c.FormValue("locale"), Timezone: c.FormValue("timezone")})
	if err == nil {
		// The chosen language applies at once.
		setCookie(c, langCookie, c.FormValue("locale"), 365*24*3600)
	}
	return s.formResult(c, err, "saved")
}

func (s *Server) changePassword(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	sid := ""
	if v.Session != nil {
		sid = v.Session.ID
	}
	err = s.Accounts.ChangePassword(c.Request().Context(), actor(c), sid, c.FormValue("current_password"), c.FormValue("password"))
	return s.formResult(c, err, "password_changed")
}

func (s *Server) totpSetup(c echo.Context) error {
	v := currentVisitor(c)
	if !v.signedIn() || v.ViaToken {
		return echo.NewHTTPError(http.StatusUnauthorized, "unauthorized")
	}
	if v.User.TOTPEnabledAt != nil {
		return c.Redirect(http.StatusSeeOther, "/account")
	}
	en, err := s.Accounts.BeginTOTP(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "totp_setup_title", nil), totpSetupData(en, !v.Session.MFAPassed))
	return s.render(c, http.StatusOK, "totp_setup", p)
}

func (s *Server) totpConfirm(c echo.Context) error {
	v := currentVisitor(c)
	if !v.signedIn() || v.ViaToken {
		return echo.NewHTTPError(http.StatusUnauthorized, "unauthorized")
	}
	token, err := s.Accounts.ConfirmTOTP(c.Request().Context(), actor(c), v.Session.ID, c.FormValue("code"))
	if err != nil {
		fe, ok := codeProblem(err)
		if !ok {
			return err
		}
		en, berr := s.Accounts.BeginTOTP(c.Request().Context(), v.User.ID)
		if berr != nil {
			return berr
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "totp_setup_title", nil), totpSetupData(en, !v.Session.MFAPassed))
		p.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, "totp_setup", p)
	}
	setCookie(c, sessionCookie, token, 0)
	return redirectWithFlash(c, "/account", "totp_enabled")
}

func (s *Server) totpDisable(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	err := s.Accounts.DisableTOTP(c.Request().Context(), actor(c), c.FormValue("code"))
	if fe, ok := codeProblem(err); ok {
		err = fe
	}
	return s.formResult(c, err, "totp_disabled")
}

func (s *Server) revokeSession(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	return s.formResult(c, s.Accounts.RevokeSession(c.Request().Context(), actor(c), c.Param("id")), "session_revoked")
}

func (s *Server) createToken(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	days, err := strconv.Atoi(c.FormValue("days"))
	if err != nil {
		return s.accountPage(c, http.StatusUnprocessableEntity, validate.Errors{{Field: "days", Code: "not_a_number"}}, formValues(c), "")
	}
	token, _, err := s.Accounts.CreateAPIToken(c.Request().Context(), actor(c), c.FormValue("token_name"), days)
	if fe, ok := validate.As(err); ok {
		for i := range fe {
			if fe[i].Field == "name" {
				fe[i].Field = "token_name"
			}
		}
		return s.accountPage(c, http.StatusUnprocessableEntity, fe, formValues(c), "")
	}
	if err != nil {
		return err
	}
	// Shown once, on this response only; never put in a URL.
	return s.accountPage(c, http.StatusOK, nil, nil, token)
}

func (s *Server) revokeToken(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	return s.formResult(c, s.Accounts.RevokeAPIToken(c.Request().Context(), actor(c), c.Param("id")), "token_revoked")
}

func (s *Server) resendVerification(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	if err := s.Accounts.ResendVerification(c.Request().Context(), actor(c)); err != nil {
		return err
	}
	return redirectWithFlash(c, "/", "verification_sent")
}

// totpSetupData is what the set-up page shows. The QR code is a data: URL
// made by the server, so it is marked safe for the img src (html/template
// would otherwise replace it).
func totpSetupData(en *accounts.Enrolment, required bool) map[string]any {
	return map[string]any{"Secret": en.Secret, "QR": template.URL(en.QRDataURI), "Required": required}
}

// codeProblem reads a second-factor error as a problem with the code field:
// a replayed code is the person's mistake to correct, like a wrong one.
func codeProblem(err error) (validate.Errors, bool) {
	if errors.Is(err, accounts.ErrTOTPReplay) {
		return validate.Errors{{Field: "code", Code: "totp_replay"}}, true
	}
	return validate.As(err)
}
