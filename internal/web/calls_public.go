package web

import "github.com/labstack/echo/v4"

func (s *Server) publicCallRoutes() {}

func (s *Server) apiPublicCallRoutes(g *echo.Group) {}

func publicCallPaths() obj { return obj{} }
