package proposals

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/idempotency"
)

// A Submission is one request to submit a proposal, with its idempotency
// key, as the submission desk takes it.
type Submission struct {
	Actor      audit.Actor
	ProposalID string
	Locale     string // of the receipt e-mail
	// UserID, Key and RequestHash are the idempotency key's (see
	// idempotency.Do): every repetition gets the first one's response.
	UserID, Key, RequestHash string
	// Respond renders the response to store with the submission and to
	// give to this request and its repetitions; p is the submitted proposal.
	Respond func(p *Proposal) (idempotency.Response, error)
}

// Desk is the submission desk: under load, at a deadline, many submissions
// arrive at once, and the desk takes whatever is waiting when it is free
// and submits it all in one transaction with a few set-based statements
// (a group commit), instead of one transaction of a dozen statements each.
// It never waits for more to arrive, so a lone submission takes no longer
// than in a transaction of its own. Every submission keeps all the guarantees of Submit: the deadline
// on the database clock of its transaction, one submission per proposal,
// one answer per idempotency key, the receipt mailed after commit.
type Desk struct {
	s       *Service
	workers int
	queue   chan *deskRequest
	mu      sync.RWMutex // held to read open; exclusively to close the queue
	open    bool
	done    sync.WaitGroup
}

// deskBatch is the most submissions one transaction takes: enough to
// amortise the statements, few enough that a batch stays short.
const deskBatch = 64

type deskRequest struct {
	ctx context.Context
	sub Submission
	out chan Outcome // buffered: the desk never waits for a reader
}

// NewDesk makes a desk for s with workers transactions at a time; it
// takes submissions once started, and submits them one by one until then.
func NewDesk(s *Service, workers int) *Desk {
	if workers < 1 {
		workers = 1
	}
	return &Desk{s: s, workers: workers}
}

// Start opens the desk.
func (d *Desk) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open {
		return
	}
	d.queue = make(chan *deskRequest, 4*deskBatch)
	d.open = true
	for range d.workers {
		d.done.Add(1)
		go d.work()
	}
}

// Stop closes the desk once the submissions already waiting are done;
// later ones are submitted one by one.
func (d *Desk) Stop() {
	d.mu.Lock()
	if !d.open {
		d.mu.Unlock()
		return
	}
	d.open = false
	close(d.queue)
	d.mu.Unlock()
	d.done.Wait()
}

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
	r := &deskRequest{ctx: ctx, sub: sub, out: make(chan Outcome, 1)}
	d.mu.RLock()
	if !d.open {
		d.mu.RUnlock()
		return d.s.submitAlone(ctx, sub)
	}
	select {
	case d.queue <- r:
	case <-ctx.Done():
		d.mu.RUnlock()
		return idempotency.Response{}, false, ctx.Err()
	}
	d.mu.RUnlock()
	select {
	case got := <-r.out:
		return got.Response, got.Replayed, got.Err
	case <-ctx.Done():
		return idempotency.Response{}, false, ctx.Err()
	}
}

// work takes whatever is waiting, up to a batch, and submits it.
func (d *Desk) work() {
	defer d.done.Done()
	for first := range d.queue {
		batch := []*deskRequest{first}
	more:
		for len(batch) < deskBatch {
			select {
			case r, ok := <-d.queue:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		d.process(batch)
	}
}

// process submits a batch in one transaction (see SubmitAll).
func (d *Desk) process(batch []*deskRequest) {
	// A request whose client has gone is left out: nothing was done for
	// it, and a retry with its key is a first request.
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	subs := make([]Submission, len(live))
	for i, r := range live {
		subs[i] = r.sub
	}
	// The batch is nobody's request: it finishes even if its requesters
	// stop waiting, bounded like a request.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, o := range d.s.SubmitAll(ctx, subs) {
		live[i].out <- o
	}
}

// submitAlone makes one submission in its own idempotent transaction.
func (s *Service) submitAlone(ctx context.Context, sub Submission) (idempotency.Response, bool, error) {
	var notify func()
	res, replayed, err := idempotency.Do(ctx, s.db, sub.UserID, sub.Key, sub.RequestHash,
		func(tx *gorm.DB) (idempotency.Response, error) {
			p, n, err := s.SubmitIn(tx, sub.Actor, sub.ProposalID, sub.Locale)
			if err != nil {
				return idempotency.Response{}, err
			}
			notify = n
			return sub.Respond(p)
		})
	if err == nil && notify != nil && res.Status < 500 {
		notify()
	}
	return res, replayed, err
}
