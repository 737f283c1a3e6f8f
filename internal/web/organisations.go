package web

import "github.com/labstack/echo/v4"

func (s *Server) organisationRoutes() {}

func (s *Server) apiOrganisationRoutes(g *echo.Group) {}

func organisationPaths() obj   { return obj{} }
func organisationSchemas() obj { return obj{} }
