package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/organisations"
)

func (s *Server) apiOrganisationRoutes(g *echo.Group) {
	g.GET("/organisations", s.apiMyOrganisations)
	g.POST("/organisations", s.apiCreateOrganisation)
	g.GET("/organisation-directory", s.apiOrganisationDirectory)
	g.GET("/organisations/:id", s.apiOrganisation)
	g.PATCH("/organisations/:id", s.apiUpdateOrganisation)
	g.GET("/organisations/:id/members", s.apiMembers)
	g.PATCH("/organisations/:id/members/:uid", s.apiChangeMemberRole)
	g.DELETE("/organisations/:id/members/:uid", s.apiRemoveMember)
	g.GET("/organisations/:id/invitations", s.apiInvitations)
	g.POST("/organisations/:id/invitations", s.apiInvite)
	g.DELETE("/organisations/:id/invitations/:inv", s.apiRevokeInvitation)
	g.POST("/invitations/:token/accept", s.apiAcceptInvitation)
	g.GET("/organisations/:id/relations", s.apiRelations)
	g.POST("/organisations/:id/relations", s.apiAddRelation)
	g.DELETE("/organisations/:id/relations/:rel", s.apiRemoveRelation)
}

// organisationInput is an organisation's details as the API receives them.
type organisationInput struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Country     string `json:"country"`
	YearFounded int    `json:"year_founded"`
	Website     string `json:"website"`
}

// organisationPatch changes only the details it names.
type organisationPatch struct {
	Name        *string `json:"name"`
	Type        *string `json:"type"`
	Country     *string `json:"country"`
	YearFounded *int    `json:"year_founded"`
	Website     *string `json:"website"`
}

type invitationInput struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

type roleInput struct {
	Role string `json:"role"`
}

type relationInput struct {
	RelatedOrganisationID string `json:"related_organisation_id"`
	Kind                  string `json:"kind"`
}

// directoryEntry is what anyone signed in may learn about an organisation
// when choosing a partner.
type directoryEntry struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Country string `json:"country"`
}

func (s *Server) apiMyOrganisations(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	list, err := s.Organisations.ForUser(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []organisations.Membership{}
	}
	return c.JSON(http.StatusOK, map[string]any{"organisations": list})
}

func (s *Server) apiCreateOrganisation(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	var in organisationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.Organisations.Create(c.Request().Context(), actor(c), organisations.Input{Name: in.Name, TypeCode: in.Type,
		CountryISO2: in.Country, YearFounded: in.YearFounded, Website: in.Website})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, o)
}

func (s *Server) apiOrganisationDirectory(c echo.Context) error {
	if _, err := signedIn(c); err != nil {
		return err
	}
	found, err := s.Organisations.Directory(c.Request().Context(), c.QueryParam("q"), partnerResults)
	if err != nil {
		return err
	}
	out := make([]directoryEntry, 0, len(found))
	for _, o := range found {
		out = append(out, directoryEntry{ID: o.ID, Name: o.Name, Type: o.TypeCode, Country: o.CountryISO2})
	}
	return c.JSON(http.StatusOK, map[string]any{"organisations": out})
}

func (s *Server) apiOrganisation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActRead); err != nil {
		return err
	}
	o, err := s.Organisations.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Server) apiUpdateOrganisation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	var in organisationPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := s.Organisations.Get(ctx, id)
	if err != nil {
		return err
	}
	upd := organisations.Input{Name: o.Name, TypeCode: o.TypeCode, CountryISO2: o.CountryISO2, YearFounded: o.YearFounded, Website: o.Website}
	if in.Name != nil {
		upd.Name = *in.Name
	}
	if in.Type != nil {
		upd.TypeCode = *in.Type
	}
	if in.Country != nil {
		upd.CountryISO2 = *in.Country
	}
	if in.YearFounded != nil {
		upd.YearFounded = *in.YearFounded
	}
	if in.Website != nil {
		upd.Website = *in.Website
	}
	if o, err = s.Organisations.Update(ctx, actor(c), id, upd); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Server) apiMembers(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActRead); err != nil {
		return err
	}
	list, err := s.Organisations.Members(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"members": list})
}

func (s *Server) apiChangeMemberRole(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	var in roleInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Organisations.ChangeRole(c.Request().Context(), actor(c), id, c.Param("uid"), in.Role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) apiRemoveMember(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	if err := s.Organisations.RemoveMember(c.Request().Context(), actor(c), id, c.Param("uid")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiInvitations(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActRead); err != nil {
		return err
	}
	list, err := s.Organisations.Invitations(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []organisations.Invitation{}
	}
	return c.JSON(http.StatusOK, map[string]any{"invitations": list})
}

func (s *Server) apiInvite(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	var in invitationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	inv, err := s.Organisations.Invite(c.Request().Context(), actor(c), id, in.Email, in.Role, lang(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inv)
}

func (s *Server) apiRevokeInvitation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjMember, authz.ActManage); err != nil {
		return err
	}
	if err := s.Organisations.RevokeInvitation(c.Request().Context(), actor(c), id, c.Param("inv")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiAcceptInvitation(c echo.Context) error {
	v, err := signedIn(c)
	if err != nil {
		return err
	}
	o, err := s.Organisations.AcceptInvitation(c.Request().Context(), actor(c), v.User.Email, c.Param("token"))
	if errors.Is(err, organisations.ErrInvitationOtherAddress) {
		return echo.NewHTTPError(http.StatusForbidden, "invitation_other_address")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Server) apiRelations(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActRead); err != nil {
		return err
	}
	list, err := s.Organisations.Relations(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []organisations.Relation{}
	}
	return c.JSON(http.StatusOK, map[string]any{"relations": list})
}

func (s *Server) apiAddRelation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	var in relationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := s.Organisations.AddRelation(ctx, actor(c), id, strings.TrimSpace(in.RelatedOrganisationID), in.Kind)
	if err != nil {
		return err
	}
	// Answer with the partner's name, as the list does.
	list, err := s.Organisations.Relations(ctx, id)
	if err != nil {
		return err
	}
	for _, x := range list {
		if x.ID == r.ID {
			return c.JSON(http.StatusCreated, x)
		}
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) apiRemoveRelation(c echo.Context) error {
	id := c.Param("id")
	if err := s.orgAccess(c, id, authz.ObjOrganisation, authz.ActUpdate); err != nil {
		return err
	}
	if err := s.Organisations.RemoveRelation(c.Request().Context(), actor(c), id, c.Param("rel")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func organisationPaths() obj {
	org := idParam("id")
	orgOp := func(o obj, more ...obj) obj { return withParams(o, append([]obj{org}, more...)...) }
	patch := object(obj{"name": str(), "type": str(), "country": obj{"type": "string", "description": "ISO 3166-1 alpha-2"},
		"year_founded": integer(), "website": strf("uri")})
	return obj{
		"/organisations": obj{
			"get":  op("organisations", "The organisations I belong to, with my role", nil, "200", listOf("organisations", ref("Membership"))),
			"post": op("organisations", "Create an organisation; I become its owner", ref("OrganisationInput"), "201", ref("Organisation")),
		},
		"/organisation-directory": obj{"get": withParams(
			op("organisations", "Find organisations by name, to choose a consortium partner or affiliate", nil, "200", listOf("organisations", ref("DirectoryEntry"))),
			obj{"name": "q", "in": "query", "required": false, "schema": str()})},
		"/organisations/{id}": obj{
			"get":   orgOp(op("organisations", "An organisation I may read (members, owners; administrators and auditors)", nil, "200", ref("Organisation"))),
			"patch": orgOp(op("organisations", "Change an organisation's details (owners); fields left out stay as they are", patch, "200", ref("Organisation"))),
		},
		"/organisations/{id}/members": obj{
			"get": orgOp(op("organisations", "The people in an organisation", nil, "200", listOf("members", ref("Member")))),
		},
		"/organisations/{id}/members/{user_id}": obj{
			"patch": orgOp(op("organisations", "Make a member an owner or an owner a member (owners); the last owner stays",
				object(obj{"role": obj{"type": "string", "enum": []string{"owner", "member"}}}, "role"), "200", ref("Member")), idParam("user_id")),
			"delete": orgOp(op("organisations", "Remove a person from the organisation (owners); the last owner stays", nil, "204", nil), idParam("user_id")),
		},
		"/organisations/{id}/invitations": obj{
			"get": orgOp(op("organisations", "Pending invitations", nil, "200", listOf("invitations", ref("Invitation")))),
			"post": orgOp(op("organisations", "Invite a person by e-mail (owners); the link is e-mailed and valid for 14 days",
				object(obj{"email": strf("email"), "role": obj{"type": "string", "enum": []string{"owner", "member"}}}, "email", "role"), "201", ref("Invitation"))),
		},
		"/organisations/{id}/invitations/{inv_id}": obj{
			"delete": orgOp(op("organisations", "Withdraw a pending invitation (owners)", nil, "204", nil), idParam("inv_id")),
		},
		"/invitations/{token}/accept": obj{"post": withParams(
			op("organisations", "Accept an invitation sent to my e-mail address (403 invitation_other_address when sent to another; 410 when used, withdrawn or expired)", nil, "200", ref("Organisation")),
			idParam("token"))},
		"/organisations/{id}/relations": obj{
			"get": orgOp(op("organisations", "Declared relations: consortium partners and affiliates", nil, "200", listOf("relations", ref("Relation")))),
			"post": orgOp(op("organisations", "Declare a relation to another organisation (owners)",
				object(obj{"related_organisation_id": strf("uuid"), "kind": obj{"type": "string", "enum": organisations.RelationKinds}},
					"related_organisation_id", "kind"), "201", ref("Relation"))),
		},
		"/organisations/{id}/relations/{rel_id}": obj{
			"delete": orgOp(op("organisations", "Remove a declared relation (owners)", nil, "204", nil), idParam("rel_id")),
		},
	}
}

func organisationSchemas() obj {
	role := obj{"type": "string", "enum": []string{"owner", "member"}}
	return obj{
		"Organisation": object(obj{"id": strf("uuid"), "name": str(), "type": str(), "country": str(), "year_founded": integer(),
			"website": str(), "created_at": strf("date-time"), "updated_at": strf("date-time")}),
		"Membership":     object(obj{"id": strf("uuid"), "name": str(), "type": str(), "country": str(), "role": role}),
		"DirectoryEntry": object(obj{"id": strf("uuid"), "name": str(), "type": str(), "country": str()}),
		"Member":         object(obj{"user_id": strf("uuid"), "role": role, "name": str(), "email": strf("email"), "created_at": strf("date-time")}),
		"Invitation": object(obj{"id": strf("uuid"), "organisation_id": strf("uuid"), "email": strf("email"), "role": role,
			"created_at": strf("date-time"), "expires_at": strf("date-time"), "accepted_at": strf("date-time")}),
		"Relation": object(obj{"id": strf("uuid"), "organisation_id": strf("uuid"), "related_organisation_id": strf("uuid"),
			"kind": obj{"type": "string", "enum": organisations.RelationKinds}, "related_name": str(), "created_at": strf("date-time")}),
	}
}
