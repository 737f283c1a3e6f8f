package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/organisations"
	"facility/internal/validate"
)

// Organisation pages: create another organisation, see and edit one, its
// members, invitations and relations; and the invitation landing page.

func (s *Server) organisationRoutes() {
	e := s.echo
	e.GET("/organisations/new", s.newOrganisationForm)
	e.POST("/organisations", s.createOrganisation)
	e.GET("/organisations/:id", s.organisationPage)
	e.POST("/organisations/:id", s.updateOrganisation)
	e.POST("/organisations/:id/invitations", s.inviteMember)
	e.POST("/organisations/:id/invitations/:inv/revoke", s.revokeInvitation)
	e.POST("/organisations/:id/members/:uid/role", s.changeMemberRole)
	e.POST("/organisations/:id/members/:uid/remove", s.removeMember)
	e.POST("/organisations/:id/relations", s.addRelation)
	e.POST("/organisations/:id/relations/:rel/remove", s.removeRelation)
	e.GET("/invitations/:token", s.invitationPage)
	e.POST("/invitations/:token", s.acceptInvitation)
}

// orgAccess lets the visitor do act on obj in organisation id. Someone who
// cannot even read the organisation gets 404 (they may not know it exists);
// someone who can read it but not do this gets 403. Both are audited.
func (s *Server) orgAccess(c echo.Context, id, obj, act string) error {
	dom := authz.OrgDomain(id)
	if err := s.can(c, true, dom, authz.ObjOrganisation, authz.ActRead); err != nil {
		return err
	}
	if obj == authz.ObjOrganisation && act == authz.ActRead {
		return nil
	}
	return s.can(c, false, dom, obj, act)
}

// orgPrefix is the prefix of the organisation fields on the pages, shared
// with the registration form (and its "orgfields" block).
const orgPrefix = "organisation_"

// orgInputFromForm reads the organisation fields. A year that is not a
// number is reported as such (the domain then sees no year at all).
func orgInputFromForm(c echo.Context) (organisations.Input, *validate.FieldError) {
	in := organisations.Input{Name: c.FormValue(orgPrefix + "name"), TypeCode: c.FormValue(orgPrefix + "type"),
		CountryISO2: c.FormValue(orgPrefix + "country"), Website: c.FormValue(orgPrefix + "website")}
	if y := strings.TrimSpace(c.FormValue(orgPrefix + "year_founded")); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil {
			return in, &validate.FieldError{Field: orgPrefix + "year_founded", Code: "not_a_number"}
		}
		in.YearFounded = n
	}
	return in, nil
}

// formErrors renames the domain's field names to the form's (prefix plus
// name) and puts yearErr in place of the domain's complaint about the year.
func formErrors(fe validate.Errors, prefix string, yearErr *validate.FieldError) validate.Errors {
	out := make(validate.Errors, 0, len(fe))
	for _, e := range fe {
		e.Field = prefix + e.Field
		out = append(out, e)
	}
	if yearErr != nil {
		return withUnreadable(out, validate.Errors{*yearErr})
	}
	return out
}

func (s *Server) newOrganisationForm(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	data, err := s.orgFormData(c.Request().Context(), lang(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "organisation_new", s.newPage(c, s.Text.Translate(lang(c), "org_new_title", nil), data))
}

func (s *Server) createOrganisation(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	in, yearErr := orgInputFromForm(c)
	o, err := s.Organisations.Create(c.Request().Context(), actor(c), in)
	if fe, ok := validate.As(err); ok {
		data, derr := s.orgFormData(c.Request().Context(), lang(c))
		if derr != nil {
			return derr
		}
		p := s.newPage(c, s.Text.Translate(lang(c), "org_new_title", nil), data)
		p.Errors, p.Form = formErrors(fe, orgPrefix, yearErr), formValues(c)
		return s.render(c, http.StatusUnprocessableEntity, "organisation_new", p)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, "/organisations/"+o.ID, "organisation_created")
}

// orgView is what the organisation page shows.
type orgView struct {
	Org              *organisations.Organisation
	TypeName         string
	CountryName      string
	Members          []organisations.Member
	Invitations      []organisations.Invitation
	Relations        []organisations.Relation
	CanEdit          bool
	CanManageMembers bool
	SeeMembers       bool
	PartnerQuery     string
	Searched         bool
	Partners         []organisations.Organisation
	RelationKinds    []string
	Roles            []string
	// Types and Countries feed the "orgfields" block.
	Types     []option
	Countries []option
}

func optionName(opts []option, code string) string {
	for _, o := range opts {
		if o.Code == code {
			return o.Name
		}
	}
	return code
}

// partnerResults is how many organisations a partner search lists.
const partnerResults = 20

// organisationView renders the organisation page with status; errs and form
// come from a form on it that failed.
func (s *Server) organisationView(c echo.Context, status int, errs validate.Errors, form url.Values) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActRead); err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := s.Organisations.Get(ctx, id)
	if err != nil {
		return err
	}
	v := currentVisitor(c)
	dom := authz.OrgDomain(id)
	view := orgView{Org: o, RelationKinds: organisations.RelationKinds, Roles: []string{organisations.RoleMember, organisations.RoleOwner}}
	if view.CanEdit, err = s.Authz.Allowed(v.User.ID, dom, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	if view.CanManageMembers, err = s.Authz.Allowed(v.User.ID, dom, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	if view.SeeMembers, err = s.Authz.Allowed(v.User.ID, dom, authz.ObjMember, authz.ActRead); err != nil {
		return err
	}
	if view.Types, err = s.options(ctx, "organisation_types", "code", lang(c)); err != nil {
		return err
	}
	if view.Countries, err = s.options(ctx, "countries", "iso2", lang(c)); err != nil {
		return err
	}
	view.TypeName, view.CountryName = optionName(view.Types, o.TypeCode), optionName(view.Countries, o.CountryISO2)
	if view.SeeMembers {
		if view.Members, err = s.Organisations.Members(ctx, id); err != nil {
			return err
		}
		if view.Invitations, err = s.Organisations.Invitations(ctx, id); err != nil {
			return err
		}
	}
	if view.Relations, err = s.Organisations.Relations(ctx, id); err != nil {
		return err
	}
	if view.CanEdit {
		// From the search form, or kept by the add form so a refused choice
		// is shown again with its list.
		view.PartnerQuery = strings.TrimSpace(c.FormValue("partner_q"))
		if view.PartnerQuery != "" {
			view.Searched = true
			found, err := s.Organisations.Directory(ctx, view.PartnerQuery, partnerResults+1)
			if err != nil {
				return err
			}
			for _, f := range found {
				if f.ID != id && len(view.Partners) < partnerResults {
					view.Partners = append(view.Partners, f)
				}
			}
		}
	}
	p := s.newPage(c, o.Name, view)
	p.Errors = errs
	// The edit form starts from the stored details; a failed form's values win.
	p.Form = url.Values{orgPrefix + "name": {o.Name}, orgPrefix + "type": {o.TypeCode}, orgPrefix + "country": {o.CountryISO2},
		orgPrefix + "year_founded": {strconv.Itoa(o.YearFounded)}, orgPrefix + "website": {o.Website}, "invite_role": {organisations.RoleMember}}
	for k, vs := range form {
		p.Form[k] = vs
	}
	return s.render(c, status, "organisation", p)
}

func (s *Server) organisationPage(c echo.Context) error {
	return s.organisationView(c, http.StatusOK, nil, nil)
}

// orgFormResult redisplays the organisation page on input errors (with the
// fields renamed by rename), or goes back to it with a message.
func (s *Server) orgFormResult(c echo.Context, err error, rename func(validate.Errors) validate.Errors, flash, anchor string) error {
	if fe, ok := validate.As(err); ok {
		return s.organisationView(c, http.StatusUnprocessableEntity, rename(fe), formValues(c))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, "/organisations/"+c.Param("id")+anchor, flash)
}

// allFields puts every error on one field of the page.
func oneField(field string) func(validate.Errors) validate.Errors {
	return func(fe validate.Errors) validate.Errors {
		out := make(validate.Errors, len(fe))
		for i, e := range fe {
			e.Field = field
			out[i] = e
		}
		return out
	}
}

func prefixFields(prefix string) func(validate.Errors) validate.Errors {
	return func(fe validate.Errors) validate.Errors { return formErrors(fe, prefix, nil) }
}

func keepFields(fe validate.Errors) validate.Errors { return fe }

func (s *Server) updateOrganisation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	in, yearErr := orgInputFromForm(c)
	_, err := s.Organisations.Update(c.Request().Context(), actor(c), id, in)
	rename := func(fe validate.Errors) validate.Errors { return formErrors(fe, orgPrefix, yearErr) }
	return s.orgFormResult(c, err, rename, "saved", "")
}

func (s *Server) inviteMember(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	_, err := s.Organisations.Invite(c.Request().Context(), actor(c), id, c.FormValue("invite_email"), c.FormValue("invite_role"), lang(c))
	return s.orgFormResult(c, err, prefixFields("invite_"), "invitation_sent", "#members")
}

func (s *Server) revokeInvitation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	err := s.Organisations.RevokeInvitation(c.Request().Context(), actor(c), id, c.Param("inv"))
	return s.orgFormResult(c, err, keepFields, "invitation_revoked", "#members")
}

func (s *Server) changeMemberRole(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	_, err := s.Organisations.ChangeRole(c.Request().Context(), actor(c), id, c.Param("uid"), c.FormValue("role"))
	return s.orgFormResult(c, err, oneField("members"), "role_changed", "#members")
}

func (s *Server) removeMember(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	err := s.Organisations.RemoveMember(c.Request().Context(), actor(c), id, c.Param("uid"))
	return s.orgFormResult(c, err, oneField("members"), "member_removed", "#members")
}

func (s *Server) addRelation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	_, err := s.Organisations.AddRelation(c.Request().Context(), actor(c), id, c.FormValue("related_organisation_id"), c.FormValue("kind"))
	return s.orgFormResult(c, err, keepFields, "relation_added", "#relations")
}

func (s *Server) removeRelation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	err := s.Organisations.RemoveRelation(c.Request().Context(), actor(c), id, c.Param("rel"))
	return s.orgFormResult(c, err, keepFields, "relation_removed", "#relations")
}

// invitationView is what the invitation landing page shows.
type invitationView struct {
	Token        string
	Organisation string
	Role         string
	SignedIn     bool
	// OtherAddress: the visitor is signed in with another address than the
	// one the invitation was sent to.
	OtherAddress bool
}

func (s *Server) invitationView(c echo.Context, status int) error {
	token := c.Param("token")
	inv, o, err := s.Organisations.PendingInvitation(c.Request().Context(), token)
	if err != nil {
		return err
	}
	v := currentVisitor(c)
	view := invitationView{Token: token, Organisation: o.Name, Role: inv.Role, SignedIn: v.fullySignedIn()}
	view.OtherAddress = view.SignedIn && !strings.EqualFold(v.User.Email, inv.Email)
	return s.render(c, status, "invitation", s.newPage(c, s.Text.Translate(lang(c), "invitation_title", nil), view))
}

func (s *Server) invitationPage(c echo.Context) error { return s.invitationView(c, http.StatusOK) }

func (s *Server) acceptInvitation(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	o, err := s.Organisations.AcceptInvitation(c.Request().Context(), actor(c), v.User.Email, c.Param("token"))
	if errors.Is(err, organisations.ErrInvitationOtherAddress) {
		s.Log.Warn("invitation opened by another address", "request_id", requestID(c), "user_id", v.User.ID)
		return s.invitationView(c, http.StatusForbidden)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, "/organisations/"+o.ID, "invitation_accepted")
}
