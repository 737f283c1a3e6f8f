package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/accounts"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
	"facility/internal/mail"
	"facility/internal/validate"
)

// Administration (people, role grants, the local mail outbox) and the audit
// log for auditors. Every page checks its permission with s.can, so a refusal
// answers 403 and is itself audited.

func (s *Server) adminRoutes() {
	e := s.echo
	e.GET("/admin/users", s.adminUsers)
	e.GET("/admin/users/:id", s.adminUser)
	e.POST("/admin/users/:id/disable", s.adminDisable)
	e.POST("/admin/users/:id/enable", s.adminEnable)
	e.POST("/admin/roles", s.adminGrant)
	e.POST("/admin/roles/revoke", s.adminRevoke)
	e.GET("/admin/outbox", s.adminOutbox)
	e.GET("/audit", s.auditPage)
	e.POST("/audit/verify", s.auditVerify)
	e.GET("/audit.csv", s.auditCSV)
}

func (s *Server) apiAdminRoutes(g *echo.Group) {
	g.GET("/admin/users", s.apiAdminUsers)
	g.GET("/admin/users/:id", s.apiAdminUser)
	g.POST("/admin/users/:id/disable", s.apiAdminDisable)
	g.POST("/admin/users/:id/enable", s.apiAdminEnable)
	g.GET("/admin/roles", s.apiAdminRoles)
	g.POST("/admin/roles", s.apiAdminGrant)
	g.DELETE("/admin/roles", s.apiAdminRevoke)
	g.POST("/admin/roles/revoke", s.apiAdminRevoke)
	g.GET("/admin/outbox", s.apiAdminOutbox)
	g.GET("/audit", s.apiAudit)
	g.POST("/audit/verify", s.apiAuditVerify)
}

// Permissions of this area, as (object, action) in the system domain.
var (
	permUsers  = [2]string{authz.ObjUser, authz.ActManage}
	permRoles  = [2]string{authz.ObjRole, authz.ActGrant}
	permOutbox = [2]string{authz.ObjOutbox, authz.ActManage}
	permAudit  = [2]string{authz.ObjAudit, authz.ActRead}
	permExport = [2]string{authz.ObjAudit, authz.ActExport}
)

// staffCan checks a system permission and, for people allowed, that their
// account has a second factor: a session opened before a staff role was
// granted passed sign-in without one, and must not reach staff pages.
func (s *Server) staffCan(c echo.Context, perm [2]string) error {
	if err := s.can(c, false, "system", perm[0], perm[1]); err != nil {
		return err
	}
	if v := currentVisitor(c); v.User.TOTPEnabledAt == nil {
		if isAPI(c) {
			return echo.NewHTTPError(http.StatusUnauthorized, "second_factor_required")
		}
		return c.Redirect(http.StatusSeeOther, "/account/totp")
	}
	return nil
}

// redirected reports whether staffCan answered with a redirect (nil error,
// response already written).
func redirected(c echo.Context) bool { return c.Response().Committed }

// --- people ---

// userRow is a person in the administrators' list.
type userRow struct {
	User   accounts.User
	Status string // active, unverified, disabled
	Grants []grantView
}

// grantView is a role grant with its names in the reader's language.
type grantView struct {
	authz.Grant
	RoleName   string
	DomainName string
}

func userStatus(u *accounts.User) string {
	switch {
	case u.DisabledAt != nil:
		return "disabled"
	case u.EmailVerifiedAt == nil:
		return "unverified"
	}
	return "active"
}

// scopeNames maps grant domains to names: the system and each facility.
func (s *Server) scopeOptions(ctx context.Context, l string) ([]option, error) {
	fac, err := s.options(ctx, "thematic_facilities", "code", l)
	if err != nil {
		return nil, err
	}
	out := []option{{Code: "system", Name: s.Text.Translate(l, "admin_scope_system", nil)}}
	for _, f := range fac {
		out = append(out, option{Code: authz.FacilityDomain(f.Code), Name: f.Name})
	}
	return out, nil
}

func (s *Server) grantViews(gs []authz.Grant, scopes []option, l string) []grantView {
	out := make([]grantView, 0, len(gs))
	for _, g := range gs {
		gv := grantView{Grant: g, RoleName: s.Text.Translate(l, "role_"+g.Role, nil), DomainName: g.Domain}
		for _, o := range scopes {
			if o.Code == g.Domain {
				gv.DomainName = o.Name
			}
		}
		out = append(out, gv)
	}
	return out
}

func (s *Server) adminUsers(c echo.Context) error {
	if err := s.staffCan(c, permUsers); err != nil || redirected(c) {
		return err
	}
	ctx, l := c.Request().Context(), lang(c)
	q := c.QueryParam("q")
	var errs validate.Errors
	errs.Text("q", q, false, 200, false)
	var users []accounts.User
	if len(errs) == 0 {
		var err error
		if users, err = s.Accounts.Users(ctx, q, 100); err != nil {
			return err
		}
	}
	scopes, err := s.scopeOptions(ctx, l)
	if err != nil {
		return err
	}
	rows := make([]userRow, 0, len(users))
	for i := range users {
		gs, err := s.Authz.Grants(ctx, users[i].ID)
		if err != nil {
			return err
		}
		rows = append(rows, userRow{User: users[i], Status: userStatus(&users[i]), Grants: s.grantViews(gs, scopes, l)})
	}
	p := s.newPage(c, s.Text.Translate(l, "admin_users_title", nil), map[string]any{"Users": rows, "Query": q})
	p.Form = url.Values{"q": {q}}
	status := http.StatusOK
	if len(errs) > 0 {
		p.Errors, status = errs, http.StatusUnprocessableEntity
	}
	return s.render(c, status, "admin_users", p)
}

// adminUserPage shows one person, with errs and the submitted form when a
// form on the page failed.
func (s *Server) adminUserPage(c echo.Context, status int, id string, errs validate.Errors, form url.Values) error {
	ctx, l := c.Request().Context(), lang(c)
	u, err := s.Accounts.User(ctx, id)
	if err != nil {
		return err
	}
	gs, err := s.Authz.Grants(ctx, u.ID)
	if err != nil {
		return err
	}
	sessions, err := s.Accounts.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	scopes, err := s.scopeOptions(ctx, l)
	if err != nil {
		return err
	}
	roles := make([]option, 0, len(authz.GrantableRoles))
	for _, r := range authz.GrantableRoles {
		roles = append(roles, option{Code: r, Name: s.Text.Translate(l, "role_"+r, nil)})
	}
	self := currentVisitor(c).User.ID == u.ID
	p := s.newPage(c, u.Email, map[string]any{
		"Person": u, "Status": userStatus(u), "Grants": s.grantViews(gs, scopes, l), "Sessions": len(sessions),
		"Roles": roles, "Scopes": scopes, "Self": self,
	})
	p.Errors = errs
	if form == nil {
		form = url.Values{}
	}
	p.Form = form
	return s.render(c, status, "admin_user", p)
}

func (s *Server) adminUser(c echo.Context) error {
	if err := s.staffCan(c, permUsers); err != nil || redirected(c) {
		return err
	}
	return s.adminUserPage(c, http.StatusOK, c.Param("id"), nil, nil)
}

// setDisabled refuses to let administrators lock themselves out.
func (s *Server) setDisabled(c echo.Context, id string, disabled bool) error {
	if disabled && currentVisitor(c).User.ID == id {
		return validate.One("user_id", "cannot_disable_self")
	}
	return s.Accounts.SetDisabled(c.Request().Context(), actor(c), id, disabled)
}

func (s *Server) adminSetDisabled(c echo.Context, disabled bool) error {
	if err := s.staffCan(c, permUsers); err != nil || redirected(c) {
		return err
	}
	id := c.Param("id")
	err := s.setDisabled(c, id, disabled)
	if fe, ok := validate.As(err); ok {
		return s.adminUserPage(c, http.StatusUnprocessableEntity, id, fe, nil)
	}
	if err != nil {
		return err
	}
	flash := "user_enabled"
	if disabled {
		flash = "user_disabled"
	}
	return redirectWithFlash(c, "/admin/users/"+id, flash)
}

func (s *Server) adminDisable(c echo.Context) error { return s.adminSetDisabled(c, true) }
func (s *Server) adminEnable(c echo.Context) error  { return s.adminSetDisabled(c, false) }

// --- role grants ---

// grantInput is a role grant as the API and the forms send it.
type grantInput struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`
	Domain string `json:"domain"`
}

// changeRole grants or revokes after checking the input; every problem is a
// field error, and nothing is written unless all is well.
func (s *Server) changeRole(c echo.Context, in grantInput, grant bool) error {
	ctx := c.Request().Context()
	var errs validate.Errors
	// Organisation roles follow membership and are changed there.
	if !slices.Contains(authz.GrantableRoles, in.Role) {
		errs.Add("role", "not_allowed", nil)
	}
	if _, err := s.Accounts.User(ctx, in.UserID); errors.Is(err, accounts.ErrNotFound) {
		errs.Add("user_id", "not_found", nil)
	} else if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs
	}
	g := authz.Grant{UserID: in.UserID, Role: in.Role, Domain: in.Domain}
	if grant {
		err := s.Authz.Grant(ctx, actor(c), g)
		if errors.Is(err, authz.ErrInvalidGrant) {
			return validate.One("domain", "invalid_grant")
		}
		return err
	}
	if in.Role == authz.RoleAdmin && in.UserID == currentVisitor(c).User.ID {
		// Another administrator must do it, so the system always keeps one.
		return validate.One("role", "cannot_revoke_own_admin")
	}
	held, err := s.Authz.Grants(ctx, in.UserID)
	if err != nil {
		return err
	}
	if !slices.Contains(held, g) {
		return validate.One("domain", "grant_not_held")
	}
	return s.Authz.Revoke(ctx, actor(c), g)
}

func grantForm(c echo.Context) grantInput {
	return grantInput{UserID: c.FormValue("user_id"), Role: c.FormValue("role"), Domain: c.FormValue("domain")}
}

func (s *Server) adminChangeRole(c echo.Context, grant bool) error {
	if err := s.staffCan(c, permRoles); err != nil || redirected(c) {
		return err
	}
	in := grantForm(c)
	err := s.changeRole(c, in, grant)
	if fe, ok := validate.As(err); ok {
		if !database.ValidID(in.UserID) {
			return fe // no page to show the error on: the API format's page equivalent
		}
		return s.adminUserPage(c, http.StatusUnprocessableEntity, in.UserID, fe, formValues(c))
	}
	if err != nil {
		return err
	}
	flash := "role_revoked"
	if grant {
		flash = "role_granted"
	}
	return redirectWithFlash(c, "/admin/users/"+in.UserID, flash)
}

func (s *Server) adminGrant(c echo.Context) error  { return s.adminChangeRole(c, true) }
func (s *Server) adminRevoke(c echo.Context) error { return s.adminChangeRole(c, false) }

// --- outbox ---

// The outbox holds live sign-in, reset and invitation links, so reading it
// is a management act: administrators only (auditors' read-everything on
// the system domain does not reach it).
func (s *Server) adminOutbox(c echo.Context) error {
	if err := s.staffCan(c, permOutbox); err != nil || redirected(c) {
		return err
	}
	to := strings.TrimSpace(c.QueryParam("recipient"))
	msgs, err := mail.Outbox(c.Request().Context(), s.DB.Gorm, to, 100)
	if err != nil {
		return err
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "admin_outbox_title", nil), map[string]any{"Messages": msgs})
	p.Form = url.Values{"recipient": {to}}
	return s.render(c, http.StatusOK, "admin_outbox", p)
}

// --- audit log ---

// auditQuery reads the audit filters from the query string.
func (s *Server) auditQuery(c echo.Context, api bool) (audit.Filter, validate.Errors, error) {
	var f audit.Filter
	var errs validate.Errors
	for _, k := range []string{"actor", "action", "object_type", "object_id"} {
		errs.Text(k, c.QueryParam(k), false, 200, false)
	}
	f.Action = c.QueryParam("action")
	f.ObjectType = c.QueryParam("object_type")
	f.ObjectID = c.QueryParam("object_id")
	if a := strings.TrimSpace(c.QueryParam("actor")); a != "" && !errs.Has("actor") {
		// An auditor knows people by e-mail; programs may send the id.
		if strings.Contains(a, "@") {
			u, err := s.Accounts.UserByEmail(c.Request().Context(), a)
			switch {
			case errors.Is(err, accounts.ErrNotFound):
				errs.Add("actor", "not_found", nil)
			case err != nil:
				return f, nil, err
			default:
				f.ActorID = u.ID
			}
		} else {
			f.ActorID = a
		}
	}
	day := func(field string) time.Time {
		v := c.QueryParam(field)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			errs.Add(field, "invalid_date", nil)
		}
		return t
	}
	f.From = day("from")
	if to := day("to"); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // the whole "to" day is included
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs.Add("before", "not_a_number", nil)
		}
		f.BeforeSeq = n
	}
	f.Limit = 50
	if v := c.QueryParam("limit"); api && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			errs.Add("limit", "out_of_range", map[string]any{"Min": 1, "Max": 500})
		}
		f.Limit = n
	}
	return f, errs, nil
}

// verifyResult is the outcome of checking the audit chain.
type verifyResult struct {
	Checked  int64           `json:"checked"`
	OK       bool            `json:"ok"`
	Problems []verifyProblem `json:"problems"`
}

type verifyProblem struct {
	Seq    int64  `json:"seq"`
	Kind   string `json:"kind"` // edited, link or missing
	Reason string `json:"reason"`
}

// problemKind names a chain problem so pages can explain it in the reader's language.
// verifyChain checks the chain and records that it was checked, with the outcome.
func (s *Server) verifyChain(c echo.Context) (*verifyResult, error) {
	ctx := c.Request().Context()
	n, problems, err := audit.Verify(ctx, s.DB.Gorm)
	if err != nil {
		return nil, err
	}
	res := &verifyResult{Checked: n, OK: len(problems) == 0, Problems: []verifyProblem{}}
	for _, p := range problems {
		res.Problems = append(res.Problems, verifyProblem{Seq: p.Seq, Kind: p.Kind, Reason: p.Reason})
	}
	if err := audit.Write(ctx, s.DB.Gorm, actor(c), audit.Entry{Action: "audit.verify", ObjectType: "audit",
		Details: map[string]any{"checked": n, "problems": len(problems)}}); err != nil {
		return nil, err
	}
	return res, nil
}

// auditRow is a record with its actor's e-mail for people reading the page.
type auditRow struct {
	audit.Record
	ActorEmail string
}

func (s *Server) auditPageWith(c echo.Context, verified *verifyResult) error {
	ctx := c.Request().Context()
	f, errs, err := s.auditQuery(c, false)
	if err != nil {
		return err
	}
	var records []audit.Record
	if len(errs) == 0 {
		if records, err = audit.List(ctx, s.DB.Gorm, f); err != nil {
			return err
		}
	}
	emails := map[string]string{}
	rows := make([]auditRow, 0, len(records))
	for _, r := range records {
		if _, seen := emails[r.ActorID]; !seen && r.ActorID != "" {
			emails[r.ActorID] = ""
			if u, err := s.Accounts.User(ctx, r.ActorID); err == nil {
				emails[r.ActorID] = u.Email
			}
		}
		rows = append(rows, auditRow{Record: r, ActorEmail: emails[r.ActorID]})
	}
	form := url.Values{}
	for _, k := range []string{"actor", "action", "object_type", "object_id", "from", "to"} {
		if v := c.QueryParam(k); v != "" {
			form.Set(k, v)
		}
	}
	older := ""
	if len(records) == f.Limit {
		q := url.Values{}
		for k, v := range form {
			q[k] = v
		}
		q.Set("before", strconv.FormatInt(records[len(records)-1].Seq, 10))
		older = "/audit?" + q.Encode()
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "audit_title", nil), map[string]any{
		"Records": rows, "Older": older, "Paged": f.BeforeSeq > 0, "Verified": verified,
		"Export": "/audit.csv?" + form.Encode(), "First": "/audit?" + form.Encode(),
	})
	p.Form = form
	status := http.StatusOK
	if len(errs) > 0 {
		p.Errors, status = errs, http.StatusUnprocessableEntity
	}
	return s.render(c, status, "audit", p)
}

func (s *Server) auditPage(c echo.Context) error {
	if err := s.staffCan(c, permAudit); err != nil || redirected(c) {
		return err
	}
	return s.auditPageWith(c, nil)
}

func (s *Server) auditVerify(c echo.Context) error {
	if err := s.staffCan(c, permAudit); err != nil || redirected(c) {
		return err
	}
	res, err := s.verifyChain(c)
	if err != nil {
		return err
	}
	return s.auditPageWith(c, res)
}

// csvSafe neutralises cells a spreadsheet would run as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// auditCSV exports the filtered log. The export is recorded before the
// first byte is sent, so no copy leaves without a trace.
func (s *Server) auditCSV(c echo.Context) error {
	if err := s.staffCan(c, permExport); err != nil || redirected(c) {
		return err
	}
	ctx := c.Request().Context()
	f, errs, err := s.auditQuery(c, false)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs
	}
	if err := audit.Write(ctx, s.DB.Gorm, actor(c), audit.Entry{Action: "audit.export", ObjectType: "audit",
		Details: map[string]any{"filter": c.QueryParams().Encode()}}); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="audit-%s.csv"`, time.Now().UTC().Format("20060102-150405")))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"seq", "id", "at_utc", "actor_id", "action", "object_type", "object_id", "domain", "ip", "request_id", "details", "prev_hash", "hash"})
	f.Limit = 500
	for {
		batch, err := audit.List(ctx, s.DB.Gorm, f)
		if err != nil {
			// Headers are sent; all that is left is to stop and log.
			s.Log.Error("audit export", "request_id", requestID(c), "error", err)
			break
		}
		for _, r := range batch {
			row := []string{strconv.FormatInt(r.Seq, 10), r.ID, r.At.UTC().Format(time.RFC3339Nano), r.ActorID, r.Action,
				r.ObjectType, r.ObjectID, r.Domain, r.IP, r.RequestID, r.Details, r.PrevHash, r.Hash}
			for i := range row {
				row[i] = csvSafe(row[i])
			}
			_ = w.Write(row)
		}
		if len(batch) < f.Limit {
			break
		}
		f.BeforeSeq = batch[len(batch)-1].Seq
	}
	w.Flush()
	return w.Error()
}

// --- API ---

func (s *Server) apiAdminUsers(c echo.Context) error {
	if err := s.staffCan(c, permUsers); err != nil {
		return err
	}
	q := c.QueryParam("q")
	var errs validate.Errors
	errs.Text("q", q, false, 200, false)
	if len(errs) > 0 {
		return errs
	}
	users, err := s.Accounts.Users(c.Request().Context(), q, 100)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users})
}

func (s *Server) apiAdminUser(c echo.Context) error {
	if err := s.staffCan(c, permUsers); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.Accounts.User(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	gs, err := s.Authz.Grants(ctx, u.ID)
	if err != nil {
		return err
	}
	sessions, err := s.Accounts.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"user": u, "roles": gs, "sessions": len(sessions)})
}

func (s *Server) apiAdminSetDisabled(c echo.Context, disabled bool) error {
	if err := s.staffCan(c, permUsers); err != nil {
		return err
	}
	if err := s.setDisabled(c, c.Param("id"), disabled); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiAdminDisable(c echo.Context) error { return s.apiAdminSetDisabled(c, true) }
func (s *Server) apiAdminEnable(c echo.Context) error  { return s.apiAdminSetDisabled(c, false) }

func (s *Server) apiAdminRoles(c echo.Context) error {
	if err := s.staffCan(c, permRoles); err != nil {
		return err
	}
	id := c.QueryParam("user_id")
	if id != "" && !database.ValidID(id) {
		return validate.One("user_id", "not_found")
	}
	gs, err := s.Authz.Grants(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"roles": gs})
}

func (s *Server) apiAdminGrant(c echo.Context) error {
	if err := s.staffCan(c, permRoles); err != nil {
		return err
	}
	var in grantInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.changeRole(c, in, true); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, authz.Grant(in))
}

func (s *Server) apiAdminRevoke(c echo.Context) error {
	if err := s.staffCan(c, permRoles); err != nil {
		return err
	}
	var in grantInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.changeRole(c, in, false); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiAdminOutbox(c echo.Context) error {
	if err := s.staffCan(c, permOutbox); err != nil {
		return err
	}
	msgs, err := mail.Outbox(c.Request().Context(), s.DB.Gorm, strings.TrimSpace(c.QueryParam("to")), 100)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"messages": msgs})
}

func (s *Server) apiAudit(c echo.Context) error {
	if err := s.staffCan(c, permAudit); err != nil {
		return err
	}
	f, errs, err := s.auditQuery(c, true)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs
	}
	records, err := audit.List(c.Request().Context(), s.DB.Gorm, f)
	if err != nil {
		return err
	}
	out := map[string]any{"records": records}
	if len(records) == f.Limit {
		out["next_before"] = records[len(records)-1].Seq
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiAuditVerify(c echo.Context) error {
	if err := s.staffCan(c, permAudit); err != nil {
		return err
	}
	res, err := s.verifyChain(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func query(name, description string) obj {
	return obj{"name": name, "in": "query", "required": false, "description": description, "schema": str()}
}

func adminPaths() obj {
	grant := ref("Grant")
	auditRecord := object(obj{"seq": integer(), "id": strf("uuid"), "at": strf("date-time"), "actor_id": str(), "action": str(),
		"object_type": str(), "object_id": str(), "domain": str(), "ip": str(), "request_id": str(), "details": str(),
		"prev_hash": str(), "hash": str()})
	message := object(obj{"id": strf("uuid"), "to": strf("email"), "subject": str(), "body": str(), "kind": str(),
		"created_at": strf("date-time"), "sent_at": strf("date-time"), "attempts": integer(), "last_error": str()})
	verify := object(obj{"checked": integer(), "ok": boolean(), "problems": arrayOf(object(obj{"seq": integer(),
		"kind": obj{"type": "string", "enum": []string{"edited", "link", "missing"}}, "reason": str()}))})
	return obj{
		"/admin/users": obj{"get": withParams(op("admin", "People, searched by e-mail or name (administrators)", nil, "200", listOf("users", ref("User"))),
			query("q", "Part of an e-mail address or name"))},
		"/admin/users/{id}": obj{"get": withParams(op("admin", "One person with their role grants and number of live sessions", nil, "200",
			object(obj{"user": ref("User"), "roles": arrayOf(grant), "sessions": integer()})), idParam("id"))},
		"/admin/users/{id}/disable": obj{"post": withParams(op("admin", "Disable an account; every session and token stops working at once", nil, "204", nil), idParam("id"))},
		"/admin/users/{id}/enable":  obj{"post": withParams(op("admin", "Enable an account again (ended sessions stay ended)", nil, "204", nil), idParam("id"))},
		"/admin/roles": obj{
			"get": withParams(op("admin", "Role grants, of one person or of everyone", nil, "200", listOf("roles", grant)),
				query("user_id", "Only this person's grants")),
			"post":   op("admin", "Grant a role in one exact scope: system for admin and auditor, facility:<code> for facility roles; wildcards are refused", grant, "201", grant),
			"delete": op("admin", "Revoke a role grant; effective on every instance at its next request", grant, "204", nil),
		},
		"/admin/roles/revoke": obj{"post": op("admin", "Revoke a role grant (for clients that cannot send DELETE with a body)", grant, "204", nil)},
		"/admin/outbox": obj{"get": withParams(op("admin", "The local mail outbox, newest first (administrators)", nil, "200", listOf("messages", message)),
			query("to", "Only messages to this address"))},
		"/audit": obj{"get": withParams(op("audit", "Audit records, newest first (auditors and administrators); page with before=next_before", nil, "200",
			object(obj{"records": arrayOf(auditRecord), "next_before": integer()})),
			query("actor", "Actor's user id or e-mail address"), query("action", "Action prefix, e.g. session."),
			query("object_type", "Object type"), query("object_id", "Object id"),
			query("from", "First day, YYYY-MM-DD (UTC)"), query("to", "Last day, YYYY-MM-DD (UTC)"),
			query("before", "Only records with a smaller sequence number"), query("limit", "1 to 500, default 50"))},
		"/audit/verify": obj{"post": op("audit", "Check the hash chain of the whole audit log", nil, "200", verify)},
	}
}
