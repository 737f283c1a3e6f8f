package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a run function that answers each request with its double
// and records the batches it was given; while gate is held, it waits.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	gate    sync.RWMutex
}

func (r *recorder) run(_ context.Context, in []int) []int {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(in))
	r.mu.Unlock()
	r.gate.RLock()
	defer r.gate.RUnlock()
	out := make([]int, len(in))
	for i, v := range in {
		out[i] = 2 * v
	}
	return out
}

func (r *recorder) seen() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// waitBatches waits until run has been given n batches.
func (r *recorder) waitBatches(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.seen()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches, want %d", len(r.seen()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitQueued waits until n requests wait in g's queue.
func waitQueued[In, Out any](t *testing.T, g *Group[In, Out], n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(g.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(g.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// started is a started group of opt over a recorder, stopped at the end of
// the test.
func started(t *testing.T, opt Options) (*recorder, *Group[int, int]) {
	r := &recorder{}
	g := New(opt, r.run)
	g.Start()
	t.Cleanup(g.Stop)
	return r, g
}

// goDo sends request v to g from a goroutine counted by wg.
func goDo(t *testing.T, g *Group[int, int], wg *sync.WaitGroup, v int) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := g.Do(t.Context(), v); err != nil {
			t.Errorf("Do(%d): %v", v, err)
		}
	}()
}

func TestUnstartedGroupServesEachRequestAlone(t *testing.T) {
	r := &recorder{}
	g := New(Options{Max: 8}, r.run)
	for i := range 3 {
		got, err := g.Do(t.Context(), i)
		if err != nil || got != 2*i {
			t.Fatalf("Do(%d) = %d, %v", i, got, err)
		}
	}
	if got := r.seen(); !slices.EqualFunc(got, [][]int{{0}, {1}, {2}}, slices.Equal) {
		t.Fatalf("batches %v, want one per request", got)
	}
}

// While a batch runs, the requests arriving wait and are then served
// together, each with its own answer, at most Max at a time.
func TestRequestsWaitingAreServedTogether(t *testing.T) {
	r, g := started(t, Options{Max: 4})

	r.gate.Lock() // the first batch holds the worker
	answers := make([]int, 7)
	var wg sync.WaitGroup
	do := func(i int) {
		defer wg.Done()
		got, err := g.Do(t.Context(), i)
		if err != nil {
			t.Errorf("Do(%d): %v", i, err)
		}
		answers[i] = got
	}
	wg.Add(1)
	go do(0)
	r.waitBatches(t, 1) // request 0 holds the worker
	for i := 1; i < 7; i++ {
		wg.Add(1)
		go do(i)
	}
	waitQueued(t, g, 6)
	r.gate.Unlock()
	wg.Wait()

	for i, got := range answers {
		if got != 2*i {
			t.Errorf("request %d answered %d, want %d", i, got, 2*i)
		}
	}
	batches := r.seen()
	sizes := make([]int, len(batches))
	for i, b := range batches {
		sizes[i] = len(b)
	}
	if !slices.Equal(sizes, []int{1, 4, 2}) {
		t.Fatalf("batch sizes %v, want [1 4 2] (the first alone, then the six waiting by at most four)", sizes)
	}
}

// After a batch of more than one, the worker waits Linger for more; after a
// batch of one it does not.
func TestLingerOnlyAfterABurst(t *testing.T) {
	r, g := started(t, Options{Max: 16, Linger: 200 * time.Millisecond})

	// A lone request is served at once, however long Linger is.
	start := time.Now()
	if _, err := g.Do(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Fatalf("a lone request waited %v", d)
	}

	// A burst: two requests wait behind a held batch and are served
	// together; the next request then waits for company, and one arriving
	// within Linger joins it.
	r.gate.Lock()
	var wg sync.WaitGroup
	for _, v := range []int{2, 3, 4} {
		goDo(t, g, &wg, v)
		if v == 2 {
			r.waitBatches(t, 2)
		}
	}
	waitQueued(t, g, 2)
	r.gate.Unlock()
	wg.Wait()
	for _, v := range []int{5, 6} {
		goDo(t, g, &wg, v)
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	got := r.seen()
	if len(got) != 4 || !slices.Equal(got[3], []int{5, 6}) {
		t.Fatalf("batches %v, want the last two requests together", got)
	}
}

// A request whose caller gives up is not served, and the caller gets its
// context's error.
func TestAbandonedRequestIsLeftOut(t *testing.T) {
	r, g := started(t, Options{Max: 8})

	r.gate.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = g.Do(t.Context(), 1)
	}()
	r.waitBatches(t, 1)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := g.Do(ctx, 2)
		errc <- err
	}()
	waitQueued(t, g, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned request: %v", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = g.Do(t.Context(), 3)
	}()
	waitQueued(t, g, 2)
	r.gate.Unlock()
	wg.Wait()
	for _, b := range r.seen() {
		if slices.Contains(b, 2) {
			t.Fatalf("batches %v serve the abandoned request", r.seen())
		}
	}
}

// Stop serves what waits, then requests are served alone again.
func TestStopServesWhatWaits(t *testing.T) {
	r := &recorder{}
	g := New(Options{Max: 8}, r.run)
	g.Start()
	r.gate.Lock()
	results := make(chan string, 3)
	for i := range 3 {
		go func() {
			got, err := g.Do(t.Context(), i)
			results <- fmt.Sprint(got, err)
		}()
		if i == 0 { // taken by the worker, which the gate holds
			r.waitBatches(t, 1)
		}
	}
	waitQueued(t, g, 2)
	stopped := make(chan struct{})
	go func() {
		g.Stop()
		close(stopped)
	}()
	r.gate.Unlock()
	<-stopped
	for range 3 {
		if got := <-results; got != "0 <nil>" && got != "2 <nil>" && got != "4 <nil>" {
			t.Fatalf("answer %q", got)
		}
	}
	if got, err := g.Do(t.Context(), 5); got != 10 || err != nil {
		t.Fatalf("after Stop: %d, %v", got, err)
	}
}
