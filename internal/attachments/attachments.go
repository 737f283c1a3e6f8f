// Package attachments keeps the files of proposals: streamed into the blob
// store while their SHA-256 is computed, never held whole in memory,
// limited per file (the question's max_file_mb) and per proposal (100 MB),
// of the types the question allows and whose content agrees with their
// name. A file's row is written only once the whole file is stored, in one
// transaction with its audit record, so a row never points to a missing or
// partial file; a file stored without a row (a crash between the two) is
// removed by Sweep.
package attachments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	gcblob "gocloud.dev/blob"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/blob"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// MaxProposalBytes is, by default, the most all live files of one proposal
// may total.
const MaxProposalBytes int64 = 100 << 20

// keyPrefix is where files live in the store; Sweep looks only there.
const keyPrefix = "attachments/"

// Errors of the attachments domain.
var (
	// ErrNotFound: no such file on this proposal (or it was deleted).
	ErrNotFound = errors.New("attachment not found")
	// ErrBusy: every upload slot of this instance is taken; try again soon.
	ErrBusy = errors.New("too many uploads in progress")
	// ErrNoSpace: the store is full (disk or quota); nothing was kept.
	ErrNoSpace = errors.New("the file store is full")
	// ErrStoreUnavailable: the store failed in a way likely to pass (a
	// timeout, unreachable, busy); nothing was kept, try again later.
	ErrStoreUnavailable = errors.New("the file store is unavailable")
)

// TooLargeError says a file went over a limit; nothing was kept.
type TooLargeError struct {
	Limit    int64 // bytes
	Proposal bool  // the proposal's total limit, not the question's per-file one
}

func (e *TooLargeError) Error() string {
	if e.Proposal {
		return fmt.Sprintf("the proposal's files would exceed %d bytes", e.Limit)
	}
	return fmt.Sprintf("the file exceeds %d bytes", e.Limit)
}

// ReadError says the upload itself broke off or was malformed while the
// file was being read; nothing was kept.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read upload: " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// Options tune a Service.
type Options struct {
	// MaxConcurrent uploads stream at once on this instance (default 32).
	MaxConcurrent int
	// MaxWaiting uploads may wait for a slot (default 8 × MaxConcurrent);
	// beyond that Acquire refuses at once.
	MaxWaiting int
	// MaxWait is how long an upload waits for a slot (default 10 s).
	MaxWait time.Duration
	// MaxProposalBytes overrides MaxProposalBytes (tests use less).
	MaxProposalBytes int64
}

// Service is the attachments domain.
type Service struct {
	db      *gorm.DB
	store   *blob.Store
	calls   *calls.Service
	log     *slog.Logger
	slots   chan struct{}
	waiting chan struct{}
	maxWait time.Duration
	total   int64
}

// New builds the service on a database and a blob store.
func New(db *gorm.DB, store *blob.Store, cs *calls.Service, log *slog.Logger, o Options) *Service {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 32
	}
	if o.MaxWaiting <= 0 {
		o.MaxWaiting = 8 * o.MaxConcurrent
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 10 * time.Second
	}
	if o.MaxProposalBytes <= 0 {
		o.MaxProposalBytes = MaxProposalBytes
	}
	return &Service{db: db, store: store, calls: cs, log: log, slots: make(chan struct{}, o.MaxConcurrent),
		waiting: make(chan struct{}, o.MaxWaiting), maxWait: o.MaxWait, total: o.MaxProposalBytes}
}

// MaxProposalBytes is the most all live files of one proposal may total.
func (s *Service) MaxProposalBytes() int64 { return s.total }

// Acquire takes one of the instance's upload slots, waiting a little for
// one when all are busy; past that (or with too many already waiting) it
// returns ErrBusy, so overload is answered "try again later" rather than
// by exhausting memory, disk bandwidth or connections. release gives the
// slot back.
func (s *Service) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-s.slots }
	select {
	case s.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case s.waiting <- struct{}{}:
		defer func() { <-s.waiting }()
	default:
		return nil, ErrBusy
	}
	t := time.NewTimer(s.maxWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Upload is a file about to be added to a draft for one question.
type Upload struct {
	s        *Service
	proposal *proposals.Proposal
	question calls.Question
	// Limit is the most bytes this file may have: the question's limit, or
	// less if the proposal's total is nearly used.
	Limit int64
	// ProposalLimited says Limit comes from the proposal's total.
	ProposalLimited bool
}

// Begin checks that proposal p (a draft) has a file question questionID,
// and works out how large the file may be. The caller checked the person
// may edit p.
func (s *Service) Begin(ctx context.Context, p *proposals.Proposal, questionID string) (*Upload, error) {
	if p.Status != proposals.StatusDraft {
		return nil, proposals.ErrWrongStatus
	}
	c, err := s.calls.Get(ctx, p.CallID)
	if err != nil {
		return nil, fmt.Errorf("read call: %w", err)
	}
	q, ok := fileQuestion(c, p.Round, questionID)
	if !ok {
		return nil, validate.One("question", "not_found")
	}
	used, err := usedBytes(s.db.WithContext(ctx), p.ID)
	if err != nil {
		return nil, err
	}
	u := &Upload{s: s, proposal: p, question: q, Limit: int64(q.MaxFileMB) << 20}
	if left := s.total - used; left < u.Limit {
		u.Limit, u.ProposalLimited = max(left, 0), true
	}
	if u.Limit <= 0 {
		return nil, &TooLargeError{Limit: 0, Proposal: true}
	}
	return u, nil
}

// Question is the file question the upload answers.
func (u *Upload) Question() calls.Question { return u.question }

func fileQuestion(c *calls.Call, round int, id string) (calls.Question, bool) {
	for _, sec := range c.Form.V.Sections {
		if sec.Round > round {
			continue
		}
		for _, q := range sec.Questions {
			if q.ID == id && q.Kind == calls.KindFile {
				return q, true
			}
		}
	}
	return calls.Question{}, false
}

func usedBytes(tx *gorm.DB, proposalID string) (int64, error) {
	var used int64
	err := tx.Model(&proposals.Attachment{}).Where("proposal_id = ? AND deleted_at IS NULL", proposalID).
		Select("COALESCE(SUM(size_bytes), 0)").Scan(&used).Error
	if err != nil {
		return 0, fmt.Errorf("sum attachment sizes: %w", err)
	}
	return used, nil
}

// fileError is a refusal of the file itself, reported on the field "file".
func fileError(code string, params map[string]any) error {
	var errs validate.Errors
	errs.Add("file", code, params)
	return errs
}

// countingReader remembers read errors apart from write errors, so a
// broken upload is told from a failing store.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
	// progress is called after each read (to extend the connection's deadline).
	progress func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	if c.progress != nil {
		c.progress()
	}
	return n, err
}

// Store streams body, the file named filename, into the store, then records
// it. Nothing is kept when anything is refused or fails: the partly
// written blob is abandoned (or deleted) and no row is written. progress,
// if not nil, is called as bytes arrive.
func (u *Upload) Store(ctx context.Context, actor audit.Actor, filename string, body io.Reader, progress func()) (*proposals.Attachment, error) {
	name, ok := CleanFilename(filename)
	if !ok {
		return nil, fileError("filename_invalid", nil)
	}
	ext := Extension(name)
	if !slices.Contains(u.question.FileTypes, ext) {
		return nil, fileError("file_type_not_allowed", map[string]any{"Types": strings.Join(u.question.FileTypes, ", ")})
	}
	in := &countingReader{r: body, progress: progress}
	head := make([]byte, min(int64(HeadSize), u.Limit+1))
	n, err := io.ReadFull(in, head)
	head = head[:n]
	switch {
	case in.err != nil:
		return nil, &ReadError{Err: in.err}
	case n == 0:
		return nil, fileError("file_empty", nil)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), err == nil:
	default:
		return nil, &ReadError{Err: err}
	}
	if !Check(ext, head) {
		if Detect(head) == "exe" {
			// A program named like a document: say so plainly.
			return nil, fileError("file_is_program", map[string]any{"Ext": ext})
		}
		return nil, fileError("file_content_mismatch", map[string]any{"Ext": ext})
	}

	s := u.s
	key := keyPrefix + uuid.NewString()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.store.NewWriter(wctx, key, s.store.WriterOptions(ContentTypes[ext]))
	if err != nil {
		return nil, storeError("open blob writer", err)
	}
	// abandon discards the partial blob: a cancelled writer keeps nothing.
	abandon := func() { cancel(); _ = w.Close() }
	sum := sha256.New()
	text := &textCheck{}
	sinks := []io.Writer{w, sum}
	if IsText(ext) {
		sinks = append(sinks, text)
	}
	out := io.MultiWriter(sinks...)
	// One byte more than the limit is read, to know the limit was passed.
	rest := io.LimitReader(in, u.Limit+1-int64(len(head)))
	if _, err := out.Write(head); err != nil {
		abandon()
		return nil, storeError("write blob", err)
	}
	if _, err := io.CopyBuffer(out, rest, make([]byte, 32<<10)); err != nil {
		abandon()
		if in.err != nil {
			return nil, &ReadError{Err: in.err}
		}
		return nil, storeError("write blob", err)
	}
	if in.err != nil {
		abandon()
		return nil, &ReadError{Err: in.err}
	}
	size := in.n
	if size > u.Limit {
		abandon()
		return nil, &TooLargeError{Limit: u.Limit, Proposal: u.ProposalLimited}
	}
	if IsText(ext) && !text.valid() {
		abandon()
		return nil, fileError("file_content_mismatch", map[string]any{"Ext": ext})
	}
	if err := w.Close(); err != nil {
		// A store that fails only when the file is finished (a full
		// network file system, an S3 upload refused at the end) should have
		// kept nothing; make sure.
		s.deleteBlob(key)
		return nil, storeError("finish blob", err)
	}

	a := &proposals.Attachment{ID: database.NewID(), ProposalID: u.proposal.ID, QuestionID: u.question.ID, Filename: name,
		ContentType: ContentTypes[ext], SizeBytes: size, SHA256: hex.EncodeToString(sum.Sum(nil)), BlobKey: key,
		// No virus scanner is configured, so files are usable at once. With
		// one, files would start as "pending_scan" and be shown to
		// evaluators only once it marks them "clean" (TESTPLAN SEC-36).
		Status: "clean", UploadedBy: actor.UserID}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := lockProposal(tx, u.proposal.ID)
		if err != nil {
			return err
		}
		if p.Status != proposals.StatusDraft {
			return proposals.ErrWrongStatus
		}
		// Checked again under the lock: uploads running side by side must
		// not pass the proposal's total together.
		used, err := usedBytes(tx, p.ID)
		if err != nil {
			return err
		}
		if used+size > s.total {
			return &TooLargeError{Limit: max(s.total-used, 0), Proposal: true}
		}
		if a.CreatedAt, err = database.Now(tx); err != nil {
			return err
		}
		if err := tx.Create(a).Error; err != nil {
			return fmt.Errorf("record attachment: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "attachment.upload", ObjectType: "attachment", ObjectID: a.ID,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"proposal_id": p.ID, "question_id": a.QuestionID,
				"filename": a.Filename, "size_bytes": a.SizeBytes, "sha256": a.SHA256}})
	})
	if err != nil {
		s.deleteBlob(key)
		return nil, err
	}
	return a, nil
}

// storeError tells a full store and a passing failure from other faults;
// the store's own error stays in the chain for the log.
func storeError(what string, err error) error {
	switch {
	case blob.IsNoSpace(err):
		return fmt.Errorf("%s: %w: %w", what, ErrNoSpace, err)
	case blob.IsTransient(err):
		return fmt.Errorf("%s: %w: %w", what, ErrStoreUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// deleteBlob removes a blob whose row was not (or is no longer) written,
// even if the request that stored it has ended. A failure leaves it to Sweep.
func (s *Service) deleteBlob(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.store.Delete(ctx, key); err != nil && !blob.IsNotFound(err) {
		s.log.Warn("delete blob; the sweep will retry", "key", key, "error", err)
	}
}

func lockProposal(tx *gorm.DB, id string) (*proposals.Proposal, error) {
	q := tx
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var p proposals.Proposal
	err := q.Where("id = ?", id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, proposals.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read proposal: %w", err)
	}
	return &p, nil
}

// List returns a proposal's live files, oldest first.
func (s *Service) List(ctx context.Context, proposalID string) ([]proposals.Attachment, error) {
	out := []proposals.Attachment{}
	err := s.db.WithContext(ctx).Where("proposal_id = ? AND deleted_at IS NULL", proposalID).
		Order("created_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return out, nil
}

// Get returns file id of proposal proposalID; a file of another proposal,
// or a deleted one, is ErrNotFound.
func (s *Service) Get(ctx context.Context, proposalID, id string) (*proposals.Attachment, error) {
	return get(s.db.WithContext(ctx), proposalID, id)
}

func get(tx *gorm.DB, proposalID, id string) (*proposals.Attachment, error) {
	if !database.ValidID(id) || !database.ValidID(proposalID) {
		return nil, ErrNotFound
	}
	var a proposals.Attachment
	err := tx.Where("id = ? AND proposal_id = ? AND deleted_at IS NULL", id, proposalID).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read attachment: %w", err)
	}
	return &a, nil
}

// Open returns a reader of a file's bytes; the caller closes it.
func (s *Service) Open(ctx context.Context, a *proposals.Attachment) (*gcblob.Reader, error) {
	r, err := s.store.NewReader(ctx, a.BlobKey, nil)
	if err != nil {
		return nil, fmt.Errorf("open blob of attachment %s: %w", a.ID, err)
	}
	return r, nil
}

// Delete removes a file from a draft. The row stays, marked deleted, for
// the record; the bytes go once that is committed.
func (s *Service) Delete(ctx context.Context, actor audit.Actor, proposalID, id string) error {
	var key string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !database.ValidID(proposalID) {
			return ErrNotFound
		}
		p, err := lockProposal(tx, proposalID)
		if errors.Is(err, proposals.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		a, err := get(tx, proposalID, id)
		if err != nil {
			return err
		}
		if p.Status != proposals.StatusDraft {
			return proposals.ErrWrongStatus
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		res := tx.Model(&proposals.Attachment{}).Where("id = ? AND deleted_at IS NULL", a.ID).Update("deleted_at", now)
		if res.Error != nil {
			return fmt.Errorf("delete attachment: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		key = a.BlobKey
		return audit.Append(tx, actor, audit.Entry{Action: "attachment.delete", ObjectType: "attachment", ObjectID: a.ID,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"proposal_id": p.ID, "question_id": a.QuestionID,
				"filename": a.Filename, "sha256": a.SHA256}})
	})
	if err != nil {
		return err
	}
	s.deleteBlob(key)
	return nil
}

// Sweep removes blobs older than age that no live attachment row points
// to: files whose row was never written (a crash or kill between storing
// and recording), rows deleted after their blob delete failed, and
// half-written files a crash left behind. It returns how many went.
func (s *Service) Sweep(ctx context.Context, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	removed := 0
	it := s.store.List(&gcblob.ListOptions{Prefix: keyPrefix})
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var live []string
		if err := s.db.WithContext(ctx).Model(&proposals.Attachment{}).Where("blob_key IN ? AND deleted_at IS NULL", batch).
			Pluck("blob_key", &live).Error; err != nil {
			return fmt.Errorf("read attachment keys: %w", err)
		}
		for _, k := range batch {
			if slices.Contains(live, k) {
				continue
			}
			if err := s.store.Delete(ctx, k); err != nil && !blob.IsNotFound(err) {
				return fmt.Errorf("delete orphan blob %s: %w", k, err)
			}
			s.log.Info("removed a stored file no attachment points to", "key", k)
			removed++
		}
		batch = batch[:0]
		return nil
	}
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return removed, fmt.Errorf("list blobs: %w", err)
		}
		if o.IsDir || !o.ModTime.Before(cutoff) {
			continue
		}
		if batch = append(batch, o.Key); len(batch) == 500 {
			if err := flush(); err != nil {
				return removed, err
			}
		}
	}
	return removed, flush()
}
