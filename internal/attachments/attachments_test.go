package attachments_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	gcblob "gocloud.dev/blob"

	"facility/internal/apptest"
	"facility/internal/attachments"
	"facility/internal/audit"
	"facility/internal/calls"
	"facility/internal/proposals"
	"facility/internal/validate"
)

type fixture struct {
	env   *apptest.Env
	call  *calls.Call
	actor audit.Actor
	p     *proposals.Proposal
}

// setup: a published call whose "plan" question takes PDFs or Word files
// of at most 1 MB, and a draft answering it.
func setup(t *testing.T) fixture {
	return setupOn(t, apptest.New(t))
}

func setupOn(t *testing.T, env *apptest.Env) fixture {
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	qs := in.Form.Sections[0].Questions
	qs[len(qs)-1].FileTypes, qs[len(qs)-1].MaxFileMB = []string{"pdf", "docx", "txt"}, 1
	c, _ := env.PublishedCall(in)
	u, org := env.Applicant("ama@example.org", "Ghana Cocoa Cooperative")
	a := audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "test"}
	p, err := env.Proposals.Start(t.Context(), a, proposals.StartInput{CallID: c.ID, OrganisationID: org, Title: "Solar dryers", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{env: env, call: c, actor: a, p: p}
}

func pdf(size int) []byte {
	b := bytes.Repeat([]byte("x"), size)
	copy(b, "%PDF-1.7\n")
	return b
}

func (f fixture) store(t *testing.T, svc *attachments.Service, name string, body []byte) (*proposals.Attachment, error) {
	t.Helper()
	up, err := svc.Begin(t.Context(), f.p, "plan")
	if err != nil {
		return nil, err
	}
	return up.Store(t.Context(), f.actor, name, bytes.NewReader(body), nil)
}

// stored lists every key in the blob store.
func (f fixture) stored(t *testing.T) []string {
	t.Helper()
	var keys []string
	it := f.env.Blobs.List(&gcblob.ListOptions{})
	for {
		o, err := it.Next(t.Context())
		if errors.Is(err, io.EOF) {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
}

func (f fixture) rows(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := f.env.DB.Gorm.Model(&proposals.Attachment{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStoredFileComesBackWithItsHash(t *testing.T) {
	f := setup(t)
	body := pdf(300_000)
	a, err := f.store(t, f.env.Attachments, "Work plan ‮fdp.exe.pdf", body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if a.SHA256 != hex.EncodeToString(sum[:]) || a.SizeBytes != int64(len(body)) || a.Status != "clean" || a.ContentType != "application/pdf" {
		t.Fatalf("stored %+v", a)
	}
	if a.Filename != "Work plan fdp.exe.pdf" {
		t.Errorf("filename %q kept its direction override", a.Filename)
	}
	got, err := f.env.Attachments.Get(t.Context(), f.p.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.env.Attachments.Open(t.Context(), got)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	back, _ := io.ReadAll(r)
	if !bytes.Equal(back, body) {
		t.Fatal("bytes read back differ")
	}
	recs, err := audit.List(t.Context(), f.env.DB.Gorm, audit.Filter{Action: "attachment.upload"})
	if err != nil || len(recs) != 1 || recs[0].ObjectID != a.ID {
		t.Fatalf("audit: %v %+v", err, recs)
	}
	if strings.Contains(a.BlobKey, "plan") || strings.Contains(a.BlobKey, f.p.ID) {
		t.Errorf("blob key %q reveals names", a.BlobKey)
	}
}

func TestLimitIsExactAndNothingIsKeptOverIt(t *testing.T) {
	f := setup(t)
	if _, err := f.store(t, f.env.Attachments, "exact.pdf", pdf(1<<20)); err != nil {
		t.Fatalf("exactly 1 MB refused: %v", err)
	}
	rows, keys := f.rows(t), len(f.stored(t))
	_, err := f.store(t, f.env.Attachments, "over.pdf", pdf(1<<20+1))
	var tl *attachments.TooLargeError
	if !errors.As(err, &tl) || tl.Proposal || tl.Limit != 1<<20 {
		t.Fatalf("1 MB + 1 byte: %v", err)
	}
	if f.rows(t) != rows || len(f.stored(t)) != keys {
		t.Fatalf("something was kept: %d rows (was %d), blobs %v", f.rows(t), rows, f.stored(t))
	}
}

func TestRefusedFilesLeaveNothing(t *testing.T) {
	f := setup(t)
	for name, tc := range map[string]struct {
		filename string
		body     []byte
		code     string
	}{
		"program renamed to .pdf": {"plan.pdf", append([]byte("MZ\x90\x00\x03"), make([]byte, 5000)...), "file_is_program"},
		"ELF renamed to .pdf":     {"plan.pdf", []byte("\x7fELF\x02\x01\x01"), "file_is_program"},
		"type not allowed":        {"photo.png", []byte("\x89PNG\r\n\x1a\n"), "file_type_not_allowed"},
		"no extension":            {"plan", pdf(100), "file_type_not_allowed"},
		"empty":                   {"plan.pdf", nil, "file_empty"},
		"NUL in the name":         {"plan.exe\x00.pdf", pdf(100), "filename_invalid"},
		"text with a NUL late":    {"notes.txt", append(bytes.Repeat([]byte("ok "), 3000), 0), "file_content_mismatch"},
		"text invalid at the end": {"notes.txt", append(bytes.Repeat([]byte("ok "), 3000), 0xc3), "file_content_mismatch"},
	} {
		_, err := f.store(t, f.env.Attachments, tc.filename, tc.body)
		fe, ok := validate.As(err)
		if !ok || len(fe) != 1 || fe[0].Field != "file" || fe[0].Code != tc.code {
			t.Errorf("%s: %v, want file:%s", name, err, tc.code)
		}
	}
	if n := f.rows(t); n != 0 {
		t.Fatalf("%d rows kept", n)
	}
	if keys := f.stored(t); len(keys) != 0 {
		t.Fatalf("blobs kept: %v", keys)
	}
}

func TestBrokenUploadLeavesNothing(t *testing.T) {
	f := setup(t)
	up, err := f.env.Attachments.Begin(t.Context(), f.p, "plan")
	if err != nil {
		t.Fatal(err)
	}
	broken := io.MultiReader(bytes.NewReader(pdf(200_000)), iotestErrReader{io.ErrUnexpectedEOF})
	_, err = up.Store(t.Context(), f.actor, "plan.pdf", broken, nil)
	var re *attachments.ReadError
	if !errors.As(err, &re) {
		t.Fatalf("broken upload: %v", err)
	}
	if f.rows(t) != 0 || len(f.stored(t)) != 0 {
		t.Fatal("a broken upload left something")
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestProposalTotalHoldsUnderConcurrentUploads(t *testing.T) {
	f := setup(t)
	svc := attachments.New(f.env.DB.Gorm, f.env.Blobs, f.env.Calls, slog.Default(), attachments.Options{MaxProposalBytes: 2 << 20})
	// Five files of 600 KB side by side: at most three fit in 2 MB.
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.store(t, svc, "part.pdf", pdf(600_000))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		var tl *attachments.TooLargeError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &tl) && tl.Proposal:
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	list, _ := svc.List(t.Context(), f.p.ID)
	var total int64
	for _, a := range list {
		total += a.SizeBytes
	}
	if ok != 3 || len(list) != 3 || total > 2<<20 || len(f.stored(t)) != 3 {
		t.Fatalf("%d accepted, %d listed, %d bytes, %d blobs", ok, len(list), total, len(f.stored(t)))
	}
}

func TestOnlyDraftsChangeAndDeletedFilesGo(t *testing.T) {
	f := setup(t)
	a, err := f.store(t, f.env.Attachments, "plan.pdf", pdf(1000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Attachments.Begin(t.Context(), f.p, "summary"); !hasField(err, "question") {
		t.Errorf("a text question took a file: %v", err)
	}
	if err := f.env.Attachments.Delete(t.Context(), f.actor, f.p.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Attachments.Get(t.Context(), f.p.ID, a.ID); !errors.Is(err, attachments.ErrNotFound) {
		t.Errorf("deleted file still found: %v", err)
	}
	if keys := f.stored(t); len(keys) != 0 {
		t.Errorf("deleted file's bytes kept: %v", keys)
	}
	b, err := f.store(t, f.env.Attachments, "plan.pdf", pdf(1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.DB.Gorm.Exec("UPDATE proposals SET status = 'submitted' WHERE id = ?", f.p.ID).Error; err != nil {
		t.Fatal(err)
	}
	p, _ := f.env.Proposals.Get(t.Context(), f.p.ID)
	if _, err := f.env.Attachments.Begin(t.Context(), p, "plan"); !errors.Is(err, proposals.ErrWrongStatus) {
		t.Errorf("upload to a submitted proposal: %v", err)
	}
	if err := f.env.Attachments.Delete(t.Context(), f.actor, f.p.ID, b.ID); !errors.Is(err, proposals.ErrWrongStatus) {
		t.Errorf("delete from a submitted proposal: %v", err)
	}
	// An upload that began on the draft cannot land after submission.
	if _, err := f.store(t, f.env.Attachments, "late.pdf", pdf(1000)); !errors.Is(err, proposals.ErrWrongStatus) {
		t.Errorf("upload begun before submission: %v", err)
	}
	if n := len(f.stored(t)); n != 1 {
		t.Errorf("%d blobs, want the one file", n)
	}
}

func TestSweepRemovesOnlyOrphans(t *testing.T) {
	f := setup(t)
	a, err := f.store(t, f.env.Attachments, "plan.pdf", pdf(1000))
	if err != nil {
		t.Fatal(err)
	}
	// As if the process died between storing a file and recording it.
	if err := f.env.Blobs.WriteAll(t.Context(), "attachments/orphan", pdf(10), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := f.env.Attachments.Sweep(t.Context(), time.Hour); err != nil || n != 0 {
		t.Fatalf("young orphan swept: %d %v", n, err)
	}
	n, err := f.env.Attachments.Sweep(context.Background(), -time.Second)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	keys := f.stored(t)
	if len(keys) != 1 || keys[0] != a.BlobKey {
		t.Fatalf("left %v, want only %s", keys, a.BlobKey)
	}
}

func TestBusyWhenEverySlotIsTaken(t *testing.T) {
	f := setup(t)
	svc := attachments.New(f.env.DB.Gorm, f.env.Blobs, f.env.Calls, slog.Default(),
		attachments.Options{MaxConcurrent: 2, MaxWaiting: 1, MaxWait: 50 * time.Millisecond})
	r1, err := svc.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r2, err := svc.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Acquire(t.Context()); !errors.Is(err, attachments.ErrBusy) {
		t.Fatalf("third upload: %v", err)
	}
	r1()
	r3, err := svc.Acquire(t.Context())
	if err != nil {
		t.Fatalf("slot not given back: %v", err)
	}
	r2()
	r3()
}

func hasField(err error, field string) bool {
	fe, ok := validate.As(err)
	return ok && fe.Has(field)
}
