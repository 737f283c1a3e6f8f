package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"facility/internal/accounts"
	"facility/internal/authz"
	"facility/internal/i18n"
	"facility/internal/validate"
	"facility/ui"
)

// loadTemplates parses the layout with each page into its own set, so pages
// may define the same blocks. Files in shared/ hold blocks used by several
// pages and are parsed into every set (a folder, because go:embed leaves out
// files whose names start with "_" or ".").
func loadTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(ui.Templates(), "*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	shared, err := fs.Glob(ui.Templates(), "shared/*.html")
	if err != nil {
		return nil, fmt.Errorf("list shared templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(template.FuncMap{
			// field passes a page and a field's settings to the "field" block.
			"field": func(p *page, name, kind, autocomplete string, required bool) map[string]any {
				return map[string]any{"P": p, "Name": name, "Kind": kind, "Autocomplete": autocomplete, "Required": required}
			},
			"fmtTime": fmtZone,
			"inZones": inZones,
		}).ParseFS(ui.Templates(), append([]string{"layout.html", n}, shared...)...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", n, err)
		}
		out[strings.TrimSuffix(n, ".html")] = t
	}
	return out, nil
}

// page is what every template receives.
type page struct {
	Lang      string
	Languages []string
	Title     string
	User      *accounts.User
	SignedIn  bool // fully: password and, where needed, second factor
	IsAdmin   bool
	IsAuditor bool
	IsManager bool
	CSRF      string
	Path      string
	RequestID string
	Flash     string
	Errors    validate.Errors
	Form      url.Values
	Data      any
	text      *i18n.Catalogue
}

// T translates a message; args are name/value pairs for its placeholders.
func (p *page) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 1 {
		data = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return p.text.Translate(p.Lang, id, data)
}

// FieldError is the translated message for a field, or "".
func (p *page) FieldError(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return fieldMessage(p.text, p.Lang, e)
		}
	}
	return ""
}

// ErrorList is every field error, translated, for the summary at the top of a form.
func (p *page) ErrorList() []fieldProblem {
	out := make([]fieldProblem, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, fieldProblem{Field: e.Field, Code: e.Code, Message: fieldMessage(p.text, p.Lang, e)})
	}
	return out
}

// Value is the submitted value of a field, to refill a form after an error.
func (p *page) Value(field string) string { return p.Form.Get(field) }

type fieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fieldMessage renders "Field: problem" in the reader's language.
func fieldMessage(text *i18n.Catalogue, lang string, e validate.FieldError) string {
	// A field without a label (an unknown JSON field) is named as sent.
	label := e.Field
	if text.Has("field_" + e.Field) {
		label = text.Translate(lang, "field_"+e.Field, nil)
	}
	return text.Translate(lang, "error_"+e.Code, mergeParams(e.Params, "Field", label))
}

func mergeParams(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

func (s *Server) newPage(c echo.Context, title string, data any) *page {
	v := currentVisitor(c)
	p := &page{Lang: lang(c), Languages: i18n.Languages, Title: title, User: v.User, Path: c.Request().URL.Path,
		RequestID: requestID(c), Data: data, text: s.Text, Form: url.Values{}}
	if tok, ok := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string); ok {
		p.CSRF = tok
	}
	p.SignedIn = v.fullySignedIn()
	if v.fullySignedIn() {
		p.IsAdmin, _ = s.Authz.Allowed(v.User.ID, "system", authz.ObjRole, authz.ActGrant)
		p.IsAuditor, _ = s.Authz.Allowed(v.User.ID, "system", authz.ObjAudit, authz.ActRead)
		if grants, err := s.Authz.Grants(c.Request().Context(), v.User.ID); err == nil {
			for _, g := range grants {
				p.IsManager = p.IsManager || g.Role == authz.RoleManager
			}
		}
	}
	if f, err := c.Cookie("__Host-facility_flash"); err == nil {
		p.Flash = s.Text.Translate(p.Lang, "flash_"+f.Value, nil)
		clearCookie(c, "__Host-facility_flash")
	}
	return p
}

// render writes a page with status.
func (s *Server) render(c echo.Context, status int, name string, p *page) error {
	t, ok := s.templates[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// redirectWithFlash sends the browser on after a successful form, with a
// one-time message (a message id, never user text).
func redirectWithFlash(c echo.Context, to, flash string) error {
	if flash != "" {
		c.SetCookie(&http.Cookie{Name: "__Host-facility_flash", Value: flash, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, MaxAge: 60})
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// formValues returns the submitted form, for refilling it after an error
// (passwords are never sent back).
func formValues(c echo.Context) url.Values {
	f, err := c.FormParams()
	if err != nil {
		return url.Values{}
	}
	out := url.Values{}
	for k, v := range f {
		if strings.Contains(k, "password") || k == "csrf" {
			continue
		}
		out[k] = v
	}
	return out
}

// inZones shows t in the first zone, then in parentheses in each other zone
// that reads differently ("2026-12-22 16:30 UTC (2026-12-22 17:30 CET)").
func inZones(t time.Time, zones ...string) string {
	return zonesIn(t, fmtZone, zones)
}

// inZonesToSecond is inZones to the second, for times that prove when
// something was received (receipts).
func inZonesToSecond(t time.Time, zones ...string) string {
	return zonesIn(t, fmtZoneToSecond, zones)
}

func zonesIn(t time.Time, format func(time.Time, string) string, zones []string) string {
	if len(zones) == 0 {
		return format(t, "UTC")
	}
	first := format(t, zones[0])
	seen := map[string]bool{first: true}
	var others []string
	for _, z := range zones[1:] {
		if s := format(t, z); !seen[s] {
			seen[s] = true
			others = append(others, s)
		}
	}
	if len(others) == 0 {
		return first
	}
	return first + " (" + strings.Join(others, "; ") + ")"
}
