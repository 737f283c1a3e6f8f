package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/accounts"
	"facility/internal/audit"
	"facility/internal/i18n"
)

// Context keys.
const (
	keyVisitor = "facility.visitor"
	keyLang    = "facility.lang"
)

// visitor is who is making the request.
type visitor struct {
	User    *accounts.User
	Session *accounts.Session // nil for API tokens
	Token   string            // the session cookie's token
	// ViaToken: authenticated by an API token, so CSRF does not apply.
	ViaToken bool
}

func (v *visitor) signedIn() bool { return v != nil && v.User != nil }

func (v *visitor) fullySignedIn() bool {
	return v.signedIn() && (v.ViaToken || v.Session.MFAPassed)
}

func currentVisitor(c echo.Context) *visitor {
	v, _ := c.Get(keyVisitor).(*visitor)
	if v == nil {
		return &visitor{}
	}
	return v
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

func lang(c echo.Context) string {
	if l, ok := c.Get(keyLang).(string); ok {
		return l
	}
	return i18n.Languages[0]
}

// actor describes the request for audit records.
func actor(c echo.Context) audit.Actor {
	a := audit.Actor{IP: c.RealIP(), RequestID: requestID(c)}
	if v := currentVisitor(c); v.signedIn() {
		a.UserID = v.User.ID
	}
	return a
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.Log.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = echo.NewHTTPError(http.StatusInternalServerError)
			}
		}()
		return next(c)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelInfo
		switch {
		case status == http.StatusServiceUnavailable:
			// Overload refusals are expected under a burst; the client retries.
			level = slog.LevelWarn
		case status >= 500:
			level = slog.LevelError
		case c.Request().URL.Path == "/healthz" || c.Request().URL.Path == "/readyz" || c.Request().URL.Path == "/metrics":
			level = slog.LevelDebug
		}
		if !s.Log.Enabled(c.Request().Context(), level) {
			return nil
		}
		attrs := []any{"request_id", requestID(c), "method", c.Request().Method, "path", c.Request().URL.Path,
			"status", status, "duration_ms", time.Since(start).Milliseconds(), "ip", c.RealIP()}
		if v := currentVisitor(c); v.signedIn() {
			attrs = append(attrs, "user_id", v.User.ID)
		}
		s.Log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// securityHeaders: a strict CSP (own scripts and styles only, no framing),
// HSTS, no sniffing, no referrer leaking tokens in paths, and no caching of
// anything but static files.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "public, max-age=3600")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		if c.Request().Method == http.MethodTrace || c.Request().Method == "TRACK" {
			return echo.NewHTTPError(http.StatusMethodNotAllowed)
		}
		return next(c)
	}
}

// requestTimeout bounds the work of a request, so that waiting for a
// database connection under load ends in a 503 the client can retry rather
// than a hang. Uploads stream for as long as their own deadlines allow.
const requestTimeout = 15 * time.Second

func limitTime(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isUploadRequest(c) {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), requestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		err := next(c)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			c.Response().Header().Set("Retry-After", "5")
			return echo.NewHTTPError(http.StatusServiceUnavailable, "unavailable")
		}
		return err
	}
}

func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := s.Config.MaxBodyBytes
		if isUploadRequest(c) {
			// Uploads stream, with the question's own limit (attachments.go).
			limit = maxUploadRequestBytes
		}
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

// chooseLanguage: the language cookie set by the switcher, then the
// signed-in person's preference (set later by identify), then the browser's.
func (s *Server) chooseLanguage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		l := s.Text.Match(c.Request().Header.Get("Accept-Language"))
		if ck, err := c.Cookie(langCookie); err == nil && i18n.Supported(ck.Value) {
			l = ck.Value
		}
		c.Set(keyLang, l)
		return next(c)
	}
}

// identify finds the visitor from the session cookie or a bearer token, and
// makes sure the policy in memory is the stored one before anything is decided.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			return next(c)
		}
		ctx := c.Request().Context()
		v := &visitor{}
		// The policy version is read by the statement that identifies the
		// visitor, so checking that the policy is current costs nothing more.
		var policyVersion int64
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return echo.NewHTTPError(http.StatusUnauthorized, "bearer")
			}
			id, err := s.Accounts.IdentifyAPIToken(ctx, strings.TrimSpace(token))
			if err != nil {
				if errors.Is(err, accounts.ErrNoSession) {
					return echo.NewHTTPError(http.StatusUnauthorized, "bearer")
				}
				return err
			}
			v, policyVersion = &visitor{User: id.User, ViaToken: true}, id.PolicyVersion
		} else if ck, err := c.Cookie(sessionCookie); err == nil {
			id, err := s.Accounts.IdentifySession(ctx, ck.Value)
			switch {
			case err == nil:
				v, policyVersion = &visitor{User: id.User, Session: id.Session, Token: ck.Value}, id.PolicyVersion
			case errors.Is(err, accounts.ErrNoSession):
				clearCookie(c, sessionCookie)
			default:
				return err
			}
		}
		if v.signedIn() {
			// The account's language, unless the person chose another in
			// this browser, or a program asks for one with Accept-Language.
			_, cerr := c.Cookie(langCookie)
			asked := isAPI(c) && c.Request().Header.Get("Accept-Language") != ""
			if cerr != nil && !asked {
				c.Set(keyLang, v.User.Locale)
			}
			if err := s.Authz.RefreshTo(ctx, policyVersion); err != nil {
				return err
			}
		}
		c.Set(keyVisitor, v)
		return next(c)
	}
}

func skipCSRF(c echo.Context) bool {
	// Uploads check CSRF themselves (attachments.go): looking for the token
	// in the form would parse, and buffer, the whole multipart body.
	return isUploadRequest(c) || bearerOnly(c)
}

// bearerOnly: a program with a bearer token sends no cookies a forged page
// could ride on.
func bearerOnly(c echo.Context) bool {
	if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		if _, err := c.Cookie(sessionCookie); err != nil {
			return true
		}
	}
	return false
}

// requireSecondFactor keeps a session that has only passed the password on
// the pages that finish signing in.
func (s *Server) requireSecondFactor(next echo.HandlerFunc) echo.HandlerFunc {
	allowed := map[string]bool{
		"/login/totp": true, "/account/totp": true, "/logout": true, "/language": true,
		"/api/v1/session/totp": true, "/api/v1/session": true, "/api/v1/me/totp": true,
	}
	return func(c echo.Context) error {
		v := currentVisitor(c)
		if !v.signedIn() || v.fullySignedIn() || allowed[c.Request().URL.Path] ||
			strings.HasPrefix(c.Request().URL.Path, "/static/") {
			return next(c)
		}
		if isAPI(c) {
			return echo.NewHTTPError(http.StatusUnauthorized, "second_factor_required")
		}
		if v.User.TOTPEnabledAt == nil {
			return c.Redirect(http.StatusSeeOther, "/account/totp")
		}
		return c.Redirect(http.StatusSeeOther, "/login/totp")
	}
}

func setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

func clearCookie(c echo.Context, name string) { setCookie(c, name, "", -1) }
