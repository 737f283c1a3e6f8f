package web

import "github.com/labstack/echo/v4"

func (s *Server) screeningRoutes() {}

func (s *Server) apiScreeningRoutes(g *echo.Group) {}

func screeningPaths() obj { return obj{} }
