package web

import "github.com/labstack/echo/v4"

func (s *Server) adminRoutes() {}

func (s *Server) apiAdminRoutes(g *echo.Group) {}

func adminPaths() obj { return obj{} }
