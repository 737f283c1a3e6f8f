package portfolio

import (
	"container/heap"
	"context"
	"math"
	"sort"
	"time"
)

// searcher is branch and bound over one set of active rules and one
// objective (maximised).
type searcher struct {
	m      *model
	active []bool
	obj    []float64 // per proposal, maximised
	scale  float64   // lp costs are −obj/scale

	lp             *lp
	baseLo, baseUp []float64 // after presolve, extra fixings and reduced-cost fixing
	infeasible     bool      // shown by presolve
	tal            *tally
	touched        []int

	// incumbent
	best      []bool
	bestValue float64
	haveBest  bool
	inexact   bool // an integral LP point failed the exact check

	rootRC    []float64 // root reduced costs for global fixing
	rootBound float64
	haveRoot  bool
}

// newSearcher compiles the active rules into an LP, after a presolve that
// fixes proposals the rules exclude and drops rows the bounds imply.
func newSearcher(m *model, active []bool, obj []float64) *searcher {
	n := m.n
	s := &searcher{m: m, active: active, obj: obj, tal: newTally(m)}
	s.baseLo = make([]float64, n)
	s.baseUp = make([]float64, n)
	for j := range s.baseUp {
		s.baseUp[j] = 1
	}
	for k, on := range active {
		if !on {
			continue
		}
		r := &m.rules[k]
		switch r.kind {
		case ruleThresholds, ruleForcedOut:
			for _, p := range r.members {
				s.baseUp[p] = 0
			}
		case ruleForcedIn:
			s.baseLo[r.members[0]] = 1
		case ruleBudget:
			for p, a := range m.amount {
				if a > r.limit {
					s.baseUp[p] = 0
				}
			}
		}
	}
	for j := range s.baseLo {
		if s.baseLo[j] > s.baseUp[j] {
			s.infeasible = true
		}
	}
	var rows []lpRow
	add := func(idx []int, val []float64, lo, up float64) {
		// Scale the row so its largest coefficient is 1, drop columns fixed
		// at zero, and drop the row when the bounds already imply it.
		big := 0.0
		k := 0
		for t, j := range idx {
			if s.baseUp[j] == 0 || val[t] == 0 {
				continue
			}
			idx[k], val[k] = j, val[t]
			k++
			big = math.Max(big, math.Abs(val[t]))
		}
		idx, val = idx[:k], val[:k]
		if big == 0 {
			big = 1
		}
		minAct, maxAct := 0.0, 0.0
		for t, j := range idx {
			val[t] /= big
			v := val[t]
			if v > 0 {
				minAct += v * s.baseLo[j]
				maxAct += v
			} else {
				minAct += v
				maxAct += v * s.baseLo[j]
			}
		}
		lo /= big
		up /= big
		slack := 1e-9 * (1 + math.Abs(minAct) + math.Abs(maxAct))
		if minAct > up+slack || maxAct < lo-slack {
			s.infeasible = true
			return
		}
		if minAct >= lo-slack && maxAct <= up+slack {
			return
		}
		rows = append(rows, lpRow{idx: idx, val: val, lo: lo, up: up})
	}
	inf := math.Inf(1)
	for k, on := range active {
		if !on {
			continue
		}
		r := &m.rules[k]
		switch r.kind {
		case ruleBudget:
			idx := make([]int, n)
			val := make([]float64, n)
			for j := range idx {
				idx[j], val[j] = j, float64(m.amount[j])
			}
			add(idx, val, -inf, float64(r.limit))
		case ruleMinCount, ruleMaxCount, ruleExclusion:
			idx := append([]int(nil), r.members...)
			val := make([]float64, len(idx))
			for t := range val {
				val[t] = 1
			}
			if r.kind == ruleMinCount {
				add(idx, val, float64(r.limit), inf)
			} else {
				add(idx, val, -inf, float64(r.limit))
			}
		case ruleMinShare, ruleMaxShare:
			// den·money(type) − num·money(all), compared with 0.
			in := make([]bool, n)
			for _, p := range r.members {
				in[p] = true
			}
			idx := make([]int, n)
			val := make([]float64, n)
			f := float64(r.num) / float64(r.den)
			for j := range idx {
				w := -f
				if in[j] {
					w = 1 - f
				}
				idx[j], val[j] = j, w*float64(m.amount[j])
			}
			if r.kind == ruleMinShare {
				add(idx, val, 0, inf)
			} else {
				add(idx, val, -inf, 0)
			}
		}
	}
	s.scale = 0
	for _, v := range obj {
		s.scale = math.Max(s.scale, math.Abs(v))
	}
	if s.scale == 0 {
		s.scale = 1
	}
	c := make([]float64, n)
	for j, v := range obj {
		c[j] = -v / s.scale
	}
	s.lp = newLP(n, rows, c, s.baseLo, s.baseUp)
	return s
}

// value is the exact objective of a selection.
func (s *searcher) value(sel []bool) float64 {
	v := 0.0
	for j, on := range sel {
		if on {
			v += s.obj[j]
		}
	}
	return v
}

// check evaluates a selection exactly against the active rules.
func (s *searcher) check(sel []bool) bool {
	s.tal.reset()
	for j, on := range sel {
		if on {
			s.tal.set(j, true)
		}
	}
	ok, _ := s.tal.feasible(s.active)
	return ok
}

// offer makes sel the incumbent if it is feasible and better.
func (s *searcher) offer(sel []bool) bool {
	if !s.check(sel) {
		return false
	}
	v := s.value(sel)
	if s.haveBest && v <= s.bestValue {
		return false
	}
	s.best = append(s.best[:0], sel...)
	s.bestValue = v
	s.haveBest = true
	s.fixByRootCosts()
	return true
}

// tolerance below which a bound no better than the incumbent proves it.
func (s *searcher) eps(relGap float64) float64 {
	return 1e-9*math.Max(1, math.Abs(s.bestValue)) + relGap*math.Abs(s.bestValue)
}

// fixByRootCosts fixes proposals for good when flipping them would take the
// root bound below the incumbent.
func (s *searcher) fixByRootCosts() {
	if !s.haveRoot || !s.haveBest {
		return
	}
	allow := s.rootBound - s.bestValue - s.eps(0)
	for j, rc := range s.rootRC {
		if s.baseLo[j] == s.baseUp[j] || math.Abs(rc)*s.scale < allow || rc == 0 {
			continue
		}
		v := 0.0
		if rc < 0 {
			v = 1
		}
		s.baseLo[j], s.baseUp[j] = v, v
		s.lp.lo[j], s.lp.up[j] = v, v
	}
}

// greedy builds a selection within the bounds lo/up: forced proposals first,
// then members of unmet minimum rules, then the rest, each in the given
// order, never breaking a rule that adding cannot repair. fill says whether
// proposals with no objective gain are added.
func (s *searcher) greedy(order []int, lo, up []float64, fill bool) ([]bool, bool) {
	t := s.tal
	t.reset()
	m := s.m
	for j := range lo {
		if lo[j] == 1 {
			t.set(j, true)
		}
	}
	var before []float64
	addOK := func(p int) bool {
		before = before[:0]
		for _, k := range m.shares {
			if s.active[k] {
				before = append(before, t.shortfall(k))
			}
		}
		t.set(p, true)
		good := true
		if s.active[m.budget] && !t.ok(m.budget) {
			good = false
		}
		for _, k := range m.memberOf[p] {
			if good && s.active[k] && m.rules[k].upper() && !t.ok(k) {
				good = false
			}
		}
		i := 0
		for _, k := range m.shares {
			if !s.active[k] {
				continue
			}
			if good && t.shortfall(k) > before[i] {
				good = false
			}
			i++
		}
		if !good {
			t.set(p, false)
		}
		return good
	}
	for k, on := range s.active {
		r := &m.rules[k]
		if !on || (r.kind != ruleMinCount && r.kind != ruleMinShare) {
			continue
		}
		isMember := make(map[int]bool, len(r.members))
		for _, p := range r.members {
			isMember[p] = true
		}
		for _, p := range order {
			if t.ok(k) {
				break
			}
			if isMember[p] && !t.sel[p] && up[p] == 1 {
				addOK(p)
			}
		}
	}
	for _, p := range order {
		if !t.sel[p] && up[p] == 1 && (fill || s.obj[p] > 0) {
			addOK(p)
		}
	}
	sel := append([]bool(nil), t.sel...)
	ok, _ := t.feasible(s.active)
	return sel, ok
}

// heuristicOrder sorts proposals by LP value, then objective per money
// (objective alone when the budget is not active).
func (s *searcher) heuristicOrder(x []float64) []int {
	n := s.m.n
	order := make([]int, n)
	key := make([]float64, n)
	for j := range order {
		order[j] = j
		key[j] = s.obj[j]
		if s.active[s.m.budget] {
			key[j] /= float64(s.m.amount[j])
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if x != nil && math.Abs(x[i]-x[j]) > 1e-9 {
			return x[i] > x[j]
		}
		return key[i] > key[j]
	})
	return order
}

type bbNode struct {
	fixes []int32 // proposal<<1 | value
	bound float64
	depth int
}

type nodeQueue []*bbNode

func (q nodeQueue) Len() int           { return len(q) }
func (q nodeQueue) Less(i, j int) bool { return q[i].bound > q[j].bound }
func (q nodeQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *nodeQueue) Push(x any)        { *q = append(*q, x.(*bbNode)) }
func (q *nodeQueue) Pop() any          { o := *q; x := o[len(o)-1]; *q = o[:len(o)-1]; return x }
func (q nodeQueue) maxBound() float64 {
	if len(q) == 0 {
		return math.Inf(-1)
	}
	return q[0].bound
}

type bbLimits struct {
	nodeLimit     int64
	relGap        float64
	firstFeasible bool
	progress      func(nodes int64, haveInc bool, inc, bound float64)
}

type bbResult struct {
	nodes    int64
	bound    float64 // valid upper bound on the optimum (−Inf: infeasible)
	complete bool    // the search finished, so bound and incumbent are proven
	stopped  string  // "node_limit", "time_limit", "cancelled", or ""
}

// run performs best-bound branch and bound with depth-first dives.
func (s *searcher) run(ctx context.Context, lim bbLimits) bbResult {
	var res bbResult
	if s.infeasible {
		res.bound, res.complete = math.Inf(-1), true
		return res
	}
	l := s.lp
	n := s.m.n
	copy(l.lo[:n], s.baseLo)
	copy(l.up[:n], s.baseUp)
	l.prepare()
	q := &nodeQueue{}
	cur := &bbNode{bound: math.Inf(1)}
	lastReport := time.Now()
	iterLimit := 50*(l.m+10) + 1000
	stop := func(why string, pending *bbNode) bbResult {
		if pending != nil {
			heap.Push(q, pending)
		}
		res.stopped = why
		res.bound = q.maxBound()
		if s.haveBest && res.bound < s.bestValue {
			res.bound = s.bestValue
		}
		return res
	}
	for {
		if cur == nil {
			for q.Len() > 0 {
				nd := heap.Pop(q).(*bbNode)
				if !s.haveBest || nd.bound > s.bestValue+s.eps(lim.relGap) {
					cur = nd
					break
				}
			}
			if cur == nil {
				res.complete = true
				res.bound = math.Inf(-1)
				if s.haveBest {
					res.bound = s.bestValue
				}
				return res
			}
		}
		if s.haveBest && cur.bound <= s.bestValue+s.eps(lim.relGap) {
			cur = nil
			continue
		}
		if lim.firstFeasible && s.haveBest {
			return stop("first_feasible", cur)
		}
		if err := ctx.Err(); err != nil {
			why := "cancelled"
			if err == context.DeadlineExceeded {
				why = "time_limit"
			}
			return stop(why, cur)
		}
		if lim.nodeLimit > 0 && res.nodes >= lim.nodeLimit {
			return stop("node_limit", cur)
		}
		if lim.progress != nil && res.nodes%16 == 0 && time.Since(lastReport) > 200*time.Millisecond {
			lastReport = time.Now()
			b := math.Max(q.maxBound(), cur.bound)
			lim.progress(res.nodes, s.haveBest, s.bestValue, b)
		}
		res.nodes++
		nd := cur
		cur = nil
		// Bounds of this node.
		for _, j := range s.touched {
			l.lo[j], l.up[j] = s.baseLo[j], s.baseUp[j]
		}
		s.touched = s.touched[:0]
		conflict := false
		for _, f := range nd.fixes {
			j, v := int(f>>1), float64(f&1)
			if v < s.baseLo[j] || v > s.baseUp[j] {
				conflict = true
				break
			}
			l.lo[j], l.up[j] = v, v
			s.touched = append(s.touched, j)
		}
		if conflict {
			continue
		}
		l.prepare()
		st := l.solve(ctx, iterLimit)
		if st == lpInfeasible {
			continue
		}
		if st == lpStopped && ctx.Err() != nil {
			res.nodes--
			return stop("", nd)
		}
		lagBound := -l.lagrange() * s.scale
		ub := math.Min(lagBound, nd.bound)
		if nd.depth == 0 && len(nd.fixes) == 0 {
			s.rootRC = append(s.rootRC[:0], l.rc...)
			s.rootBound = lagBound
			s.haveRoot = true
			// An early incumbent from the LP point makes fixing bite at once.
			sel, ok := s.greedy(s.heuristicOrder(l.x[:n]), s.baseLo, s.baseUp, false)
			if ok {
				s.offer(sel)
			}
			s.fixByRootCosts()
		} else if res.nodes%32 == 0 {
			sel, ok := s.greedy(s.heuristicOrder(l.x[:n]), l.lo[:n], l.up[:n], false)
			if ok {
				s.offer(sel)
			}
		}
		if s.haveBest && ub <= s.bestValue+s.eps(lim.relGap) {
			continue
		}
		// Branching variable: the most fractional free proposal.
		br, brScore := -1, -1.0
		for j := 0; j < n; j++ {
			if l.lo[j] == l.up[j] {
				continue
			}
			f := l.x[j] - math.Floor(l.x[j])
			sc := math.Min(f, 1-f)
			if st != lpOptimal {
				sc += 1e-3 // any free proposal will do when the LP did not finish
			} else if sc < 1e-7 {
				continue
			}
			sc += 1e-9 * math.Abs(s.obj[j]) / s.scale
			if sc > brScore {
				br, brScore = j, sc
			}
		}
		if br < 0 {
			if st == lpOptimal || allFixed(l, n) {
				sel := make([]bool, n)
				for j := 0; j < n; j++ {
					v := l.x[j]
					if l.lo[j] == l.up[j] {
						v = l.lo[j]
					}
					sel[j] = v > 0.5
				}
				if !s.check(sel) {
					s.inexact = true
				} else {
					s.offer(sel)
				}
			}
			continue
		}
		// Reduced-cost fixing, valid for the whole subtree.
		fixes := nd.fixes
		if s.haveBest {
			allow := lagBound - s.bestValue - s.eps(lim.relGap)
			var extra []int32
			for j := 0; j < n; j++ {
				rc := l.rc[j]
				if j == br || l.lo[j] == l.up[j] || rc == 0 || math.Abs(rc)*s.scale < allow {
					continue
				}
				v := int32(0)
				if rc < 0 {
					v = 1
				}
				extra = append(extra, int32(j)<<1|v)
			}
			if len(extra) > 0 {
				fixes = append(append(make([]int32, 0, len(fixes)+len(extra)+1), fixes...), extra...)
			}
		}
		up := &bbNode{fixes: append(fixes[:len(fixes):len(fixes)], int32(br)<<1|1), bound: ub, depth: nd.depth + 1}
		down := &bbNode{fixes: append(fixes[:len(fixes):len(fixes)], int32(br)<<1), bound: ub, depth: nd.depth + 1}
		if l.x[br] >= 0.5 || st != lpOptimal {
			cur = up
			heap.Push(q, down)
		} else {
			cur = down
			heap.Push(q, up)
		}
	}
}

func allFixed(l *lp, n int) bool {
	for j := 0; j < n; j++ {
		if l.lo[j] != l.up[j] {
			return false
		}
	}
	return true
}
