package assignment

import (
	"context"
	"errors"
	"math"
)

// Minimum-cost circulation with lower bounds, solved by the primal-dual
// method. Each phase runs Dijkstra on reduced costs (with a bucket queue,
// stopped once every node as close as the sink is settled) and raises the
// node potentials; then Dinic's blocking flows push as much as possible
// along arcs of zero reduced cost, layering the graph by a backward search
// from the sink that stops as soon as it reaches the source. Potentials keep
// every residual arc's reduced cost non-negative throughout, which is
// exactly the optimality certificate returned at the end.

const capInf = int32(1 << 30)

type mcf struct {
	n     int32
	first []int32 // arcs of node v are first[v]..first[v+1]-1
	to    []int32
	rev   []int32
	cap   []int32 // residual capacity
	// revCap[a] mirrors cap[rev[a]] so that the backward search reads it
	// sequentially instead of jumping to the partner arc.
	revCap []int32
	cost   []int64
	node   []nodeState

	edgeArc []int32 // forward arc of each network edge
	edgeCap []int32 // capacity after removing the lower bound

	ss, tt int32
	need   int64 // supply to route from ss to tt

	rounds int

	// scratch
	stamp   uint32
	heap    []heapItem
	buckets [][]int32
	iter    []int32
	queue   []int32
}

// nodeState keeps what the searches read about a node in one cache line.
type nodeState struct {
	pi    int64 // potential
	dist  int64
	level int32
	seen  uint32
}

type heapItem struct {
	d int64
	v int32
}

var errInfeasible = errors.New("no flow satisfies the hard constraints")

// arcSpec is a network arc before layout.
type arcSpec struct {
	from, to int32
	cap      int32
	cost     int64
	edge     int32 // network edge or -1
}

// newMCF transforms lower bounds into node supplies, adds a super source and
// sink and lays the arcs out by tail node, each node's arcs sorted by the
// node at the other end so that the searches walk memory in order. (Ties
// between equally cheap paths follow the evaluator numbering, which the
// network builder draws from the seed.)
func newMCF(nw *network) *mcf {
	n := nw.nodes + 2
	g := &mcf{n: n, ss: nw.nodes, tt: nw.nodes + 1}
	supply := make([]int64, nw.nodes)
	specs := make([]arcSpec, 0, len(nw.edges)+int(nw.nodes))
	g.edgeCap = make([]int32, len(nw.edges))
	g.edgeArc = make([]int32, len(nw.edges))
	for i, e := range nw.edges {
		if e.lower > 0 {
			supply[e.from] -= int64(e.lower)
			supply[e.to] += int64(e.lower)
		}
		g.edgeCap[i] = e.cap - e.lower
		specs = append(specs, arcSpec{e.from, e.to, e.cap - e.lower, e.cost, int32(i)})
	}
	for v, b := range supply {
		switch {
		case b > 0:
			specs = append(specs, arcSpec{g.ss, int32(v), int32(b), 0, -1})
			g.need += b
		case b < 0:
			specs = append(specs, arcSpec{int32(v), g.tt, int32(-b), 0, -1})
		}
	}
	specs = sortSpecs(specs, n)

	m := 2 * len(specs)
	g.first = make([]int32, n+1)
	for _, s := range specs {
		g.first[s.from+1]++
		g.first[s.to+1]++
	}
	for v := int32(0); v < n; v++ {
		g.first[v+1] += g.first[v]
	}
	pos := make([]int32, n)
	copy(pos, g.first[:n])
	g.to = make([]int32, m)
	g.rev = make([]int32, m)
	g.cap = make([]int32, m)
	g.revCap = make([]int32, m)
	g.cost = make([]int64, m)
	for _, s := range specs {
		a, b := pos[s.from], pos[s.to]
		pos[s.from]++
		pos[s.to]++
		g.to[a], g.rev[a], g.cap[a], g.cost[a] = s.to, b, s.cap, s.cost
		g.to[b], g.rev[b], g.cap[b], g.cost[b] = s.from, a, 0, -s.cost
		g.revCap[b] = s.cap
		if s.edge >= 0 {
			g.edgeArc[s.edge] = a
		}
	}
	g.node = make([]nodeState, n)
	g.iter = make([]int32, n)
	return g
}

// initPotentials makes every residual arc's reduced cost non-negative with
// Bellman-Ford from a virtual source joined to all nodes. The residual graph
// of the initial (lower-bound) flow has no cycle of negative cost because it
// only has forward arcs and the network is acyclic apart from T->S, whose
// cycles run through the saturated proposal arcs.
func (g *mcf) initPotentials(ctx context.Context) error {
	for i := range g.node {
		g.node[i].pi = 0
	}
	inQueue := make([]bool, g.n)
	queue := make([]int32, 0, g.n)
	for v := int32(0); v < g.n; v++ {
		queue = append(queue, v)
		inQueue[v] = true
	}
	count := 0
	limit := int64(g.n) * int64(g.n+1)
	var relax int64
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		inQueue[u] = false
		count++
		if count&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for a := g.first[u]; a < g.first[u+1]; a++ {
			if g.cap[a] <= 0 {
				continue
			}
			v := g.to[a]
			if d := g.node[u].pi + g.cost[a]; d < g.node[v].pi {
				g.node[v].pi = d
				relax++
				if relax > limit {
					return errors.New("negative cycle in the initial network (internal error)")
				}
				if !inQueue[v] {
					inQueue[v] = true
					queue = append(queue, v)
				}
			}
		}
	}
	return nil
}

// run routes g.need units from ss to tt at minimum cost.
func (g *mcf) run(ctx context.Context, progress func(done, total int)) (phases int, err error) {
	if err := g.initPotentials(ctx); err != nil {
		return 0, err
	}
	var flow int64
	for flow < g.need {
		if err := ctx.Err(); err != nil {
			return phases, err
		}
		phases++
		if !g.dijkstra() {
			return phases, errInfeasible
		}
		for {
			g.rounds++
			if !g.bfs() {
				break
			}
			copy(g.iter, g.first[:g.n])
			var pushed int64
			for {
				f := g.dfs(g.ss, int32(min(g.need-flow-pushed, int64(capInf))))
				if f == 0 {
					break
				}
				pushed += int64(f)
			}
			flow += pushed
			if pushed == 0 || flow >= g.need {
				break
			}
			if err := ctx.Err(); err != nil {
				return phases, err
			}
		}
		if progress != nil {
			progress(int(flow), int(g.need))
		}
	}
	return phases, nil
}

// dijkstra computes reduced-cost distances from ss until tt is settled and
// raises the potentials; it reports whether tt is reachable.
func (g *mcf) dijkstra() bool {
	g.stamp++
	st := g.stamp
	const inf = math.MaxInt64
	for i := range g.node {
		g.node[i].dist = inf
	}
	// Reduced distances are small integers in practice, so a bucket queue
	// (Dial) takes them in order; larger ones fall back to the heap.
	if g.buckets == nil {
		g.buckets = make([][]int32, numBuckets)
	}
	g.heap = g.heap[:0]
	g.node[g.ss].dist = 0
	g.buckets[0] = append(g.buckets[0], g.ss)
	dt := int64(inf)
	for b := 0; b < numBuckets && int64(b) <= dt; b++ {
		for i := 0; i < len(g.buckets[b]); i++ {
			if g.settle(g.buckets[b][i], int64(b), st) {
				dt = int64(b)
			}
		}
	}
	for i := range g.buckets {
		g.buckets[i] = g.buckets[i][:0]
	}
	for len(g.heap) > 0 {
		it := g.pop()
		if it.d > dt {
			break
		}
		if g.settle(it.v, it.d, st) {
			dt = it.d
		}
	}
	if g.node[g.tt].seen != st {
		return false
	}
	for v := range g.node {
		nv := &g.node[v]
		if nv.seen == st {
			nv.pi += nv.dist
		} else {
			nv.pi += dt
		}
	}
	return true
}

// sortSpecs orders arcs by (lower endpoint, higher endpoint) with two stable
// counting sorts; laid out in this order, every node's arc list is sorted
// by the other endpoint.
func sortSpecs(specs []arcSpec, n int32) []arcSpec {
	tmp := make([]arcSpec, len(specs))
	cnt := make([]int32, n+1)
	for _, s := range specs {
		cnt[max(s.from, s.to)+1]++
	}
	for v := int32(0); v < n; v++ {
		cnt[v+1] += cnt[v]
	}
	for _, s := range specs {
		k := max(s.from, s.to)
		tmp[cnt[k]] = s
		cnt[k]++
	}
	clear(cnt)
	for _, s := range tmp {
		cnt[min(s.from, s.to)+1]++
	}
	for v := int32(0); v < n; v++ {
		cnt[v+1] += cnt[v]
	}
	for _, s := range tmp {
		k := min(s.from, s.to)
		specs[cnt[k]] = s
		cnt[k]++
	}
	return specs
}

const numBuckets = 1024

// settle scans u at distance d unless it is settled or d is stale; it
// reports whether u is tt. Nodes at distance dt keep being settled after
// tt: with them, every arc of zero reduced cost on a shortest path lies
// inside the settled set, to which the augmentation then confines itself.
func (g *mcf) settle(u int32, d int64, st uint32) bool {
	nu := &g.node[u]
	if nu.seen == st || d > nu.dist {
		return false
	}
	nu.seen = st
	pu := nu.pi + d
	for a := g.first[u]; a < g.first[u+1]; a++ {
		if g.cap[a] <= 0 {
			continue
		}
		v := g.to[a]
		nv := &g.node[v]
		if nv.seen == st {
			continue
		}
		nd := g.cost[a] + pu - nv.pi
		if nd < nv.dist {
			nv.dist = nd
			if nd < numBuckets {
				g.buckets[nd] = append(g.buckets[nd], v)
			} else {
				g.push(heapItem{nd, v})
			}
		}
	}
	return u == g.tt
}

func (g *mcf) push(it heapItem) {
	h := append(g.heap, it)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if h[p].d <= it.d {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = it
	g.heap = h
}

func (g *mcf) pop() heapItem {
	h := g.heap
	top := h[0]
	last := h[len(h)-1]
	h = h[:len(h)-1]
	n := len(h)
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		best := c
		for j := c + 1; j < c+4 && j < n; j++ {
			if h[j].d < h[best].d {
				best = j
			}
		}
		if h[best].d >= last.d {
			break
		}
		h[i] = h[best]
		i = best
	}
	if n > 0 {
		h[i] = last
	}
	g.heap = h
	return top
}

// edgeFlow is the flow on network edge i, lower bound included.
func (g *mcf) edgeFlow(nw *network, i int) int32 {
	return nw.edges[i].lower + g.edgeCap[i] - g.cap[g.edgeArc[i]]
}

// bfs layers the admissible graph by distance to tt, searching backwards
// from tt so that only nodes that can still reach it are visited; late in
// the solve that is a small part of the network. It reports whether ss can
// reach tt.
func (g *mcf) bfs() bool {
	for i := range g.node {
		g.node[i].level = -1
	}
	st := g.stamp
	g.node[g.tt].level = 0
	q := append(g.queue[:0], g.tt)
	for i := 0; i < len(q); i++ {
		v := q[i]
		if g.node[g.ss].level >= 0 {
			// Levels beyond ss's are never used by the blocking flow.
			break
		}
		pv, lv := g.node[v].pi, g.node[v].level+1
		for a := g.first[v]; a < g.first[v+1]; a++ {
			// The arc u->v is rev[a]; its cost is -cost[a].
			if g.revCap[a] <= 0 {
				continue
			}
			u := g.to[a]
			nu := &g.node[u]
			if nu.level < 0 && nu.seen == st && nu.pi == pv+g.cost[a] {
				nu.level = lv
				q = append(q, u)
			}
		}
	}
	g.queue = q
	return g.node[g.ss].level >= 0
}

func (g *mcf) dfs(u int32, f int32) int32 {
	if u == g.tt {
		return f
	}
	var pushed int32
	pu := g.node[u].pi
	lu := g.node[u].level - 1
	for ; g.iter[u] < g.first[u+1]; g.iter[u]++ {
		a := g.iter[u]
		v := g.to[a]
		if g.cap[a] <= 0 {
			continue
		}
		if nv := &g.node[v]; nv.level != lu || g.cost[a]+pu != nv.pi {
			continue
		}
		d := g.dfs(v, min(f-pushed, g.cap[a]))
		if d > 0 {
			r := g.rev[a]
			g.cap[a] -= d
			g.cap[r] += d
			g.revCap[r] -= d
			g.revCap[a] += d
			pushed += d
			if pushed == f {
				return pushed
			}
		}
	}
	g.node[u].level = -1
	return pushed
}

// potentials returns the node potentials of the first n nodes.
func (g *mcf) potentials(n int32) []int64 {
	out := make([]int64, n)
	for v := range out {
		out[v] = g.node[v].pi
	}
	return out
}
