package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"facility/internal/attachments"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// Attachments of proposals: upload (streamed: the multipart body is read
// part by part and the file goes straight to the blob store, never whole
// into memory or a temporary file), list, download and delete. The page
// /proposals/:id/attachments works without JavaScript; the proposal editor
// may post to the same upload address.

const (
	// uploadSlack is room for the multipart framing around a file.
	uploadSlack = 64 << 10
	// maxUploadRequestBytes bounds an upload request whatever the question
	// allows (calls allow at most 50 MB per file); limitBody applies it to
	// the upload routes instead of the global 1 MB.
	maxUploadRequestBytes = 50<<20 + uploadSlack
	// maxUploadParts is how many form parts may come before the file.
	maxUploadParts = 8
	// maxPartHeaderBytes bounds a part's headers (a file part needs about
	// two hundred bytes; the multipart reader itself allows 10 MB).
	maxPartHeaderBytes = 8 << 10
	// An upload must keep arriving: each read extends the connection's
	// deadline by uploadIdle, up to uploadMaxDuration in all, instead of the
	// server's one-minute read timeout meant for ordinary requests.
	uploadIdle        = 60 * time.Second
	uploadMaxDuration = 30 * time.Minute
	// uploadRetryAfter is what a refused upload is told to wait, in seconds.
	uploadRetryAfter = "5"
)

// isUploadRequest reports whether c is an upload: the body limit and CSRF
// middleware leave these to the handler (see limitBody and skipCSRF).
func isUploadRequest(c echo.Context) bool {
	return c.Request().Method == http.MethodPost &&
		(c.Path() == "/proposals/:id/attachments" || c.Path() == "/api/v1/proposals/:id/attachments")
}

func (s *Server) attachmentRoutes() {
	e := s.echo
	e.GET("/proposals/:id/attachments", s.attachmentsPage)
	e.POST("/proposals/:id/attachments", s.uploadAttachment)
	e.GET("/proposals/:id/attachments/:aid", s.downloadAttachment)
	e.POST("/proposals/:id/attachments/:aid/delete", s.deleteAttachment)
}

func (s *Server) apiAttachmentRoutes(g *echo.Group) {
	g.GET("/proposals/:id/attachments", s.apiAttachments)
	g.POST("/proposals/:id/attachments", s.uploadAttachment)
	g.GET("/proposals/:id/attachments/:aid", s.downloadAttachment)
	g.DELETE("/proposals/:id/attachments/:aid", s.deleteAttachment)
}

// attachmentProposal loads the proposal in the path for reading its files:
// the applicant side with view rights, or Facility staff who may read
// proposals of the call's facility once the proposal is submitted (staff
// is then true). Everyone else is refused as proposalFor refuses: an
// audited 404. One read gives the proposal and the visitor's rights.
func (s *Server) attachmentProposal(c echo.Context) (p *proposals.Proposal, rights string, staff bool, err error) {
	v, err := signedIn(c)
	if err != nil {
		return nil, "", false, err
	}
	ctx := c.Request().Context()
	p, rights, err = s.Proposals.ForPerson(ctx, v.User.ID, c.Param("id"))
	if err != nil && !errors.Is(err, proposals.ErrNotFound) {
		return nil, "", false, err
	}
	if p != nil && rights == "" && p.Status != proposals.StatusDraft {
		call, err := s.Calls.Get(ctx, p.CallID)
		if err != nil {
			return nil, "", false, err
		}
		ok, err := s.Authz.Allowed(v.User.ID, authz.FacilityDomain(call.FacilityCode), authz.ObjProposal, authz.ActRead)
		if err != nil {
			return nil, "", false, err
		}
		if ok {
			return p, "", true, nil
		}
	}
	if p == nil || !proposals.Includes(rights, proposals.RightView) {
		dom := ""
		if p != nil {
			dom = authz.OrgDomain(p.OrganisationID)
		}
		return nil, "", false, s.deny(c, rights == "", dom, authz.ObjProposal, rightAction[proposals.RightView])
	}
	return p, rights, false, nil
}

// --- the page ---

type attachmentQuestion struct {
	ID, Label, Help string
	Required        bool
	Types           string // ".pdf,.docx" for the file input's accept
	TypeNames       string // "pdf, docx"
	MaxFileMB       int
	Files           []attachmentRow
	Invalid         bool // the error on the page is about this question
}

type attachmentRow struct {
	proposals.Attachment
	Size string
}

type attachmentsView struct {
	P            *proposals.Proposal
	CallTitle    string
	CanEdit      bool
	Questions    []attachmentQuestion
	UsedMB       string
	MaxMB        int64
	ErrorSummary string
}

func (s *Server) attachmentsData(c echo.Context, p *proposals.Proposal, rights, errQuestion string) (*attachmentsView, error) {
	ctx := c.Request().Context()
	l := lang(c)
	call, err := s.Calls.Get(ctx, p.CallID)
	if err != nil {
		return nil, err
	}
	files, err := s.Attachments.List(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	v := &attachmentsView{P: p, CallTitle: call.Title.V.In(l, call.Languages.V), MaxMB: s.Attachments.MaxProposalBytes() >> 20,
		CanEdit: p.Status == proposals.StatusDraft && proposals.Includes(rights, proposals.RightEdit)}
	var used int64
	for _, sec := range call.Form.V.Sections {
		if sec.Round > p.Round {
			continue
		}
		for _, q := range sec.Questions {
			if q.Kind != calls.KindFile {
				continue
			}
			aq := attachmentQuestion{ID: q.ID, Label: q.Label.In(l, call.Languages.V), Help: q.Help.In(l, call.Languages.V),
				Required: q.Required, TypeNames: strings.Join(q.FileTypes, ", "), MaxFileMB: q.MaxFileMB, Invalid: q.ID == errQuestion}
			accept := make([]string, 0, len(q.FileTypes))
			for _, t := range q.FileTypes {
				accept = append(accept, "."+t)
			}
			aq.Types = strings.Join(accept, ",")
			for _, f := range files {
				if f.QuestionID == q.ID {
					aq.Files = append(aq.Files, attachmentRow{Attachment: f, Size: humanSize(f.SizeBytes)})
					used += f.SizeBytes
				}
			}
			v.Questions = append(v.Questions, aq)
		}
	}
	v.UsedMB = humanSize(used)
	return v, nil
}

// humanSize writes a byte count for people: 532 B, 14.2 KB, 3.4 MB.
func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}

func (s *Server) attachmentsPage(c echo.Context) error {
	p, rights, staff, err := s.attachmentProposal(c)
	if err != nil {
		return err
	}
	if staff {
		// Staff see files on the screening and evaluation pages.
		return errNotFound
	}
	v, err := s.attachmentsData(c, p, rights, "")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "attachment_list", s.newPage(c, s.Text.Translate(lang(c), "attachments_title", nil), v))
}

// --- upload ---

func (s *Server) uploadAttachment(c echo.Context) error {
	r := c.Request()
	if r.ContentLength > maxUploadRequestBytes {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	// Refuse cross-site posts before reading anything (the token, if
	// needed, is checked once the form's parts arrive).
	if !bearerOnly(c) && r.Header.Get(echo.HeaderSecFetchSite) == "cross-site" {
		return s.csrfRefused(c)
	}
	p, _, err := s.proposalFor(c, proposals.RightEdit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	release, err := s.Attachments.Acquire(ctx)
	if err != nil {
		return s.uploadFailed(c, p, "", err)
	}
	defer release()
	question := c.QueryParam("question")
	up, err := s.Attachments.Begin(ctx, p, question)
	if err != nil {
		return s.uploadFailed(c, p, question, err)
	}
	if r.ContentLength > up.Limit+uploadSlack {
		return s.uploadFailed(c, p, question, &attachments.TooLargeError{Limit: up.Limit, Proposal: up.ProposalLimited})
	}
	progress := s.extendDeadlines(c)
	mr, err := r.MultipartReader()
	if err != nil {
		return s.uploadRefused(c, http.StatusBadRequest, "upload_malformed")
	}
	token := r.Header.Get("X-CSRF-Token")
	for range maxUploadParts {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return s.uploadFailed(c, p, question, validate.One("file", "required"))
		}
		if err != nil || headerBytes(part.Header) > maxPartHeaderBytes {
			return s.uploadFailed(c, p, question, validate.One("file", "upload_malformed"))
		}
		switch part.FormName() {
		case "csrf":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return s.uploadFailed(c, p, question, &attachments.ReadError{Err: err})
			}
			token = string(b)
		case "file":
			if !s.uploadCSRFValid(c, token) {
				return s.csrfRefused(c)
			}
			if part.FileName() == "" {
				return s.uploadFailed(c, p, question, validate.One("file", "required"))
			}
			a, err := up.Store(ctx, actor(c), part.FileName(), part, progress)
			if err != nil {
				drainAfterStoreFailure(r, err, progress)
				return s.uploadFailed(c, p, question, err)
			}
			if isAPI(c) {
				return c.JSON(http.StatusCreated, a)
			}
			return redirectWithFlash(c, "/proposals/"+p.ID+"/attachments", "attachment_uploaded")
		default:
			// Other fields are ignored, within reason.
			if n, err := io.Copy(io.Discard, io.LimitReader(part, 1<<10+1)); err != nil || n > 1<<10 {
				return s.uploadRefused(c, http.StatusBadRequest, "upload_malformed")
			}
		}
	}
	return s.uploadRefused(c, http.StatusBadRequest, "upload_malformed")
}

func headerBytes(h textproto.MIMEHeader) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// extendDeadlines lifts the server's read and write timeouts for an upload
// in progress: returned is a function to call as bytes arrive.
func (s *Server) extendDeadlines(c echo.Context) func() {
	rc := http.NewResponseController(c.Response())
	end := time.Now().Add(uploadMaxDuration)
	var last time.Time
	extend := func() {
		now := time.Now()
		if now.Sub(last) < time.Second {
			return
		}
		last = now
		d := now.Add(uploadIdle)
		if d.After(end) {
			d = end
		}
		// Not every writer supports deadlines (tests use a recorder).
		_ = rc.SetReadDeadline(d)
		_ = rc.SetWriteDeadline(d.Add(uploadIdle))
	}
	extend()
	return extend
}

// uploadCSRFValid is the CSRF check for uploads, done here rather than by
// the middleware, which would parse (and buffer) the whole form to find the
// token: programs with a bearer token need none; browsers that say the
// post comes from this site need none (as the middleware allows);
// otherwise the token comes in X-CSRF-Token or the "csrf" field, which the
// form puts before the file.
func (s *Server) uploadCSRFValid(c echo.Context, token string) bool {
	if bearerOnly(c) {
		return true
	}
	switch c.Request().Header.Get(echo.HeaderSecFetchSite) {
	case "same-origin", "none":
		return true
	case "cross-site":
		return false
	}
	ck, err := c.Cookie(csrfCookie)
	return err == nil && token != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(token)) == 1
}

func (s *Server) csrfRefused(c echo.Context) error {
	s.Log.Warn("cross-site request refused", "path", c.Request().URL.Path, "request_id", requestID(c), "reason", "upload csrf")
	return echo.NewHTTPError(http.StatusForbidden, "csrf")
}

// uploadFailed answers a refused or failed upload: a field error on the
// page (or in the API's error body) when it is about the file, otherwise
// the status that says what happened. Nothing was kept.
func (s *Server) uploadFailed(c echo.Context, p *proposals.Proposal, question string, err error) error {
	var tl *attachments.TooLargeError
	var re *attachments.ReadError
	var mbe *http.MaxBytesError
	var fe validate.Errors
	status := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, attachments.ErrBusy):
		c.Response().Header().Set("Retry-After", uploadRetryAfter)
		return s.uploadRefused(c, http.StatusServiceUnavailable, "upload_busy")
	case errors.Is(err, attachments.ErrNoSpace):
		s.uploadMetrics.full.Inc()
		s.Log.Error("file store full: upload refused", "request_id", requestID(c), "proposal_id", p.ID, "error", err.Error())
		c.Response().Header().Set("Retry-After", noSpaceRetryAfter)
		return s.fileRefused(c, p, question, http.StatusInsufficientStorage, "upload_no_space", validate.Errors{{Field: "file", Code: "upload_no_space"}})
	case errors.Is(err, attachments.ErrStoreUnavailable):
		s.uploadMetrics.unavailable.Inc()
		s.Log.Error("file store unavailable: upload failed", "request_id", requestID(c), "proposal_id", p.ID, "error", err.Error())
		c.Response().Header().Set("Retry-After", unavailableRetryAfter)
		return s.fileRefused(c, p, question, http.StatusServiceUnavailable, "upload_store_unavailable", validate.Errors{{Field: "file", Code: "upload_store_unavailable"}})
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
		fe = validate.Errors{{Field: "file", Code: "file_too_large", Params: map[string]any{"MB": mbe.Limit >> 20}}}
	case errors.As(err, &tl):
		status = http.StatusRequestEntityTooLarge
		code := "file_too_large"
		if tl.Proposal {
			code = "proposal_files_too_large"
		}
		fe = validate.Errors{{Field: "file", Code: code, Params: map[string]any{"MB": strconv.FormatFloat(float64(tl.Limit)/(1<<20), 'f', -1, 64)}}}
	case errors.As(err, &re):
		status = http.StatusBadRequest
		fe = validate.Errors{{Field: "file", Code: "upload_interrupted"}}
	default:
		var ok bool
		if fe, ok = validate.As(err); !ok {
			return proposalErr(err)
		}
		if fe.Has("file") && fe[0].Code == "upload_malformed" {
			status = http.StatusBadRequest
		}
	}
	code := "invalid_input"
	switch status {
	case http.StatusRequestEntityTooLarge:
		code = "too_large"
	case http.StatusBadRequest:
		code = "upload_malformed"
	}
	return s.fileRefused(c, p, question, status, code, fe)
}

// fileRefused answers an upload refused for a reason about the file: the
// files page again, with the existing files and the reasons on the file
// field, or the API's error (code, its status message, field problems).
// Nothing was kept.
func (s *Server) fileRefused(c echo.Context, p *proposals.Proposal, question string, status int, code string, fe validate.Errors) error {
	if isAPI(c) {
		l := lang(c)
		body := apiError{Error: apiErrorBody{Code: code, Message: s.Text.Translate(l, "status_"+code, nil), RequestID: requestID(c)}}
		for _, e := range fe {
			body.Error.Fields = append(body.Error.Fields, fieldProblem{Field: e.Field, Code: e.Code, Message: fieldMessage(s.Text, l, e)})
		}
		return c.JSON(status, body)
	}
	v, err := s.attachmentsData(c, p, proposals.RightEdit, question)
	if err != nil {
		return err
	}
	pg := s.newPage(c, s.Text.Translate(lang(c), "attachments_title", nil), v)
	pg.Errors = fe
	return s.render(c, status, "attachment_list", pg)
}

// uploadRefused answers with a status and a message of its own (the error
// handler would turn 503 and 507 into "something went wrong").
func (s *Server) uploadRefused(c echo.Context, status int, code string) error {
	msg := s.Text.Translate(lang(c), "status_"+code, nil)
	if isAPI(c) {
		return c.JSON(status, apiError{Error: apiErrorBody{Code: code, Message: msg, RequestID: requestID(c)}})
	}
	p := s.newPage(c, s.Text.Translate(lang(c), "title_error", nil), map[string]any{"Status": status, "Message": msg})
	return s.render(c, status, "error", p)
}

// --- download ---

func (s *Server) downloadAttachment(c echo.Context) error {
	p, _, staff, err := s.attachmentProposal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.Attachments.Get(ctx, p.ID, c.Param("aid"))
	if errors.Is(err, attachments.ErrNotFound) || (err == nil && staff && a.Status != "clean") {
		// Another proposal's file, a deleted one, or (for staff) one not
		// yet found clean: as if it did not exist, and on the record.
		return s.deny(c, true, authz.OrgDomain(p.OrganisationID), "attachment", authz.ActRead)
	}
	if err != nil {
		return err
	}
	rd, err := s.Attachments.Open(ctx, a)
	if err != nil {
		return err
	}
	defer rd.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, a.ContentType)
	h.Set(echo.HeaderContentLength, strconv.FormatInt(a.SizeBytes, 10))
	h.Set(echo.HeaderContentDisposition, contentDisposition(a.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// Opened in a browser tab anyway, the file can run nothing.
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), rd); err != nil {
		s.Log.Warn("download broke off", "request_id", requestID(c), "attachment_id", a.ID, "error", err.Error())
	}
	return nil
}

// contentDisposition says "save this file" with its name: an ASCII
// fallback, and the real name in RFC 5987 encoding.
func contentDisposition(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';' {
			return '_'
		}
		return r
	}, name)
	var enc strings.Builder
	for _, b := range []byte(name) {
		// RFC 5987 attr-char: letters, digits and !#$&+-.^_`|~ stay as they are.
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, fallback, enc.String())
}

// --- list and delete ---

func (s *Server) apiAttachments(c echo.Context) error {
	p, _, staff, err := s.attachmentProposal(c)
	if err != nil {
		return err
	}
	list, err := s.Attachments.List(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	if staff {
		clean := list[:0]
		for _, a := range list {
			if a.Status == "clean" {
				clean = append(clean, a)
			}
		}
		list = clean
	}
	return c.JSON(http.StatusOK, map[string]any{"attachments": list, "total_bytes_max": s.Attachments.MaxProposalBytes()})
}

func (s *Server) deleteAttachment(c echo.Context) error {
	p, _, err := s.proposalFor(c, proposals.RightEdit)
	if err != nil {
		return err
	}
	err = s.Attachments.Delete(c.Request().Context(), actor(c), p.ID, c.Param("aid"))
	if errors.Is(err, attachments.ErrNotFound) {
		return s.deny(c, true, authz.OrgDomain(p.OrganisationID), "attachment", authz.ActDelete)
	}
	if err != nil {
		return proposalErr(err)
	}
	if isAPI(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return redirectWithFlash(c, "/proposals/"+p.ID+"/attachments", "attachment_deleted")
}

func attachmentPaths() obj {
	id, aid := idParam("id"), idParam("aid")
	question := obj{"name": "question", "in": "query", "required": true, "schema": str(), "description": "The file question's id"}
	att := object(obj{"id": strf("uuid"), "question_id": str(), "filename": str(), "content_type": str(),
		"size_bytes": integer(), "sha256": obj{"type": "string", "description": "Hex SHA-256 of the stored bytes"},
		"status": obj{"type": "string", "enum": []string{"pending_scan", "clean", "infected"}}, "created_at": strf("date-time")})
	upload := op("attachments", "Upload a file for a file question of a draft (needs edit rights). multipart/form-data with the "+
		"file in the field \"file\". The extension must be one the question allows and agree with the content; limits: the "+
		"question's max_file_mb per file and 100 MB per proposal. 413 when too large (nothing is kept), 503 with Retry-After "+
		"when too many uploads are in progress (upload_busy) or the file store is not responding (upload_store_unavailable), "+
		"507 with Retry-After when the file store is full (upload_no_space); nothing is kept then and earlier files are intact.", nil, "201", att)
	upload["requestBody"] = obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": object(
		obj{"file": obj{"type": "string", "format": "binary"}}, "file")}}}
	download := op("attachments", "Download a file (Content-Disposition: attachment, with the stored content type)", nil, "200", nil)
	download["responses"].(obj)["200"] = obj{"description": "The file's bytes", "content": obj{"application/octet-stream": obj{"schema": obj{"type": "string", "format": "binary"}}}}
	return obj{
		"/proposals/{id}/attachments": obj{
			"get":  withParams(op("attachments", "A proposal's files", nil, "200", object(obj{"attachments": arrayOf(att), "total_bytes_max": integer()})), id),
			"post": withParams(upload, id, question),
		},
		"/proposals/{id}/attachments/{aid}": obj{
			"get":    withParams(download, id, aid),
			"delete": withParams(op("attachments", "Remove a file from a draft (needs edit rights)", nil, "204", nil), id, aid),
		},
	}
}
