package portfolio

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// Options tune Select. The zero value solves to proven optimality with no
// limit other than those in the instance.
type Options struct {
	// TimeLimit stops the search and returns the best selection found with
	// its gap. Zero uses the instance limit, if any.
	TimeLimit time.Duration
	// NodeLimit caps the branch-and-bound nodes of each solve. Zero uses the
	// instance limit, if any.
	NodeLimit int64
	// RelativeGap stops when the selection is proven within this fraction of
	// the optimum (0 means optimal, up to a rounding tolerance of 1e-9).
	RelativeGap float64
	// Progress, when set, is called from the solving goroutine a few times a
	// second.
	Progress func(Progress)
	// SkipPriceOfDiversity leaves out the second solve without diversity rules.
	SkipPriceOfDiversity bool
	// SkipExplanation leaves out the search for conflicting rules when the
	// rules cannot all be met.
	SkipExplanation bool
}

// Progress reports a running search.
type Progress struct {
	Phase        string        `json:"phase"` // "select", "without diversity rules", "explain"
	Nodes        int64         `json:"nodes"`
	HasIncumbent bool          `json:"has_incumbent"`
	Objective    float64       `json:"objective"`
	BestBound    float64       `json:"best_bound"`
	Elapsed      time.Duration `json:"elapsed"`
}

// Result is the selection and what is known about its quality.
type Result struct {
	// Status is "optimal", "feasible" (stopped early with a selection),
	// "infeasible" (the rules cannot all be met, see Infeasible) or
	// "unknown" (stopped before any selection was found).
	Status    string `json:"status"`
	Objective string `json:"objective"`
	// Selected lists the chosen proposal ids in input order.
	Selected    []string `json:"selected"`
	TotalAmount int64    `json:"total_amount"`
	Currency    string   `json:"currency"`
	Budget      int64    `json:"budget"`
	// ObjectiveValue of the selection. For rank_fill it is the sum of scores.
	ObjectiveValue float64 `json:"objective_value"`
	// BestBound is a proven upper bound on the best objective value;
	// Gap = BestBound − ObjectiveValue (0 when optimal), RelativeGap divides
	// it by max(1, |ObjectiveValue|). For rank_fill the bound is the value
	// itself when the fill is proven lexicographically best.
	BestBound   float64 `json:"best_bound"`
	Gap         float64 `json:"gap"`
	RelativeGap float64 `json:"relative_gap"`
	// Optimal is true only when optimality is proven.
	Optimal bool `json:"optimal"`
	// Nodes explored by branch and bound in the main solve.
	Nodes     int64   `json:"nodes"`
	StoppedBy string  `json:"stopped_by,omitempty"` // "time_limit", "node_limit", "cancelled"
	Seconds   float64 `json:"seconds"`
	// Diversity is the price of diversity; nil when skipped or infeasible.
	Diversity *DiversityReport `json:"price_of_diversity,omitempty"`
	// Infeasible explains why no selection meets the rules.
	Infeasible *Explanation `json:"infeasible,omitempty"`
	// Notes are plain remarks about the solve (limits hit, tolerances).
	Notes []string `json:"notes,omitempty"`
}

// DiversityReport compares the selection with the one the same objective
// gives without the diversity rules (organisation type, region, country and
// organisation rules).
type DiversityReport struct {
	ObjectiveWithRules    float64 `json:"objective_with_rules"`
	ObjectiveWithoutRules float64 `json:"objective_without_rules"`
	// Price is ObjectiveWithoutRules − ObjectiveWithRules.
	Price         float64 `json:"price"`
	RelativePrice float64 `json:"relative_price"`
	// MovedIn are selected because of the rules; MovedOut would be selected
	// without them.
	MovedIn  []string `json:"moved_in"`
	MovedOut []string `json:"moved_out"`
	// Proven is true when both selections are proven optimal, so the price
	// is exact.
	Proven bool `json:"proven"`
}

// Explanation is an irreducible set of conflicting rules: together they
// cannot be met, and dropping any one of them makes a selection possible.
type Explanation struct {
	Summary string   `json:"summary"`
	Rules   []string `json:"rules"`
	Details []string `json:"details,omitempty"`
	// Minimal is false when a limit stopped a feasibility check, so the set
	// may hold more rules than needed.
	Minimal bool `json:"minimal"`
}

// outcome of one solve over a set of active rules.
type outcome struct {
	sel        []bool
	found      bool
	value      float64
	bound      float64
	optimal    bool
	infeasible bool
	nodes      int64
	stopped    string
	inexact    bool
}

// Select chooses the proposals to fund. An invalid instance is an error; an
// instance whose rules cannot all be met is not: the Result has status
// "infeasible" and an explanation.
func Select(ctx context.Context, in *Instance, opt Options) (*Result, error) {
	start := time.Now()
	if in == nil {
		return nil, fmt.Errorf("%w: no instance", ErrInvalidInstance)
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if opt.RelativeGap < 0 || math.IsNaN(opt.RelativeGap) {
		return nil, fmt.Errorf("portfolio: relative gap %v is negative", opt.RelativeGap)
	}
	m, err := compile(in)
	if err != nil {
		return nil, fmt.Errorf("compiling rules: %w", err)
	}
	limit := opt.TimeLimit
	if limit == 0 && in.Limits.TimeLimitSeconds > 0 {
		limit = time.Duration(in.Limits.TimeLimitSeconds * float64(time.Second))
	}
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	nodeLimit := opt.NodeLimit
	if nodeLimit == 0 {
		nodeLimit = in.Limits.NodeLimit
	}
	objective := in.Objective
	if objective == "" {
		objective = ObjectiveScore
	}
	progress := func(phase string) func(int64, bool, float64, float64) {
		if opt.Progress == nil {
			return nil
		}
		return func(nodes int64, have bool, inc, bound float64) {
			opt.Progress(Progress{Phase: phase, Nodes: nodes, HasIncumbent: have, Objective: inc, BestBound: bound, Elapsed: time.Since(start)})
		}
	}
	solve := func(ctx context.Context, active []bool, phase string) outcome {
		lim := bbLimits{nodeLimit: nodeLimit, relGap: opt.RelativeGap, progress: progress(phase)}
		if objective == ObjectiveRankFill {
			return rankFill(ctx, m, active, lim)
		}
		return optimise(ctx, m, active, objectiveVector(m, objective), lim)
	}
	// Under a deadline the main selection gets most of the time and the
	// selection without diversity rules the rest.
	mainCtx := ctx
	if dl, ok := ctx.Deadline(); ok && !opt.SkipPriceOfDiversity {
		var cancel context.CancelFunc
		mainCtx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)*7/10))
		defer cancel()
	}

	all := make([]bool, len(m.rules))
	for k := range all {
		all[k] = true
	}
	main := solve(mainCtx, all, "select")
	res := &Result{Objective: objective, Currency: in.Currency, Budget: in.Budget, Nodes: main.nodes, StoppedBy: main.stopped, Selected: []string{}}
	switch {
	case main.infeasible:
		res.Status = "infeasible"
		if !opt.SkipExplanation {
			res.Infeasible = explain(ctx, m, nodeLimit)
		}
	case !main.found:
		res.Status = "unknown"
		res.BestBound = main.bound
		res.Notes = append(res.Notes, "the search stopped before any selection meeting the rules was found")
	default:
		res.Status = "feasible"
		if main.optimal {
			res.Status = "optimal"
		}
		res.Optimal = main.optimal
		for j, on := range main.sel {
			if on {
				res.Selected = append(res.Selected, in.Proposals[j].ID)
				res.TotalAmount += m.amount[j]
			}
		}
		res.ObjectiveValue = main.value
		res.BestBound = math.Max(main.bound, main.value)
		if main.optimal {
			res.BestBound = main.value
		}
		res.Gap = res.BestBound - res.ObjectiveValue
		res.RelativeGap = res.Gap / math.Max(1, math.Abs(res.ObjectiveValue))
	}
	if main.stopped != "" {
		res.Notes = append(res.Notes, fmt.Sprintf("stopped by %s after %d nodes; the gap is an honest bound on the shortfall from the optimum", main.stopped, main.nodes))
	}
	if objective == ObjectiveRankFill && main.found && !main.optimal {
		res.Notes = append(res.Notes, "rank-order fill stopped before every proposal was decided with proof; some were left out without proof that they could not be kept, so the fill may not be the best in rank order")
	}
	if main.inexact {
		res.Notes = append(res.Notes, "a relaxation point failed the exact rule check by a rounding margin; optimality is not claimed")
	}
	if main.found && !opt.SkipPriceOfDiversity {
		free := make([]bool, len(m.rules))
		for k := range free {
			free[k] = !m.rules[k].diversity
		}
		other := solve(ctx, free, "without diversity rules")
		if !other.found {
			res.Notes = append(res.Notes, "the price of diversity is missing: the search without the diversity rules found no selection before it stopped")
		}
		if other.found {
			d := &DiversityReport{ObjectiveWithRules: main.value, ObjectiveWithoutRules: other.value,
				Proven: main.optimal && other.optimal, MovedIn: []string{}, MovedOut: []string{}}
			d.Price = d.ObjectiveWithoutRules - d.ObjectiveWithRules
			d.RelativePrice = d.Price / math.Max(1e-12, math.Abs(d.ObjectiveWithoutRules))
			for j := range main.sel {
				switch {
				case main.sel[j] && !other.sel[j]:
					d.MovedIn = append(d.MovedIn, in.Proposals[j].ID)
				case !main.sel[j] && other.sel[j]:
					d.MovedOut = append(d.MovedOut, in.Proposals[j].ID)
				}
			}
			res.Diversity = d
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// objectiveVector gives the maximised coefficient of each proposal.
func objectiveVector(m *model, objective string) []float64 {
	obj := make([]float64, m.n)
	for j := range obj {
		obj[j] = m.score[j]
		if objective == ObjectiveScoreMoney {
			obj[j] *= float64(m.amount[j])
		}
	}
	return obj
}

// optimise maximises obj under the active rules.
func optimise(ctx context.Context, m *model, active []bool, obj []float64, lim bbLimits) outcome {
	s := newSearcher(m, active, obj)
	r := s.run(ctx, lim)
	o := outcome{nodes: r.nodes, stopped: r.stopped, inexact: s.inexact, bound: r.bound}
	if !s.haveBest {
		o.infeasible = r.complete && !s.inexact
		return o
	}
	o.found, o.sel, o.value = true, s.best, s.bestValue
	o.optimal = r.complete && !s.inexact && lim.relGap == 0
	if r.complete {
		o.bound = s.bestValue
		if lim.relGap > 0 {
			o.bound = s.bestValue + s.eps(lim.relGap)
		}
	}
	return o
}

// rankOrder lists proposals by rank (ranked first), then score, then input
// order.
func rankOrder(m *model) []int {
	order := make([]int, m.n)
	for j := range order {
		order[j] = j
	}
	ps := m.in.Proposals
	sort.SliceStable(order, func(a, b int) bool {
		p, q := ps[order[a]], ps[order[b]]
		switch {
		case (p.Rank > 0) != (q.Rank > 0):
			return p.Rank > 0
		case p.Rank != q.Rank:
			return p.Rank < q.Rank
		}
		return p.Score > q.Score
	})
	return order
}

// rankFill takes proposals in rank order and keeps each one whenever a
// selection meeting every rule still exists with it and with the decisions
// taken so far (checked exactly, by branch and bound when the greedy repair
// cannot show it). The result is the lexicographically best feasible
// selection in rank order.
func rankFill(ctx context.Context, m *model, active []bool, lim bbLimits) outcome {
	order := rankOrder(m)
	w := make([]float64, m.n)
	for i, p := range order {
		w[p] = float64(m.n-i) / float64(m.n)
	}
	s := newSearcher(m, active, w)
	var o outcome
	if s.infeasible {
		o.infeasible = true
		return o
	}
	lo := append([]float64(nil), s.baseLo...)
	up := append([]float64(nil), s.baseUp...)
	proven := true
	// feasibleWith looks for a selection within lo/up.
	feasibleWith := func() ([]bool, bool, bool) {
		if sel, ok := s.greedy(order, lo, up, true); ok {
			return sel, true, true
		}
		copy(s.baseLo, lo)
		copy(s.baseUp, up)
		s.haveBest, s.haveRoot = false, false
		l := lim
		l.firstFeasible = true
		l.progress = nil
		r := s.run(ctx, l)
		o.nodes += r.nodes
		if s.haveBest {
			return append([]bool(nil), s.best...), true, true
		}
		return nil, false, r.complete && !s.inexact
	}
	witness, ok, known := feasibleWith()
	if !ok {
		o.infeasible = known
		o.stopped = "time_limit"
		if ctx.Err() == nil {
			o.stopped = "node_limit"
		}
		if known {
			o.stopped = ""
		}
		return o
	}
	t := newTally(m)
	for _, p := range order {
		if lo[p] == up[p] {
			continue
		}
		if witness[p] {
			lo[p] = 1
			continue
		}
		// Quick refusal: p with the proposals already kept breaks a rule
		// that more proposals cannot repair.
		t.reset()
		for j := range lo {
			if lo[j] == 1 {
				t.set(j, true)
			}
		}
		t.set(p, true)
		refused := false
		for k, on := range active {
			if on && m.rules[k].upper() && !t.ok(k) {
				refused = true
				break
			}
		}
		if !refused && ctx.Err() == nil {
			lo[p] = 1
			sel, ok, known := feasibleWith()
			if ok {
				witness = sel
				continue
			}
			if !known {
				proven = false
			}
		} else if !refused {
			proven = false // out of time: p is left out without proof
		}
		lo[p], up[p] = 0, 0
	}
	if ctx.Err() != nil {
		o.stopped = "time_limit"
		if ctx.Err() == context.Canceled {
			o.stopped = "cancelled"
		}
	}
	o.found, o.sel = true, witness
	for j, on := range witness {
		if on {
			o.value += m.score[j]
		}
	}
	o.bound = o.value
	o.optimal = proven
	return o
}
