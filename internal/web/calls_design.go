package web

import "github.com/labstack/echo/v4"

func (s *Server) callDesignRoutes() {}

func (s *Server) apiCallDesignRoutes(g *echo.Group) {}

func callDesignPaths() obj { return obj{} }
