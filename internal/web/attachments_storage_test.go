package web_test

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	gcblob "gocloud.dev/blob"

	"facility/internal/apptest"
	"facility/internal/blob/blobtest"
)

func newFaultyFilesDesk(t *testing.T) (filesDesk, *blobtest.Faulty) {
	t.Helper()
	var fault *blobtest.Faulty
	env := apptest.NewWithOptions(t, apptest.Config(t), apptest.Options{WrapBlobs: func(b *gcblob.Bucket) *gcblob.Bucket {
		w, f := blobtest.Wrap(b)
		fault = f
		return w
	}})
	return newFilesDeskOn(t, env, 1), fault
}

// metric reads a counter from /metrics.
func metric(t *testing.T, d filesDesk, name string) int {
	t.Helper()
	res := d.page.Get("/metrics")
	m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("%s not in /metrics (%d)", name, res.StatusCode)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TESTPLAN REL-12 through HTTP: with the file store full, an upload on
// the page and through the API answers 507 with a message saying so,
// keeps no row and no partial file, leaves the earlier file downloadable
// with the same SHA-256, counts for the alert, and uploads work again as
// soon as space is freed, without a restart.
func TestFullFileStoreAnswers507AndRecovers(t *testing.T) {
	d, fault := newFaultyFilesDesk(t)
	earlier := pdfOf(150_000)
	if res := d.upload(d.uploadURL("plan"), "earlier.pdf", earlier); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first upload: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	var list attachmentList
	d.page.JSON(http.MethodGet, "/api/v1/proposals/"+d.draft.ID+"/attachments", nil, &list)
	if len(list.Attachments) != 1 {
		t.Fatalf("%d files", len(list.Attachments))
	}
	prev := list.Attachments[0]
	fault.FailWritesAfter(64<<10, syscall.ENOSPC)

	// The page: the files page again, the earlier file listed, the reason
	// on the file field.
	res := d.upload(d.uploadURL("plan"), "new.pdf", pdfOf(500_000))
	if res.StatusCode != http.StatusInsufficientStorage || !strings.Contains(res.Body, "the file store is full") ||
		!strings.Contains(res.Body, "earlier.pdf") || res.Header.Get("Retry-After") == "" {
		t.Fatalf("page: %d Retry-After %q %q", res.StatusCode, res.Header.Get("Retry-After"), apptest.FirstError(res.Body))
	}
	// In French too.
	d.page.SetCookie("__Host-facility_lang", "fr")
	res = d.upload(d.uploadURL("plan"), "new.pdf", pdfOf(500_000))
	if res.StatusCode != http.StatusInsufficientStorage || !strings.Contains(res.Body, "l’espace de stockage des fichiers est plein") {
		t.Fatalf("page in French: %d %q", res.StatusCode, apptest.FirstError(res.Body))
	}
	d.page.SetCookie("__Host-facility_lang", "en")

	// The API: its error format, with a code of its own.
	body, ct := form("", "new.pdf", pdfOf(500_000))
	res = d.page.Do(http.MethodPost, "/api/v1/proposals/"+d.draft.ID+"/attachments?question=plan", body, ct)
	var apiErr struct {
		Error struct {
			Code, Message, RequestID string
			Fields                   []struct{ Field, Code, Message string }
		}
	}
	if err := json.Unmarshal([]byte(res.Body), &apiErr); err != nil || res.StatusCode != http.StatusInsufficientStorage ||
		apiErr.Error.Code != "upload_no_space" || !strings.Contains(apiErr.Error.Message, "the file store is full") ||
		len(apiErr.Error.Fields) != 1 || apiErr.Error.Fields[0].Field != "file" {
		t.Fatalf("API: %d %s", res.StatusCode, res.Body)
	}
	// The rest of the file was read (and dropped): a client still sending
	// would otherwise get a reset connection instead of the answer.
	if body.Len() != 0 {
		t.Errorf("%d bytes of the upload left unread", body.Len())
	}
	// Full when the file is finished (a network file system, S3 at the end).
	fault.Heal()
	fault.FailClose(syscall.ENOSPC)
	if res := d.upload(d.uploadURL("plan"), "new.pdf", pdfOf(500_000)); res.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("full at close: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}

	if rows, blobs := d.kept(t); rows != 1 || blobs != 1 {
		t.Fatalf("full store kept %d rows, %d blobs; want only the earlier file", rows, blobs)
	}
	dl := d.page.Get("/proposals/" + d.draft.ID + "/attachments/" + prev.ID)
	if got, want := sha256.Sum256([]byte(dl.Body)), sha256.Sum256(earlier); dl.StatusCode != http.StatusOK || got != want {
		t.Fatalf("earlier file: %d, %d bytes", dl.StatusCode, len(dl.Body))
	}
	if n := metric(t, d, "facility_upload_storage_full_total"); n != 4 {
		t.Errorf("facility_upload_storage_full_total = %d, want 4", n)
	}

	// Space freed: the same upload goes through, no restart.
	fault.Heal()
	if res := d.upload(d.uploadURL("plan"), "new.pdf", pdfOf(500_000)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after space was freed: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if rows, blobs := d.kept(t); rows != 2 || blobs != 2 {
		t.Fatalf("after recovery: %d rows, %d blobs", rows, blobs)
	}
}

// A file store failing for a while answers 503 with Retry-After, not 500.
func TestUnavailableFileStoreAnswers503(t *testing.T) {
	d, fault := newFaultyFilesDesk(t)
	fault.FailWritesAfter(10_000, syscall.ETIMEDOUT)
	res := d.upload(d.uploadURL("plan"), "new.pdf", pdfOf(100_000))
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(res.Body, "the file store is not responding") {
		t.Fatalf("page: %d %q %q", res.StatusCode, res.Header.Get("Retry-After"), apptest.FirstError(res.Body))
	}
	body, ct := form("", "new.pdf", pdfOf(100_000))
	res = d.page.Do(http.MethodPost, "/api/v1/proposals/"+d.draft.ID+"/attachments?question=plan", body, ct)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.Body, `"code":"upload_store_unavailable"`) {
		t.Fatalf("API: %d %s", res.StatusCode, res.Body)
	}
	if rows, blobs := d.kept(t); rows != 0 || blobs != 0 {
		t.Fatalf("kept %d rows, %d blobs", rows, blobs)
	}
	if n := metric(t, d, "facility_upload_storage_unavailable_total"); n != 2 {
		t.Errorf("facility_upload_storage_unavailable_total = %d, want 2", n)
	}
	fault.Heal()
	if res := d.upload(d.uploadURL("plan"), "new.pdf", pdfOf(100_000)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the store came back: %d", res.StatusCode)
	}
}

// TESTPLAN REL-12, the temp dir: uploads stream to the file store and
// never through a temporary file, so a full (here: missing) temp dir does
// not stop them.
func TestUploadsNeedNoTempDir(t *testing.T) {
	d := newFilesDesk(t, 1)
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	if res := d.upload(d.uploadURL("plan"), "plan.pdf", pdfOf(700_000)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload without a temp dir: %d %s", res.StatusCode, apptest.FirstError(res.Body))
	}
	if rows, blobs := d.kept(t); rows != 1 || blobs != 1 {
		t.Fatalf("%d rows, %d blobs", rows, blobs)
	}
}
