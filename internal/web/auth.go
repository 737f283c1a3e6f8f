package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"facility/internal/accounts"
	"facility/internal/i18n"
	"facility/internal/organisations"
	"facility/internal/validate"
)

func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	e.GET("/static/*", s.static)
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })
	e.GET("/", s.home)
	e.POST("/language", s.setLanguage)
	e.GET("/register", s.registerForm)
	e.POST("/register", s.register)
	e.GET("/login", s.loginForm)
	e.POST("/login", s.login)
	e.GET("/login/totp", s.totpForm)
	e.POST("/login/totp", s.totpVerify)
	e.POST("/logout", s.logout)
	e.GET("/verify-email/:token", s.verifyForm)
	e.POST("/verify-email/:token", s.verify)
	e.GET("/forgot-password", s.forgotForm)
	e.POST("/forgot-password", s.forgot)
	e.GET("/reset-password/:token", s.resetForm)
	e.POST("/reset-password/:token", s.reset)
	s.accountRoutes()
	s.organisationRoutes()
	s.adminRoutes()
	s.callDesignRoutes()
	s.publicCallRoutes()
	s.proposalRoutes()
	s.attachmentRoutes()
	s.screeningRoutes()
	s.roundRoutes()
	s.apiRoutes()
}

func (s *Server) ready(c echo.Context) error {
	if err := s.DB.Ready(c.Request().Context()); err != nil {
		s.Log.Warn("not ready", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) setLanguage(c echo.Context) error {
	l := c.FormValue("lang")
	if !i18n.Supported(l) {
		return validate.One("lang", "not_allowed")
	}
	setCookie(c, langCookie, l, 365*24*3600)
	back := c.FormValue("back")
	// Only a path on this site, never another host.
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = "/"
	}
	return c.Redirect(http.StatusSeeOther, s.pageFor(back))
}

// pageFor returns path, or the nearest parent path that is a page: a form
// that failed was shown at the address it posted to, which may answer
// only POST (/account/profile -> /account).
func (s *Server) pageFor(path string) string {
	for path != "/" && path != "" {
		ctx := s.echo.NewContext(nil, nil)
		s.echo.Router().Find(http.MethodGet, path, ctx)
		for _, r := range s.echo.Routes() {
			if r.Method == http.MethodGet && r.Path == ctx.Path() && r.Path != "/static/*" {
				return path
			}
		}
		path = path[:strings.LastIndex(path, "/")]
	}
	return "/"
}

func (s *Server) home(c echo.Context) error {
	v := currentVisitor(c)
	data := map[string]any{}
	if v.fullySignedIn() {
		orgs, err := s.Organisations.ForUser(c.Request().Context(), v.User.ID)
		if err != nil {
			return err
		}
		grants, err := s.Authz.Grants(c.Request().Context(), v.User.ID)
		if err != nil {
			return err
		}
		data["Organisations"] = orgs
		data["Roles"] = staffGrants(grants)
	}
	return s.render(c, http.StatusOK, "home", s.newPage(c, s.Text.Translate(lang(c), "title_home", nil), data))
}

func (s *Server) registerForm(c echo.Context) error {
	data, err := s.orgFormData(c.Request().Context(), lang(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "register", s.newPage(c, s.Text.Translate(lang(c), "register_title", nil), data))
}

// registration is the sign-up form, shared by the page and the API.
type registration struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Password     string `json:"password"`
	Locale       string `json:"locale"`
	Organisation struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Country     string `json:"country"`
		YearFounded int    `json:"year_founded"`
		Website     string `json:"website"`
	} `json:"organisation"`
}

// signUp validates everything first so one answer lists every problem,
// then writes the person and the organisation in one transaction.
// unreadable lists fields a form sent that could not even be read (a year
// that is not a number); they replace what the checks say of those fields.
func (s *Server) signUp(c echo.Context, r registration, unreadable validate.Errors) (*accounts.User, error) {
	ctx := c.Request().Context()
	if r.Locale == "" {
		r.Locale = lang(c)
	}
	in := accounts.RegisterInput{Email: r.Email, Name: r.Name, Password: r.Password, Locale: r.Locale}
	org := organisations.Input{Name: r.Organisation.Name, TypeCode: r.Organisation.Type, CountryISO2: r.Organisation.Country,
		YearFounded: r.Organisation.YearFounded, Website: r.Organisation.Website}
	errs := withUnreadable(append(in.Check(), s.Organisations.Check(ctx, &org, orgPrefix)...), unreadable)
	if len(errs) > 0 {
		return nil, errs
	}
	u, err := s.Accounts.Register(ctx, actor(c), in, func(tx *gorm.DB, u *accounts.User) error {
		_, err := s.Organisations.CreateTx(tx, actor(c), u.ID, org)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Authz.Changed(ctx)
	return u, nil
}

func (s *Server) register(c echo.Context) error {
	var r registration
	r.Name, r.Email, r.Password = c.FormValue("name"), c.FormValue("email"), c.FormValue("password")
	org, yearErr := orgInputFromForm(c)
	r.Organisation.Name, r.Organisation.Type, r.Organisation.Country = org.Name, org.TypeCode, org.CountryISO2
	r.Organisation.Website, r.Organisation.YearFounded = org.Website, org.YearFounded
	var unreadable validate.Errors
	if yearErr != nil {
		unreadable = validate.Errors{*yearErr}
	}
	_, err := s.signUp(c, r, unreadable)
	if fe, ok := validate.As(err); ok {
		data, derr := s.orgFormData(c.Request().Context(), lang(c))
		if derr != nil {
			return derr
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "register_title", nil), data)
		p.Errors, p.Form = fe, formValues(c)
		return s.render(c, http.StatusUnprocessableEntity, "register", p)
	}
	if err != nil {
		return err
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "register_done_title", nil), s.Text.Translate(lang(c), "register_done", map[string]any{"Email": strings.ToLower(strings.TrimSpace(r.Email))}))
	return s.render(c, http.StatusOK, "message", p)
}

func (s *Server) loginForm(c echo.Context) error {
	if currentVisitor(c).fullySignedIn() {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, http.StatusOK, "login", s.newPage(c, s.Text.Translate(lang(c), "login_title", nil), nil))
}

func (s *Server) login(c echo.Context) error {
	res, err := s.Accounts.Login(c.Request().Context(), actor(c), c.FormValue("email"), c.FormValue("password"), c.Request().UserAgent())
	if err != nil {
		var fe validate.Errors
		switch {
		case errors.Is(err, accounts.ErrBadCredentials):
			fe = validate.Errors{{Field: "password", Code: "bad_credentials"}}
		case errors.Is(err, accounts.ErrThrottled):
			var te *accounts.ThrottledError
			errors.As(err, &te)
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds())))
			fe = validate.Errors{{Field: "email", Code: "throttled", Params: map[string]any{"Minutes": int(te.RetryAfter.Minutes())}}}
			p := s.newPage(c, s.Text.Translate(lang(c), "login_title", nil), nil)
			p.Errors, p.Form = fe, formValues(c)
			return s.render(c, http.StatusTooManyRequests, "login", p)
		default:
			var ok bool
			if fe, ok = validate.As(err); !ok {
				return err
			}
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "login_title", nil), nil)
		p.Errors, p.Form = fe, formValues(c)
		return s.render(c, http.StatusUnprocessableEntity, "login", p)
	}
	setCookie(c, sessionCookie, res.Token, 0)
	switch {
	case res.NeedsTOTP:
		return c.Redirect(http.StatusSeeOther, "/login/totp")
	case res.NeedsEnrolment:
		return c.Redirect(http.StatusSeeOther, "/account/totp")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) totpForm(c echo.Context) error {
	v := currentVisitor(c)
	if !v.signedIn() || v.ViaToken {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if v.fullySignedIn() {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, http.StatusOK, "login_totp", s.newPage(c, s.Text.Translate(lang(c), "totp_title", nil), nil))
}

func (s *Server) totpVerify(c echo.Context) error {
	v := currentVisitor(c)
	if !v.signedIn() || v.ViaToken {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	token, err := s.Accounts.VerifyTOTP(c.Request().Context(), actor(c), v.Session.ID, c.FormValue("code"))
	if err != nil {
		fe, ok := codeProblem(err)
		if !ok {
			return err
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "totp_title", nil), nil)
		p.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, "login_totp", p)
	}
	setCookie(c, sessionCookie, token, 0)
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) logout(c echo.Context) error {
	v := currentVisitor(c)
	if v.signedIn() && !v.ViaToken {
		if err := s.Accounts.Logout(c.Request().Context(), actor(c), v.Token); err != nil {
			return err
		}
	}
	clearCookie(c, sessionCookie)
	return redirectWithFlash(c, "/", "signed_out")
}

func (s *Server) verifyForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "verify_email", s.newPage(c, s.Text.Translate(lang(c), "verify_title", nil), c.Param("token")))
}

func (s *Server) verify(c echo.Context) error {
	if err := s.Accounts.VerifyEmail(c.Request().Context(), actor(c), c.Param("token")); err != nil {
		return err
	}
	return redirectWithFlash(c, "/", "email_verified")
}

func (s *Server) forgotForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "forgot_password", s.newPage(c, s.Text.Translate(lang(c), "forgot_title", nil), nil))
}

func (s *Server) forgot(c echo.Context) error {
	err := s.Accounts.RequestPasswordReset(c.Request().Context(), actor(c), c.FormValue("email"))
	if fe, ok := validate.As(err); ok {
		p := s.newPage(c, s.Text.Translate(lang(c), "forgot_title", nil), nil)
		p.Errors, p.Form = fe, formValues(c)
		return s.render(c, http.StatusUnprocessableEntity, "forgot_password", p)
	}
	if err != nil {
		return err
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "forgot_title", nil), s.Text.Translate(lang(c), "forgot_sent", nil))
	return s.render(c, http.StatusOK, "message", p)
}

func (s *Server) resetForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "reset_password", s.newPage(c, s.Text.Translate(lang(c), "reset_title", nil), c.Param("token")))
}

func (s *Server) reset(c echo.Context) error {
	err := s.Accounts.ResetPassword(c.Request().Context(), actor(c), c.Param("token"), c.FormValue("password"))
	if fe, ok := validate.As(err); ok {
		p := s.newPage(c, s.Text.Translate(lang(c), "reset_title", nil), c.Param("token"))
		p.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, "reset_password", p)
	}
	if err != nil {
		return err
	}
	clearCookie(c, sessionCookie)
	return redirectWithFlash(c, "/login", "password_reset")
}

// withUnreadable puts the fields a form sent that could not be read at all
// (a year that is not a number) in place of what the checks said of them.
func withUnreadable(checked, unreadable validate.Errors) validate.Errors {
	out := append(validate.Errors{}, unreadable...)
	for _, e := range checked {
		if !unreadable.Has(e.Field) {
			out = append(out, e)
		}
	}
	return out
}
