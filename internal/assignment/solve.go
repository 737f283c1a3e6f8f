package assignment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Options control a Solve run.
type Options struct {
	// Progress, when set, is called after every solver phase with the
	// units of flow routed so far and the total to route (the reviews plus
	// the units forced by minimum loads and bounds); done never decreases.
	Progress func(done, total int)
}

// Result is a solved assignment with everything needed to explain and
// reproduce it.
type Result struct {
	// InputHash is Instance.Hash() of the solved instance.
	InputHash  string     `json:"input_hash"`
	Seed       int64      `json:"seed"`
	Parameters Parameters `json:"parameters"`
	// Objective is the total cost (lower is better): the sum of the pair
	// costs, the load costs and the removal costs.
	Objective int64 `json:"objective"`
	// Optimal is true when the certificate proves no cheaper assignment
	// satisfies the hard constraints.
	Optimal     bool            `json:"optimal"`
	Assignments []Assignment    `json:"assignments"`
	Loads       []EvaluatorLoad `json:"loads"`
	Removed     []RemovedPair   `json:"removed,omitempty"`
	Certificate Certificate     `json:"certificate"`
	Stats       SolveStats      `json:"stats"`
}

// Parameters are the settings the objective was built from.
type Parameters struct {
	K       int     `json:"k"`
	Weights Weights `json:"weights"`
	Solver  string  `json:"solver"`
}

// Assignment is one evaluator reviewing one proposal, with its cost.
type Assignment struct {
	Proposal  string   `json:"proposal"`
	Evaluator string   `json:"evaluator"`
	Expertise string   `json:"expertise,omitempty"` // "expert", "knowledgeable" or empty
	Fixed     bool     `json:"fixed,omitempty"`
	Kept      bool     `json:"kept,omitempty"` // an existing assignment that was kept
	Cost      PairCost `json:"cost"`
}

// PairCost explains a pair's share of the objective. Negative parts attract.
// Total is the sum of the parts.
type PairCost struct {
	Topic      int64 `json:"topic"`
	Similarity int64 `json:"similarity"`
	Bid        int64 `json:"bid"`
	// Expertise is the (negative) expertise bonus earned by this pair.
	Expertise int64 `json:"expertise"`
	// Load is the marginal load cost this review adds for the evaluator; an
	// evaluator's reviews are charged in the order of the proposals in the
	// instance.
	Load  int64 `json:"load"`
	Total int64 `json:"total"`
}

// EvaluatorLoad is an evaluator's number of reviews and its load cost.
type EvaluatorLoad struct {
	Evaluator string `json:"evaluator"`
	Load      int    `json:"load"`
	LoadCost  int64  `json:"load_cost"`
}

// RemovedPair is an existing assignment that was dropped, at Cost.
type RemovedPair struct {
	Evaluator string `json:"evaluator"`
	Proposal  string `json:"proposal"`
	Cost      int64  `json:"cost"`
	// Reason is "conflict", "forbidden", "language" or "cheaper".
	Reason string `json:"reason"`
}

// Certificate proves optimality: with these node potentials every arc of the
// flow network has a non-negative reduced cost when it can carry more flow
// and a non-positive one when it can carry less, so the residual network has
// no negative cycle.
type Certificate struct {
	// Exploded lists (proposal, hub) pairs routed by explicit arcs; the
	// network is rebuilt from the instance and this list.
	Exploded []ExplodedHub `json:"exploded,omitempty"`
	Nodes    int           `json:"nodes"`
	Arcs     int           `json:"arcs"`
	// Potentials has one entry per network node.
	Potentials []int64 `json:"potentials"`
}

// ExplodedHub names a proposal whose pairs with one hub (language, group,
// constituency) are explicit arcs.
type ExplodedHub struct {
	Proposal     string `json:"proposal"`
	Language     string `json:"language"`
	Group        string `json:"group"`
	Constituency string `json:"constituency"`
}

// SolveStats describe the work done.
type SolveStats struct {
	Phases int `json:"phases"`
	Rounds int `json:"rounds"` // network builds (1 + explosion rounds)
	// Augments counts blocking-flow rounds (one backward search each).
	Augments int `json:"augments"`
	Nodes    int `json:"nodes"`
	Arcs     int `json:"arcs"`
}

// InfeasibleError is returned when no assignment satisfies the hard
// constraints.
type InfeasibleError struct {
	Shortfalls []Shortfall
	Detail     string
}

func (e *InfeasibleError) Error() string {
	var b strings.Builder
	b.WriteString("assignment: infeasible")
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, s := range e.Shortfalls {
		b.WriteString("; " + s.Message)
	}
	return b.String()
}

// Solve finds a minimum-cost assignment that satisfies every hard
// constraint. It returns ctx.Err() when ctx is cancelled and an
// *InfeasibleError when no assignment exists.
func Solve(ctx context.Context, in *Instance, opt Options) (*Result, error) {
	x, err := newIndex(in)
	if err != nil {
		return nil, err
	}
	if sf := checkFeasibility(x); len(sf) > 0 {
		return nil, &InfeasibleError{Shortfalls: sf}
	}
	exploded := map[uint64]bool{}
	var stats SolveStats
	// A re-solve after hub explosions starts from zero flow again; progress
	// pauses until it catches up, so reports never go backwards.
	reported := -1
	progress := func(done, total int) {
		if opt.Progress != nil && done > reported {
			reported = done
			opt.Progress(done, total)
		}
	}
	for {
		stats.Rounds++
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nw := buildNetwork(x, exploded)
		g := newMCF(nw)
		phases, err := g.run(ctx, progress)
		stats.Phases += phases
		stats.Augments += g.rounds
		if errors.Is(err, errInfeasible) {
			return nil, &InfeasibleError{Detail: "no assignment satisfies all hard constraints together (conflicts, languages, group bounds, fixed pairs and loads), although each total adds up"}
		}
		if err != nil {
			return nil, fmt.Errorf("assignment: solving: %w", err)
		}
		flows := make([]int32, len(nw.edges))
		for i := range nw.edges {
			flows[i] = g.edgeFlow(nw, i)
		}
		pairs, failed := decompose(x, nw, flows, in.Seed)
		if len(failed) > 0 {
			for _, key := range failed {
				exploded[key] = true
			}
			continue
		}
		stats.Nodes, stats.Arcs = int(nw.nodes), len(nw.edges)
		res, err := buildResult(x, pairs)
		if err != nil {
			return nil, err
		}
		res.Stats = stats
		res.Certificate = Certificate{
			Exploded:   explodedList(x, nw),
			Nodes:      int(nw.nodes),
			Arcs:       len(nw.edges),
			Potentials: g.potentials(nw.nodes),
		}
		if err := checkCertificate(x, nw, res); err != nil {
			return nil, fmt.Errorf("assignment: internal error, the solution fails its own certificate: %w", err)
		}
		res.Optimal = true
		return res, nil
	}
}

func explodedList(x *index, nw *network) []ExplodedHub {
	keys := make([]uint64, 0, len(nw.exploded))
	for k := range nw.exploded {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
	out := make([]ExplodedHub, 0, len(keys))
	for _, k := range keys {
		h, p := int(k>>32), int(uint32(k))
		hb := nw.hubs[h]
		s := x.sigs[hb.sig]
		out = append(out, ExplodedHub{
			Proposal: x.in.Proposals[p].ID, Language: x.in.Languages[hb.lang],
			Group: s.group, Constituency: s.constituency,
		})
	}
	return out
}

// decompose turns the flow into evaluator-proposal pairs. Explicit arcs
// carry their pair; each hub's flow is split into pairs by giving every
// proposal the hub members with the most flow left (the Gale-Ryser greedy),
// skipping blocked and explicit pairs. A (hub, proposal) it cannot serve is
// returned so that its pairs become explicit in the next round.
func decompose(x *index, nw *network, flows []int32, seed int64) (pairs [][2]int32, failed []uint64) {
	for p := range nw.pExplicit {
		for _, pa := range nw.pExplicit[p] {
			if flows[pa.edge] > 0 {
				pairs = append(pairs, [2]int32{pa.eval, int32(p)})
			}
		}
	}
	type demand struct {
		p int32
		d int32
	}
	hubDemand := make([][]demand, len(nw.hubs))
	for p := range nw.pHub {
		for _, ha := range nw.pHub[p] {
			if f := flows[ha.edge]; f > 0 {
				hubDemand[ha.hub] = append(hubDemand[ha.hub], demand{int32(p), f})
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d))
	residual := make([]int32, len(x.in.Evaluators))
	rank := make([]int32, len(x.in.Evaluators))
	for i, r := range rng.Perm(len(rank)) {
		rank[i] = int32(r)
	}
	for h := range nw.hubs {
		if len(hubDemand[h]) == 0 {
			continue
		}
		var heap evalHeap
		heap.rank = rank
		heap.res = residual
		for _, e := range nw.hubs[h].members {
			for _, ha := range nw.evalHub[e] {
				if ha.hub == int32(h) && flows[ha.edge] > 0 {
					residual[e] = flows[ha.edge]
					heap.push(e)
				}
			}
		}
		ds := hubDemand[h]
		sort.SliceStable(ds, func(a, b int) bool { return ds[a].d > ds[b].d })
		var skipped, taken []int32
		for _, dm := range ds {
			p := int(dm.p)
			skipped, taken = skipped[:0], taken[:0]
			for int32(len(taken)) < dm.d && len(heap.items) > 0 {
				e := heap.pop()
				key := pairKey(int(e), p)
				_, blocked := x.blocked[key]
				if blocked || nw.explicitEdge(int(e), p) >= 0 {
					skipped = append(skipped, e)
					continue
				}
				taken = append(taken, e)
			}
			if int32(len(taken)) < dm.d {
				failed = append(failed, pairKey(h, p))
			} else {
				for _, e := range taken {
					pairs = append(pairs, [2]int32{e, int32(p)})
					residual[e]--
				}
			}
			for _, e := range taken {
				if residual[e] > 0 {
					heap.push(e)
				}
			}
			for _, e := range skipped {
				heap.push(e)
			}
		}
	}
	return pairs, failed
}

// evalHeap is a max-heap of evaluators by residual flow, ties by rank.
type evalHeap struct {
	items []int32
	res   []int32
	rank  []int32
}

func (h *evalHeap) less(a, b int32) bool {
	if h.res[a] != h.res[b] {
		return h.res[a] > h.res[b]
	}
	return h.rank[a] < h.rank[b]
}

func (h *evalHeap) push(e int32) {
	h.items = append(h.items, e)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *evalHeap) pop() int32 {
	top := h.items[0]
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(h.items[l], h.items[m]) {
			m = l
		}
		if r < n && h.less(h.items[r], h.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// buildResult explains the pairs with the reference cost model.
func buildResult(x *index, pairs [][2]int32) (*Result, error) {
	in := x.in
	list := make([]Pair, len(pairs))
	for i, pr := range pairs {
		list[i] = Pair{Evaluator: in.Evaluators[pr[0]].ID, Proposal: in.Proposals[pr[1]].ID}
	}
	ev, err := evaluate(x, list)
	if err != nil {
		return nil, fmt.Errorf("assignment: internal error, the solution breaks a hard constraint: %w", err)
	}
	return &Result{
		InputHash:   in.Hash(),
		Seed:        in.Seed,
		Parameters:  Parameters{K: in.K, Weights: in.Weights, Solver: "primal-dual min-cost flow with aggregated hubs"},
		Objective:   ev.objective,
		Assignments: ev.assignments,
		Loads:       ev.loads,
		Removed:     ev.removed,
	}, nil
}
