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

	full           *lp       // relaxation over every proposal
	lp             *lp       // relaxation in use: full, or restricted to free proposals
	cols           []int     // proposal of each column of lp
	colOf          []int     // column of each proposal in lp, −1 when left out
	offset         float64   // objective of proposals left out of lp at 1
	baseLo, baseUp []float64 // after presolve, extra fixings and reduced-cost fixing
	fullLo, fullUp []float64 // node bounds per proposal, for the heuristic
	xFull          []float64
	infeasible     bool // shown by presolve
	tal            *tally
	touched        []int

	// incumbent
	best      []bool
	bestValue float64
	haveBest  bool
	inexact   bool // an integral LP point failed the exact check

	rootRC    []float64 // root reduced costs per proposal, for global fixing
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
	s.full = newLP(n, rows, c, s.baseLo, s.baseUp)
	s.rootRC = make([]float64, n)
	s.fullLo = make([]float64, n)
	s.fullUp = make([]float64, n)
	s.xFull = make([]float64, n)
	s.useFull()
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
		if c := s.colOf[j]; c >= 0 {
			s.lp.lo[c], s.lp.up[c] = v, v
		}
	}
}

// useFull makes the relaxation over every proposal the one in use.
func (s *searcher) useFull() {
	s.lp = s.full
	n := s.m.n
	s.cols = make([]int, n)
	s.colOf = make([]int, n)
	for j := range s.cols {
		s.cols[j], s.colOf[j] = j, j
	}
	s.offset = 0
	copy(s.lp.lo[:n], s.baseLo)
	copy(s.lp.up[:n], s.baseUp)
	s.lp.prepare()
}

// restrict leaves the proposals fixed so far out of the relaxation, which
// makes every later node cheaper. It reports false when the fixings leave no
// room, so nothing better than the incumbent exists.
func (s *searcher) restrict() bool {
	for _, c := range s.touched {
		p := s.cols[c]
		s.lp.lo[c], s.lp.up[c] = s.baseLo[p], s.baseUp[p]
	}
	keep := make([]bool, s.lp.n)
	for c, p := range s.cols {
		keep[c] = s.baseLo[p] != s.baseUp[p]
	}
	l, cols, ok := s.lp.restrict(keep)
	if !ok {
		return false
	}
	for j := range s.colOf {
		s.colOf[j] = -1
	}
	for c, j := range cols {
		cols[c] = s.cols[j]
		s.colOf[cols[c]] = c
	}
	s.offset = 0
	for j := range s.baseLo {
		if s.baseLo[j] == 1 && s.colOf[j] < 0 {
			s.offset += s.obj[j]
		}
	}
	s.cols = cols
	s.lp = l
	s.touched = s.touched[:0]
	return true
}

// trivialBound is the objective of taking every proposal that helps; it
// stands in before the first relaxation is solved.
func (s *searcher) trivialBound() float64 {
	b := 0.0
	for j, v := range s.obj {
		if s.baseLo[j] == 1 || (s.baseUp[j] == 1 && v > 0) {
			b += v
		}
	}
	return b
}

// freeCount is the number of proposals not fixed for good.
func (s *searcher) freeCount() int {
	k := 0
	for j := range s.baseLo {
		if s.baseLo[j] != s.baseUp[j] {
			k++
		}
	}
	return k
}

// remap rewrites a node's fixings for the columns of a new relaxation; ok is
// false when a fixing contradicts a proposal fixed for good, so the node
// cannot hold anything better than the incumbent.
func (s *searcher) remap(fixes []int32, oldCols []int) ([]int32, bool) {
	out := make([]int32, 0, len(fixes))
	for _, f := range fixes {
		p, v := oldCols[f>>1], f&1
		c := s.colOf[p]
		if c < 0 {
			if float64(v) != s.baseLo[p] {
				return nil, false
			}
			continue
		}
		out = append(out, int32(c)<<1|v)
	}
	return out, true
}

// expand fills the per-proposal bounds and values of the current node.
func (s *searcher) expand() {
	copy(s.fullLo, s.baseLo)
	copy(s.fullUp, s.baseUp)
	copy(s.xFull, s.baseLo)
	for c, p := range s.cols {
		s.fullLo[p], s.fullUp[p], s.xFull[p] = s.lp.lo[c], s.lp.up[c], s.lp.x[c]
	}
}

// greedy builds a selection within the bounds lo/up: forced proposals
// first, then members of unmet minimum rules, then the rest in the given
// order while keeping enough budget in reserve to meet the minimum rules,
// then a repair of unmet share rules and a last strict fill. fill says
// whether proposals with no objective gain are added.
func (s *searcher) greedy(order []int, lo, up []float64, fill bool) ([]bool, bool) {
	t := s.tal
	t.reset()
	m := s.m
	budgetOn := s.active[m.budget]
	budget := m.rules[m.budget].limit
	for j := range lo {
		if lo[j] == 1 {
			t.set(j, true)
		}
	}
	// upperOK: nothing that adding cannot repair is broken, and no type
	// exceeds its maximum share of the whole budget.
	upperOK := func(p int) bool {
		if budgetOn && !t.ok(m.budget) {
			return false
		}
		for _, k := range m.memberOf[p] {
			r := &m.rules[k]
			if !s.active[k] {
				continue
			}
			if r.upper() && !t.ok(k) {
				return false
			}
			if r.kind == ruleMaxShare && budgetOn && cmpProducts(t.money[k], r.den, r.num, budget) > 0 {
				return false
			}
		}
		return true
	}
	cheap := make([]int64, len(m.rules))
	for k, on := range s.active {
		if on && m.rules[k].kind == ruleMinCount {
			cheap[k] = s.cheapest(k, up)
		}
	}
	// reserve is the money still needed to meet the minimum rules.
	reserve := func() float64 {
		need := 0.0
		for k, on := range s.active {
			r := &m.rules[k]
			if !on {
				continue
			}
			switch r.kind {
			case ruleMinShare:
				f := float64(r.num) / float64(r.den)
				if d := f*float64(t.total) - float64(t.money[k]); d > 0 && f < 1 {
					need += d / (1 - f)
				}
			case ruleMinCount:
				if d := r.limit - t.count[k]; d > 0 {
					need += float64(d) * float64(cheap[k])
				}
			}
		}
		return need
	}
	try := func(p int, withReserve bool) bool {
		if t.sel[p] || up[p] != 1 {
			return false
		}
		t.set(p, true)
		ok := upperOK(p) && (!withReserve || !budgetOn || float64(budget-t.total) >= reserve())
		if !ok {
			t.set(p, false)
		}
		return ok
	}
	var before []float64
	strict := func(p int) bool {
		if t.sel[p] || up[p] != 1 {
			return false
		}
		before = before[:0]
		for _, k := range m.shares {
			before = append(before, t.shortfall(k))
		}
		t.set(p, true)
		ok := upperOK(p)
		for i, k := range m.shares {
			if ok && s.active[k] && t.shortfall(k) > before[i] {
				ok = false
			}
		}
		if !ok {
			t.set(p, false)
		}
		return ok
	}
	member := make([]bool, m.n)
	meet := func(k int) {
		r := &m.rules[k]
		clear(member)
		for _, p := range r.members {
			member[p] = true
		}
		for _, p := range order {
			if t.ok(k) {
				return
			}
			if member[p] == (r.kind != ruleMaxShare) {
				try(p, false)
			}
		}
	}
	minimums := func(kinds ...ruleKind) {
		for k, on := range s.active {
			if !on || t.ok(k) {
				continue
			}
			for _, kind := range kinds {
				if m.rules[k].kind == kind {
					meet(k)
				}
			}
		}
	}
	minimums(ruleMinCount)
	for _, p := range order {
		if fill || s.obj[p] > 0 {
			try(p, true)
		}
	}
	minimums(ruleMinCount, ruleMinShare, ruleMaxShare)
	// drop removes p unless that breaks a rule that held.
	var held []bool
	drop := func(p int) bool {
		held = held[:0]
		for k := range m.rules {
			held = append(held, !s.active[k] || t.ok(k))
		}
		t.set(p, false)
		for k, h := range held {
			if h && !t.ok(k) {
				t.set(p, true)
				return false
			}
		}
		return true
	}
	// Share rules still unmet: swap the least wanted proposals on the wrong
	// side for ones on the right side.
	for k, on := range s.active {
		r := &m.rules[k]
		if !on || (r.kind != ruleMinShare && r.kind != ruleMaxShare) {
			continue
		}
		clear(member)
		for _, p := range r.members {
			member[p] = true
		}
		wrong := r.kind == ruleMaxShare // members are on the wrong side of a maximum
		for step := 0; step < 64 && !t.ok(k); step++ {
			meet(k)
			if t.ok(k) {
				break
			}
			dropped := false
			for i := len(order) - 1; i >= 0 && !dropped; i-- {
				p := order[i]
				if t.sel[p] && lo[p] != 1 && member[p] == wrong {
					dropped = drop(p)
				}
			}
			if !dropped {
				break
			}
		}
	}
	for _, p := range order {
		if fill || s.obj[p] > 0 {
			strict(p)
		}
	}
	sel := append([]bool(nil), t.sel...)
	ok, _ := t.feasible(s.active)
	return sel, ok
}

// cheapest is the smallest amount among the members of rule k still
// allowed by up and not selected.
func (s *searcher) cheapest(k int, up []float64) int64 {
	best := int64(-1)
	for _, p := range s.m.rules[k].members {
		if up[p] == 1 && !s.tal.sel[p] && (best < 0 || s.m.amount[p] < best) {
			best = s.m.amount[p]
		}
	}
	if best < 0 {
		return 0
	}
	return best
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
	sort.Slice(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if x != nil && math.Abs(x[i]-x[j]) > 1e-9 {
			return x[i] > x[j]
		}
		if key[i] != key[j] {
			return key[i] > key[j]
		}
		return i < j
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
	s.useFull()
	n := s.m.n
	q := &nodeQueue{}
	cur := &bbNode{bound: math.Inf(1)}
	lastReport := time.Now()
	restricted := false
	stop := func(why string, pending *bbNode) bbResult {
		if pending != nil {
			heap.Push(q, pending)
		}
		res.stopped = why
		res.bound = math.Min(q.maxBound(), s.trivialBound())
		if s.haveBest && res.bound < s.bestValue {
			res.bound = s.bestValue
		}
		return res
	}
	done := func() bbResult {
		res.complete = true
		res.bound = math.Inf(-1)
		if s.haveBest {
			res.bound = s.bestValue
		}
		return res
	}
	for {
		if cur == nil && restricted && s.freeCount()*5 < s.lp.n*3 {
			// Enough proposals fixed since the last restriction to shrink the
			// relaxation again; open nodes are carried over.
			oldCols := s.cols
			if !s.restrict() {
				return done()
			}
			var keepNodes nodeQueue
			for _, nd := range *q {
				if f, ok := s.remap(nd.fixes, oldCols); ok {
					nd.fixes = f
					keepNodes = append(keepNodes, nd)
				}
			}
			*q = keepNodes
			heap.Init(q)
		}
		if cur == nil {
			for q.Len() > 0 {
				nd := heap.Pop(q).(*bbNode)
				if !s.haveBest || nd.bound > s.bestValue+s.eps(lim.relGap) {
					cur = nd
					break
				}
			}
			if cur == nil {
				return done()
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
			b := math.Min(math.Max(q.maxBound(), cur.bound), s.trivialBound())
			lim.progress(res.nodes, s.haveBest, s.bestValue, b)
		}
		res.nodes++
		nd := cur
		cur = nil
		l := s.lp
		nc := l.n
		// Bounds of this node.
		for _, c := range s.touched {
			p := s.cols[c]
			l.lo[c], l.up[c] = s.baseLo[p], s.baseUp[p]
		}
		s.touched = s.touched[:0]
		conflict := false
		for _, f := range nd.fixes {
			c, v := int(f>>1), float64(f&1)
			if p := s.cols[c]; v < s.baseLo[p] || v > s.baseUp[p] {
				conflict = true
				break
			}
			l.lo[c], l.up[c] = v, v
			s.touched = append(s.touched, c)
		}
		if conflict {
			continue
		}
		l.prepare()
		st := l.solve(ctx, 50*(l.m+10)+1000)
		if st == lpInfeasible {
			continue
		}
		if st == lpStopped && ctx.Err() != nil {
			res.nodes--
			return stop("", nd)
		}
		lagBound := -l.lagrange()*s.scale + s.offset
		ub := math.Min(lagBound, nd.bound)
		root := nd.depth == 0 && len(nd.fixes) == 0
		if root {
			for c, p := range s.cols {
				s.rootRC[p] = l.rc[c]
			}
			s.rootBound = lagBound
			s.haveRoot = true
			// An early incumbent from the LP point makes fixing bite at once.
			s.expand()
			if sel, ok := s.greedy(s.heuristicOrder(s.xFull), s.fullLo, s.fullUp, false); ok {
				s.offer(sel)
			}
			s.fixByRootCosts()
			if !restricted && s.haveBest {
				// Re-solve the root over the proposals still free.
				restricted = true
				if !s.restrict() {
					return done()
				}
				cur = nd
				continue
			}
		} else if res.nodes%32 == 0 {
			s.expand()
			if sel, ok := s.greedy(s.heuristicOrder(s.xFull), s.fullLo, s.fullUp, false); ok {
				s.offer(sel)
			}
		}
		if s.haveBest && ub <= s.bestValue+s.eps(lim.relGap) {
			continue
		}
		// Branching variable: the most fractional free proposal.
		br, brScore := -1, -1.0
		for c := 0; c < nc; c++ {
			if l.lo[c] == l.up[c] {
				continue
			}
			f := l.x[c] - math.Floor(l.x[c])
			sc := math.Min(f, 1-f)
			if st != lpOptimal {
				sc += 1e-3 // any free proposal will do when the LP did not finish
			} else if sc < 1e-7 {
				continue
			}
			sc += 1e-9 * math.Abs(s.obj[s.cols[c]]) / s.scale
			if sc > brScore {
				br, brScore = c, sc
			}
		}
		if br < 0 {
			if st == lpOptimal || allFixed(l, nc) {
				s.expand()
				sel := make([]bool, n)
				for j := range sel {
					v := s.xFull[j]
					if s.fullLo[j] == s.fullUp[j] {
						v = s.fullLo[j]
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
			for c := 0; c < nc; c++ {
				rc := l.rc[c]
				if c == br || l.lo[c] == l.up[c] || rc == 0 || math.Abs(rc)*s.scale < allow {
					continue
				}
				v := int32(0)
				if rc < 0 {
					v = 1
				}
				extra = append(extra, int32(c)<<1|v)
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
