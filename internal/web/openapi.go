package web

import (
	"maps"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The OpenAPI 3 document is assembled from the paths each area of the API
// declares next to its handlers, so a handler and its description change
// together.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// op describes an operation: a summary, an optional request body schema, the
// success status and its schema (nil for no body).
func op(tag, summary string, body obj, status string, resp obj) obj {
	o := obj{"tags": []string{tag}, "summary": summary, "responses": obj{
		status:    response(resp),
		"401":     obj{"description": "Not signed in", "content": jsonContent(ref("Error"))},
		"404":     obj{"description": "Not found, or not yours to see", "content": jsonContent(ref("Error"))},
		"422":     obj{"description": "Invalid input; fields lists each problem", "content": jsonContent(ref("Error"))},
		"429":     obj{"description": "Too many attempts; see Retry-After", "content": jsonContent(ref("Error"))},
		"default": obj{"description": "Error", "content": jsonContent(ref("Error"))},
	}}
	if body != nil {
		o["requestBody"] = obj{"required": true, "content": jsonContent(body)}
	}
	return o
}

func response(schema obj) obj {
	if schema == nil {
		return obj{"description": "Done"}
	}
	return obj{"description": "OK", "content": jsonContent(schema)}
}

func jsonContent(schema obj) obj { return obj{"application/json": obj{"schema": schema}} }

func object(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func str() obj                         { return obj{"type": "string"} }
func strf(format string) obj           { return obj{"type": "string", "format": format} }
func integer() obj                     { return obj{"type": "integer"} }
func boolean() obj                     { return obj{"type": "boolean"} }
func arrayOf(items obj) obj            { return obj{"type": "array", "items": items} }
func listOf(key string, items obj) obj { return object(obj{key: arrayOf(items)}) }

func idParam(name string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": str()}
}

func withParams(o obj, params ...obj) obj {
	o["parameters"] = params
	return o
}

func (s *Server) openAPIDocument(c echo.Context) error {
	paths := obj{}
	maps.Copy(paths, accountPaths())
	maps.Copy(paths, organisationPaths())
	maps.Copy(paths, adminPaths())
	for _, area := range []func() obj{callDesignPaths, publicCallPaths, proposalPaths, attachmentPaths, screeningPaths, screeningReplyPaths, roundPaths} {
		maps.Copy(paths, area())
	}
	schemas := obj{
		"Error": object(obj{"error": object(obj{
			"code": str(), "message": str(), "request_id": str(),
			"fields": arrayOf(object(obj{"field": str(), "code": str(), "message": str()})),
		}, "code", "message", "request_id")}, "error"),
		"User": object(obj{"id": strf("uuid"), "email": strf("email"), "name": str(), "locale": obj{"type": "string", "enum": []string{"en", "fr", "es"}},
			"timezone": str(), "email_verified_at": strf("date-time"), "totp_enabled_at": strf("date-time"), "disabled_at": strf("date-time"),
			"created_at": strf("date-time"), "updated_at": strf("date-time")}),
		"Grant":   object(obj{"user_id": strf("uuid"), "role": str(), "domain": str()}, "user_id", "role", "domain"),
		"Session": object(obj{"id": strf("uuid"), "mfa_passed": boolean(), "ip": str(), "user_agent": str(), "created_at": strf("date-time"), "last_seen_at": strf("date-time"), "expires_at": strf("date-time")}),
		"APIToken": object(obj{"id": strf("uuid"), "name": str(), "prefix": str(), "created_at": strf("date-time"), "last_used_at": strf("date-time"),
			"expires_at": strf("date-time"), "revoked_at": strf("date-time")}),
		"OrganisationInput": object(obj{"name": str(), "type": str(), "country": obj{"type": "string", "description": "ISO 3166-1 alpha-2"},
			"year_founded": integer(), "website": strf("uri")}, "name", "type", "country", "year_founded"),
	}
	maps.Copy(schemas, organisationSchemas())
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{"title": "Facility API", "version": s.Version,
			"description": "JSON API of Facility, the ILO Innovation Facility's challenge-call system. Authenticate with a personal " +
				"API token (Authorization: Bearer fac_...) created on the account page, or with the session cookie plus X-CSRF-Token. " +
				"Errors share one format; invalid input answers 422 with one entry per field."},
		"servers":    []obj{{"url": "/api/v1"}},
		"paths":      paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
		"security":   []obj{{"bearer": []string{}}},
	}
	return c.JSON(http.StatusOK, doc)
}

func accountPaths() obj {
	reg := object(obj{"name": str(), "email": strf("email"), "password": strf("password"), "locale": str(),
		"organisation": ref("OrganisationInput")}, "name", "email", "password", "organisation")
	return obj{
		"/registrations": obj{"post": op("accounts", "Register an applicant with their organisation; a verification e-mail follows", reg, "201", ref("User"))},
		"/session": obj{
			"post":   op("accounts", "Sign in with e-mail and password (sets the session cookie)", object(obj{"email": strf("email"), "password": strf("password")}, "email", "password"), "200", object(obj{"second_factor_required": boolean(), "second_factor_enrolment_required": boolean()})),
			"delete": op("accounts", "Sign out", nil, "204", nil),
		},
		"/session/totp":                obj{"post": op("accounts", "Complete sign-in with a TOTP code", object(obj{"code": str()}, "code"), "204", nil)},
		"/email-verifications/{token}": obj{"post": withParams(op("accounts", "Confirm an e-mail address", nil, "204", nil), idParam("token"))},
		"/password-resets":             obj{"post": op("accounts", "E-mail a password reset link (same answer whether or not the address has an account)", object(obj{"email": strf("email")}, "email"), "202", nil)},
		"/password-resets/{token}":     obj{"post": withParams(op("accounts", "Set a new password with a reset link; every session ends", object(obj{"password": strf("password")}, "password"), "204", nil), idParam("token"))},
		"/me": obj{
			"get":   op("accounts", "The signed-in person and their role grants", nil, "200", object(obj{"user": ref("User"), "roles": arrayOf(ref("Grant"))})),
			"patch": op("accounts", "Change name, language or timezone", object(obj{"name": str(), "locale": str(), "timezone": str()}), "200", ref("User")),
		},
		"/me/sessions":      obj{"get": op("accounts", "Live sessions", nil, "200", listOf("sessions", ref("Session")))},
		"/me/sessions/{id}": obj{"delete": withParams(op("accounts", "End a session", nil, "204", nil), idParam("id"))},
		"/me/tokens": obj{
			"get":  op("accounts", "Personal API tokens", nil, "200", listOf("tokens", ref("APIToken"))),
			"post": op("accounts", "Create a token (shown once)", object(obj{"name": str(), "days": integer()}, "name", "days"), "201", object(obj{"token": str(), "details": ref("APIToken")})),
		},
		"/me/tokens/{id}":    obj{"delete": withParams(op("accounts", "Revoke a token", nil, "204", nil), idParam("id"))},
		"/reference/{table}": obj{"get": withParams(op("reference", "Reference data: countries, organisation-types, facilities, regions, subregions, innovation-processes, indicators", nil, "200", listOf("items", obj{"type": "object"})), idParam("table"))},
	}
}
