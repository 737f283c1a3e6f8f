package proposals

import (
	"context"
	"time"

	"facility/internal/audit"
	"facility/internal/batch"
	"facility/internal/idempotency"
)

// A Submission is one request to submit a proposal, usually with an
// idempotency key, as SubmitAll and the submission desk take it. The
// submitter (Actor.UserID) must have the right to submit it, or it is
// refused with *AccessError (ErrNotFound if it does not exist).
type Submission struct {
	Actor      audit.Actor
	ProposalID string
	Locale     string // of the receipt e-mail; the proposal's language if empty
	// UserID, Key and RequestHash are the idempotency key's (see
	// idempotency.Do): every repetition gets the first one's response.
	// Without a Key, nothing is claimed or stored.
	UserID, Key, RequestHash string
	// Respond renders the response to store with the submission and to
	// give to this request and its repetitions; p is the submitted proposal.
	// It may be nil when there is no key.
	Respond func(p *Proposal) (idempotency.Response, error)
}

// Desk is the submission desk: under load, at a deadline, many submissions
// arrive at once, and the desk takes whatever is waiting when it is free
// and submits it all in one transaction with a few set-based statements
// (a group commit, see SubmitAll), instead of one transaction of a dozen
// statements each. Every submission keeps all the guarantees of a lone one:
// the deadline on the database clock of its transaction, one submission
// per proposal, one answer per idempotency key, the receipt mailed after
// commit.
type Desk struct {
	group *batch.Group[Submission, Outcome]
}

// deskBatch is the most submissions one transaction takes: enough to
// amortise the statements, few enough that a batch stays short.
const deskBatch = 64

// NewDesk makes a desk for s with workers transactions at a time; it
// takes submissions once started, and submits each alone until then.
func NewDesk(s *Service, workers int) *Desk {
	return &Desk{group: batch.New(batch.Options{Workers: workers, Max: deskBatch, Timeout: time.Minute}, s.SubmitAll)}
}

// Start opens the desk.
func (d *Desk) Start() { d.group.Start() }

// Stop closes the desk once the submissions already waiting are done;
// later ones are submitted alone.
func (d *Desk) Stop() { d.group.Stop() }

// Submit submits a proposal as idempotency.Do would, with the same
// results: the stored response of the first request with this key (replayed
// for repetitions), ErrMismatch, or the submission's error (validation
// errors, *DeadlineError, ErrWrongStatus, ErrNotOpen...). If ctx ends while
// the request waits, Submit returns ctx's error; the submission may still
// be made, and a retry with the same key gets its response.
func (d *Desk) Submit(ctx context.Context, sub Submission) (idempotency.Response, bool, error) {
	if !idempotency.ValidKey(sub.Key) {
		return idempotency.Response{}, false, idempotency.ErrInvalidKey
	}
	o, err := d.group.Do(ctx, sub)
	if err != nil {
		return idempotency.Response{}, false, err
	}
	return o.Response, o.Replayed, o.Err
}
