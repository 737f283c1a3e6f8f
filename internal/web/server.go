// Package web is Facility's HTTP layer: server-rendered pages that work
// without JavaScript, and the JSON API under /api/v1 with its OpenAPI
// document. Handlers translate between HTTP and domain calls and nothing
// more; rules live in the domain packages.
package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"facility/internal/accounts"
	"facility/internal/attachments"
	"facility/internal/authz"
	"facility/internal/blob"
	"facility/internal/calls"
	"facility/internal/config"
	"facility/internal/database"
	"facility/internal/i18n"
	"facility/internal/organisations"
	"facility/internal/proposals"
	"facility/internal/screening"
)

// Deps are what the HTTP layer calls.
type Deps struct {
	Config        *config.Config
	DB            *database.DB
	Accounts      *accounts.Service
	Organisations *organisations.Service
	Calls         *calls.Service
	Proposals     *proposals.Service
	Desk          *proposals.Desk // submissions, in group commits
	Blobs         *blob.Store
	Attachments   *attachments.Service
	Screening     *screening.Service
	Authz         *authz.Enforcer
	Text          *i18n.Catalogue
	Log           *slog.Logger
	Version       string
	// Registry receives the HTTP metrics; nil uses a private registry.
	Registry *prometheus.Registry
}

// Server is the HTTP application.
type Server struct {
	Deps
	echo          *echo.Echo
	templates     map[string]*template.Template
	uploadMetrics *uploadMetrics
}

// Cookie names. The __Host- prefix makes browsers refuse them unless Secure,
// host-only and for the whole path.
const (
	sessionCookie = "__Host-facility_session"
	csrfCookie    = "__Host-facility_csrf"
	langCookie    = "__Host-facility_lang"
)

// New builds the application and its routes.
func New(d Deps) (*Server, error) {
	s := &Server{Deps: d}
	tpl, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	s.templates = tpl

	e := echo.New()
	e.HideBanner, e.HidePort, e.Debug = true, true, false
	e.HTTPErrorHandler = s.handleError
	if err := s.setIPExtractor(e); err != nil {
		return nil, err
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.uploadMetrics = newUploadMetrics(reg)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.recoverPanics)
	e.Use(s.logRequests)
	e.Use(securityHeaders)
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Registerer: reg,
		Skipper:    func(c echo.Context) bool { return c.Path() == "/metrics" },
	}))
	e.Use(limitTime)
	e.Use(s.limitBody)
	e.Use(s.chooseLanguage)
	e.Use(s.identify)
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:csrf",
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieSecure:   true,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		Skipper:        skipCSRF,
		ErrorHandler: func(err error, c echo.Context) error {
			s.Log.Warn("cross-site request refused", "path", c.Request().URL.Path, "request_id", requestID(c), "reason", err.Error())
			return echo.NewHTTPError(http.StatusForbidden, "csrf")
		},
	}))
	e.Use(s.requireSecondFactor)
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: reg}))
	s.echo = e
	s.routes()
	return s, nil
}

func (s *Server) setIPExtractor(e *echo.Echo) error {
	if s.Config.IPSource == "direct" {
		// No proxy in front: X-Forwarded-For is whatever a client wrote.
		e.IPExtractor = echo.ExtractIPDirect()
		return nil
	}
	nets, err := s.Config.TrustedProxyNets()
	if err != nil {
		return err
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range nets {
		opts = append(opts, echo.TrustIPRange(n))
	}
	e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	return nil
}

// Handler is the whole application as an http.Handler (tests use it directly).
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer wraps a handler with the timeouts and limits every listener
// needs: slow clients cannot hold connections open (slowloris), and
// oversized headers are refused.
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Routes lists the registered routes (the OpenAPI test compares them).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }
