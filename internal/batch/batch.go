// Package batch serves concurrent requests of one kind together: under
// load, one database statement or transaction answers all the requests
// waiting at that moment (group commit for writes, one lookup for many
// reads), instead of one round trip each. A worker takes whatever is
// waiting when it is free; after a lone request it never waits for more to
// arrive, so a request on its own is served as soon as it would be alone.
package batch

import (
	"context"
	"sync"
	"time"
)

// Group runs batches of requests In through its run function, which
// returns one Out per request, in order.
type Group[In, Out any] struct {
	run func(ctx context.Context, in []In) []Out
	opt Options

	queue chan *request[In, Out]
	mu    sync.RWMutex // held to read open; exclusively to close the queue
	open  bool
	done  sync.WaitGroup
}

// Options shape a group's batches.
type Options struct {
	Workers int           // batches at a time (at least one)
	Max     int           // requests in a batch (at least one)
	Timeout time.Duration // bound of a batch's work (a minute if zero)
	// Linger is how long a worker waits for more requests after a batch of
	// more than one: when requests come in bursts, a burst is then read by
	// one statement rather than by a lone first one and then the rest.
	// After a batch of one, as when requests are few, it does not wait.
	Linger time.Duration
}

type request[In, Out any] struct {
	ctx context.Context
	in  In
	out chan Out // buffered: a worker never waits for a reader
}

// New makes a group. Until Start, and after Stop, Do runs each request
// alone, in its caller's goroutine.
func New[In, Out any](opt Options, run func(ctx context.Context, in []In) []Out) *Group[In, Out] {
	opt.Workers, opt.Max = max(opt.Workers, 1), max(opt.Max, 1)
	if opt.Timeout <= 0 {
		opt.Timeout = time.Minute
	}
	return &Group[In, Out]{run: run, opt: opt}
}

// Start lets the workers take requests.
func (g *Group[In, Out]) Start() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return
	}
	g.queue = make(chan *request[In, Out], 4*g.opt.Max)
	g.open = true
	for range g.opt.Workers {
		g.done.Add(1)
		go g.work()
	}
}

// Stop returns once the requests already waiting are served; later ones
// run alone.
func (g *Group[In, Out]) Stop() {
	g.mu.Lock()
	if !g.open {
		g.mu.Unlock()
		return
	}
	g.open = false
	close(g.queue)
	g.mu.Unlock()
	g.done.Wait()
}

// Do serves one request, in a batch with whatever else is waiting. Its
// error is only ever ctx's, when ctx ends while the request waits: the
// request may then still be served, without anyone to read the answer.
func (g *Group[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	g.mu.RLock()
	if !g.open {
		g.mu.RUnlock()
		return g.run(ctx, []In{in})[0], nil
	}
	r := &request[In, Out]{ctx: ctx, in: in, out: make(chan Out, 1)}
	select {
	case g.queue <- r:
	case <-ctx.Done():
		g.mu.RUnlock()
		var zero Out
		return zero, ctx.Err()
	}
	g.mu.RUnlock()
	select {
	case out := <-r.out:
		return out, nil
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// work takes whatever is waiting, up to a batch, and serves it.
func (g *Group[In, Out]) work() {
	defer g.done.Done()
	last := 0 // size of the previous batch
	for first := range g.queue {
		batch := g.gather([]*request[In, Out]{first}, nil)
		if last > 1 && len(batch) < g.opt.Max && g.opt.Linger > 0 {
			t := time.NewTimer(g.opt.Linger)
			batch = g.gather(batch, t.C)
			t.Stop()
		}
		last = len(batch)
		g.serve(batch)
	}
}

// gather adds to batch, up to Max, the requests waiting, and with until
// set, those arriving before it fires.
func (g *Group[In, Out]) gather(batch []*request[In, Out], until <-chan time.Time) []*request[In, Out] {
	for len(batch) < g.opt.Max {
		var r *request[In, Out]
		ok := false
		if until == nil {
			select {
			case r, ok = <-g.queue:
			default:
			}
		} else {
			select {
			case r, ok = <-g.queue:
			case <-until:
			}
		}
		if !ok { // nothing more, or the queue is closed
			return batch
		}
		batch = append(batch, r)
	}
	return batch
}

func (g *Group[In, Out]) serve(batch []*request[In, Out]) {
	// A request whose caller has gone is left out: nothing is done for it.
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	in := make([]In, len(live))
	for i, r := range live {
		in[i] = r.in
	}
	// The batch is nobody's request: it finishes even if its requesters
	// stop waiting, bounded like a request.
	ctx, cancel := context.WithTimeout(context.Background(), g.opt.Timeout)
	defer cancel()
	for i, out := range g.run(ctx, in) {
		live[i].out <- out
	}
}
