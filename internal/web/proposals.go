package web

import "github.com/labstack/echo/v4"

func (s *Server) proposalRoutes() {}

func (s *Server) apiProposalRoutes(g *echo.Group) {}

func proposalPaths() obj { return obj{} }
