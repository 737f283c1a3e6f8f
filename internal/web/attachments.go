package web

import "github.com/labstack/echo/v4"

func (s *Server) attachmentRoutes() {}

func (s *Server) apiAttachmentRoutes(g *echo.Group) {}

func attachmentPaths() obj { return obj{} }
