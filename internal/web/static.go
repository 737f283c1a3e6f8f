package web

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"facility/ui"
)

// static serves the embedded assets. Names are checked, not cleaned: any
// path that is not a plain file name under /static/ is a 404, so encoded
// traversal attempts never reach a file system.
func (s *Server) static(c echo.Context) error {
	name := c.Param("*")
	if name == "" || strings.Contains(name, "..") || strings.ContainsAny(name, "\\%\x00") || !fs.ValidPath(name) {
		return errNotFound
	}
	b, err := fs.ReadFile(ui.Static(), name)
	if err != nil {
		return errNotFound
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ct, b)
}
