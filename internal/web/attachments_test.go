package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"runtime"
	"strings"
	"testing"
	"time"

	gcblob "gocloud.dev/blob"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/proposals"
)

// filesDesk is a published call whose "plan" question takes PDF and Word
// files of at most maxMB, and an applicant signed in with a draft.
type filesDesk struct {
	env    *apptest.Env
	page   *apptest.Client
	draft  *proposals.Proposal
	userID string
}

func newFilesDesk(t *testing.T, maxMB int) filesDesk {
	t.Helper()
	return newFilesDeskOn(t, apptest.New(t), maxMB)
}

func newFilesDeskOn(t *testing.T, env *apptest.Env, maxMB int) filesDesk {
	t.Helper()
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	qs := in.Form.Sections[0].Questions
	qs[len(qs)-1].FileTypes, qs[len(qs)-1].MaxFileMB = []string{"pdf", "docx"}, maxMB
	call, _ := env.PublishedCall(in)
	u, org := env.Applicant("ama@example.org", "Ghana Cocoa Cooperative")
	p, err := env.Proposals.Start(t.Context(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"},
		proposals.StartInput{CallID: call.ID, OrganisationID: org, Title: "Solar dryers", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	c.SignIn("ama@example.org", "")
	return filesDesk{env: env, page: c, draft: p, userID: u.ID}
}

// form builds a multipart body: the csrf field (if not empty) and then the
// file part (if name is not "-").
func form(csrf, name string, content []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if csrf != "" {
		_ = w.WriteField("csrf", csrf)
	}
	if name != "-" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)))
		h.Set("Content-Type", "application/octet-stream")
		part, _ := w.CreatePart(h)
		_, _ = part.Write(content)
	}
	_ = w.Close()
	return &b, w.FormDataContentType()
}

func pdfOf(size int) []byte {
	b := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	copy(b, "%PDF-1.7\n")
	return b
}

func (d filesDesk) upload(path, name string, content []byte) *apptest.Response {
	body, ct := form("", name, content)
	return d.page.Do(http.MethodPost, path, body, ct)
}

func (d filesDesk) uploadURL(question string) string {
	return "/proposals/" + d.draft.ID + "/attachments?question=" + question
}

// kept counts attachment rows and stored blobs.
func (d filesDesk) kept(t *testing.T) (rows int64, blobs int) {
	t.Helper()
	if err := d.env.DB.Gorm.Model(&proposals.Attachment{}).Where("deleted_at IS NULL").Count(&rows).Error; err != nil {
		t.Fatal(err)
	}
	it := d.env.Blobs.List(&gcblob.ListOptions{})
	for {
		_, err := it.Next(t.Context())
		if errors.Is(err, io.EOF) {
			return rows, blobs
		}
		if err != nil {
			t.Fatal(err)
		}
		blobs++
	}
}

type attachmentList struct {
	Attachments []proposals.Attachment `json:"attachments"`
}

func TestUploadThenDownloadTheSameBytes(t *testing.T) {
	d := newFilesDesk(t, 1)
	page := d.page.Get("/proposals/" + d.draft.ID + "/attachments")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `enctype="multipart/form-data"`) || !strings.Contains(page.Body, `accept=".pdf,.docx"`) {
		t.Fatalf("files page: %d", page.StatusCode)
	}
	content := pdfOf(700_000)
	res := d.upload(d.uploadURL("plan"), `Plan de travail "final".pdf`, content)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	var list attachmentList
	if res := d.page.JSON(http.MethodGet, "/api/v1/proposals/"+d.draft.ID+"/attachments", nil, &list); res.StatusCode != http.StatusOK || len(list.Attachments) != 1 {
		t.Fatalf("list: %d %s", res.StatusCode, res.Body)
	}
	a := list.Attachments[0]
	sum := sha256.Sum256(content)
	if a.SHA256 != hex.EncodeToString(sum[:]) || a.SizeBytes != int64(len(content)) {
		t.Fatalf("recorded %s, %d bytes", a.SHA256, a.SizeBytes)
	}
	dl := d.page.Get("/proposals/" + d.draft.ID + "/attachments/" + a.ID)
	got := sha256.Sum256([]byte(dl.Body))
	if dl.StatusCode != http.StatusOK || got != sum {
		t.Fatalf("download: %d, %d bytes", dl.StatusCode, len(dl.Body))
	}
	h := dl.Header
	if h.Get("Content-Type") != "application/pdf" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" ||
		h.Get("Content-Disposition") != `attachment; filename="Plan de travail _final_.pdf"; filename*=UTF-8''Plan%20de%20travail%20%22final%22.pdf` {
		t.Fatalf("download headers: %v", h)
	}
	if page := d.page.Get("/proposals/" + d.draft.ID + "/attachments"); !strings.Contains(page.Body, "Plan de travail &#34;final&#34;.pdf") {
		t.Error("the files page does not list the file")
	}
	// The API takes the same upload and removes files.
	body, ct := form("", "Annexe é=2.pdf", pdfOf(1000))
	var created proposals.Attachment
	res = d.page.Do(http.MethodPost, "/api/v1/proposals/"+d.draft.ID+"/attachments?question=plan", body, ct)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("API upload: %d %s", res.StatusCode, res.Body)
	}
	if err := json.Unmarshal([]byte(res.Body), &created); err != nil || created.ID == "" {
		t.Fatalf("API upload answer: %v %s", err, res.Body)
	}
	dl = d.page.Get("/api/v1/proposals/" + d.draft.ID + "/attachments/" + created.ID)
	if cd := dl.Header.Get("Content-Disposition"); dl.StatusCode != http.StatusOK || cd != `attachment; filename="Annexe _=2.pdf"; filename*=UTF-8''Annexe%20%C3%A9%3D2.pdf` {
		t.Fatalf("API download: %d %q", dl.StatusCode, cd)
	}
	if res := d.page.JSON(http.MethodDelete, "/api/v1/proposals/"+d.draft.ID+"/attachments/"+created.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("API delete: %d %s", res.StatusCode, res.Body)
	}
	if rows, blobs := d.kept(t); rows != 1 || blobs != 1 {
		t.Fatalf("after delete: %d rows, %d blobs", rows, blobs)
	}
}

func TestRefusedUploadsKeepNothing(t *testing.T) {
	d := newFilesDesk(t, 1)
	program := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 4096)...)
	for name, tc := range map[string]struct {
		question, filename string
		content            []byte
		status             int
		message            string
	}{
		"program renamed .pdf":    {"plan", "report.pdf", program, http.StatusUnprocessableEntity, "this file is a program, not a pdf document"},
		"ELF renamed .pdf":        {"plan", "report.pdf", []byte("\x7fELF\x02\x01\x01\x00"), http.StatusUnprocessableEntity, "this file is a program, not a pdf document"},
		"extension not allowed":   {"plan", "photo.png", []byte("\x89PNG\r\n\x1a\n"), http.StatusUnprocessableEntity, "Accepted: pdf, docx"},
		"one byte over the limit": {"plan", "big.pdf", pdfOf(1<<20 + 1), http.StatusRequestEntityTooLarge, "larger than 1 MB"},
		"not a file question":     {"summary", "report.pdf", pdfOf(100), http.StatusUnprocessableEntity, "not found"},
		"NUL in the file name":    {"plan", "report.exe\x00.pdf", pdfOf(100), http.StatusBadRequest, "could not be read"},
	} {
		res := d.upload(d.uploadURL(tc.question), tc.filename, tc.content)
		if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.message) {
			t.Errorf("%s: %d %q", name, res.StatusCode, apptest.FirstError(res.Body))
		}
	}
	if rows, blobs := d.kept(t); rows != 0 || blobs != 0 {
		t.Fatalf("refused uploads kept %d rows, %d blobs", rows, blobs)
	}
	if res := d.upload(d.uploadURL("plan"), "exact.pdf", pdfOf(1<<20)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("exactly 1 MB: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	// An honest Content-Length over the limit is refused before reading.
	res := d.page.Do(http.MethodPost, d.uploadURL("plan"), strings.NewReader(strings.Repeat("x", 60<<20)), "multipart/form-data; boundary=x")
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("60 MB Content-Length: %d", res.StatusCode)
	}
	if rows, blobs := d.kept(t); rows != 1 || blobs != 1 {
		t.Fatalf("%d rows, %d blobs; want the one file", rows, blobs)
	}
}

func TestMalformedUploadsAreRefusedNot500(t *testing.T) {
	d := newFilesDesk(t, 1)
	good, ct := form("", "plan.pdf", pdfOf(50_000))
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	unterminated := good.Bytes()[:good.Len()-len(boundary)-30]
	manyParts := strings.Repeat("--"+boundary+"\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n", 10_001) + "--" + boundary + "--\r\n"
	longHeader := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nX-Long: " +
		strings.Repeat("h", 1<<20) + "\r\n\r\n%PDF-1.7\r\n--" + boundary + "--\r\n"
	for name, tc := range map[string]struct {
		body, contentType string
		status            int
	}{
		"missing boundary":  {good.String(), "multipart/form-data", http.StatusBadRequest},
		"not multipart":     {"file=plan.pdf", "application/x-www-form-urlencoded", http.StatusBadRequest},
		"wrong boundary":    {good.String(), "multipart/form-data; boundary=nope", http.StatusBadRequest},
		"unterminated part": {string(unterminated), ct, http.StatusBadRequest},
		"no file field":     {"--" + boundary + "--\r\n", ct, http.StatusUnprocessableEntity},
		"empty body":        {"", ct, http.StatusUnprocessableEntity},
		"NUL in an encoded file name": {"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''a.exe%00.pdf\r\n\r\n%PDF-1.7\r\n--" + boundary + "--\r\n",
			ct, http.StatusUnprocessableEntity},
		"10 001 parts":     {manyParts, ct, http.StatusBadRequest},
		"1 MB header line": {longHeader, ct, http.StatusBadRequest},
		"file without a name": {"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n%PDF-1.7\r\n--" + boundary + "--\r\n",
			ct, http.StatusUnprocessableEntity},
	} {
		res := d.page.Do(http.MethodPost, d.uploadURL("plan"), strings.NewReader(tc.body), tc.contentType)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d: %s", name, res.StatusCode, tc.status, apptest.FirstError(res.Body))
		}
	}
	if rows, blobs := d.kept(t); rows != 0 || blobs != 0 {
		t.Fatalf("malformed uploads kept %d rows, %d blobs", rows, blobs)
	}
}

func TestOtherOrganisationsFilesStayHidden(t *testing.T) {
	d := newFilesDesk(t, 1)
	if res := d.upload(d.uploadURL("plan"), "plan.pdf", pdfOf(5000)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	var list attachmentList
	d.page.JSON(http.MethodGet, "/api/v1/proposals/"+d.draft.ID+"/attachments", nil, &list)
	aid := list.Attachments[0].ID

	// Another applicant, with a draft of their own on the same call.
	u, org := d.env.Applicant("kofi@example.org", "Accra Makers")
	theirs, err := d.env.Proposals.Start(t.Context(), audit.Actor{UserID: u.ID}, proposals.StartInput{CallID: d.draft.CallID,
		OrganisationID: org, Title: "Bamboo bikes", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	other := d.env.Client()
	other.SignIn("kofi@example.org", "")
	denials := func() int {
		recs, _ := audit.List(t.Context(), d.env.DB.Gorm, audit.Filter{Action: "authz.deny", ActorID: u.ID})
		return len(recs)
	}
	before := denials()
	for _, path := range []string{
		"/proposals/" + d.draft.ID + "/attachments/" + aid,        // the real pair, not theirs
		"/proposals/" + theirs.ID + "/attachments/" + aid,         // their proposal, someone else's file
		"/api/v1/proposals/" + d.draft.ID + "/attachments/" + aid, // the API
		"/api/v1/proposals/" + d.draft.ID + "/attachments",
		"/proposals/" + d.draft.ID + "/attachments",
	} {
		res := other.Get(path)
		if res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "%PDF") {
			t.Errorf("%s: %d, %d bytes", path, res.StatusCode, len(res.Body))
		}
	}
	if res := other.PostForm("/proposals/"+d.draft.ID+"/attachments/"+aid+"/delete", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("delete someone else's file: %d", res.StatusCode)
	}
	body, ct := form("", "plan.pdf", pdfOf(100))
	if res := other.Do(http.MethodPost, "/proposals/"+d.draft.ID+"/attachments?question=plan", body, ct); res.StatusCode != http.StatusNotFound {
		t.Errorf("upload to someone else's proposal: %d", res.StatusCode)
	}
	if got := denials() - before; got != 7 {
		t.Errorf("%d denials recorded, want 7", got)
	}
	if rows, blobs := d.kept(t); rows != 1 || blobs != 1 {
		t.Fatalf("%d rows, %d blobs", rows, blobs)
	}
}

func TestSubmittedProposalsTakeNoFiles(t *testing.T) {
	d := newFilesDesk(t, 1)
	if res := d.upload(d.uploadURL("plan"), "plan.pdf", pdfOf(5000)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	var list attachmentList
	d.page.JSON(http.MethodGet, "/api/v1/proposals/"+d.draft.ID+"/attachments", nil, &list)
	if err := d.env.DB.Gorm.Exec("UPDATE proposals SET status = ? WHERE id = ?", proposals.StatusSubmitted, d.draft.ID).Error; err != nil {
		t.Fatal(err)
	}
	if res := d.upload(d.uploadURL("plan"), "late.pdf", pdfOf(5000)); res.StatusCode != http.StatusConflict {
		t.Errorf("upload after submission: %d", res.StatusCode)
	}
	if res := d.page.PostForm("/proposals/"+d.draft.ID+"/attachments/"+list.Attachments[0].ID+"/delete", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("delete after submission: %d", res.StatusCode)
	}
	if page := d.page.Get("/proposals/" + d.draft.ID + "/attachments"); strings.Contains(page.Body, `type="file"`) {
		t.Error("a submitted proposal's page offers an upload")
	}
	if rows, blobs := d.kept(t); rows != 1 || blobs != 1 {
		t.Fatalf("%d rows, %d blobs", rows, blobs)
	}
}

func TestUploadCSRF(t *testing.T) {
	d := newFilesDesk(t, 1)
	d.page.CrossSite = true
	if res := d.upload(d.uploadURL("plan"), "plan.pdf", pdfOf(100)); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site upload: %d", res.StatusCode)
	}
	// An old browser sends no Sec-Fetch-Site: the form's token decides.
	d.page.CrossSite, d.page.NoFetchMetadata = false, true
	if res := d.upload(d.uploadURL("plan"), "plan.pdf", pdfOf(100)); res.StatusCode != http.StatusForbidden {
		t.Errorf("upload without a token: %d", res.StatusCode)
	}
	d.page.Get("/proposals/" + d.draft.ID + "/attachments")
	body, ct := form(d.page.Cookie("__Host-facility_csrf"), "plan.pdf", pdfOf(100))
	if res := d.page.Do(http.MethodPost, d.uploadURL("plan"), body, ct); res.StatusCode != http.StatusSeeOther {
		t.Errorf("upload with the form's token: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if rows, _ := d.kept(t); rows != 1 {
		t.Fatalf("%d rows", rows)
	}
}

// TestUploadIsStreamed sends 20 MB through the handler from a generator
// (never whole in the test either) and checks that the server side
// allocated far less than the file: it was not buffered.
func TestUploadIsStreamed(t *testing.T) {
	d := newFilesDesk(t, 25)
	const size = 20 << 20
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		part, err := w.CreateFormFile("file", "big.pdf")
		if err == nil {
			_, err = part.Write([]byte("%PDF-1.7\n"))
		}
		chunk := bytes.Repeat([]byte("stream "), 64<<10/7)
		for left := size - 9; err == nil && left > 0; left -= len(chunk) {
			_, err = part.Write(chunk[:min(len(chunk), left)])
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := d.page.Do(http.MethodPost, d.uploadURL("plan"), pr, w.FormDataContentType())
	runtime.ReadMemStats(&after)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("20 MB upload: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	var list attachmentList
	d.page.JSON(http.MethodGet, "/api/v1/proposals/"+d.draft.ID+"/attachments", nil, &list)
	if len(list.Attachments) != 1 || list.Attachments[0].SizeBytes != size {
		t.Fatalf("stored %+v", list.Attachments)
	}
	t.Logf("allocated %.1f MB while uploading 20 MB", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	// Everything allocated meanwhile, by the server, the test's generator
	// and background work together: a buffered file alone would be 20 MB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Fatalf("allocated %d MB while uploading 20 MB", grew>>20)
	}
}
