package assignment

import (
	"math/rand/v2"
	"sort"
)

// The flow network. One unit of flow is one review: it leaves the source S,
// passes an evaluator's load arc (whose cost grows with the load), reaches
// the proposal either through an explicit pair arc (pairs with affinity,
// bids, existing or fixed pairs) or through a hub shared by all evaluators of
// one language and group, climbs the proposal's expertise and group nodes and
// ends at the proposal, which sends exactly k units to T. The arc T->S closes
// the circulation.
//
// Node numbering is a pure function of the instance and the exploded
// (proposal, hub) pairs, so VerifyCertificate can rebuild it.

type edge struct {
	from, to   int32
	lower, cap int32
	cost       int64
}

type pairArc struct {
	eval int32
	edge int32
}

type hubArc struct {
	hub  int32
	edge int32
}

type hub struct {
	lang, sig int32
	node      int32
	members   []int32 // evaluators, ascending
}

// bonusNodes are the expertise nodes of one (proposal, group) class.
type bonusNodes struct {
	x, k int32 // nodes, -1 when absent
	// edges: capped bonus arc and uncapped free arc, -1 when absent
	xBonus, xFree, kBonus, kFree int32
}

type network struct {
	x     *index
	nodes int32
	edges []edge
	s, t  int32
	ts    int32 // T->S edge

	evalNode  []int32 // node of each evaluator
	hubs      []hub
	hubByKey  map[[2]int32]int32
	evalHub   [][]hubArc // per evaluator: E->H edges
	loadEdges [][]int32  // per evaluator, cheapest first

	pNode     []int32
	pEdge     []int32        // P->T
	classNode [][]int32      // per proposal per bound (rest is pNode)
	classEdge [][]int32      // C->P per bound
	bonus     [][]bonusNodes // per proposal per class (len(bounds)+1, last is rest)
	pExplicit [][]pairArc    // sorted by evaluator
	pHub      [][]hubArc
	exploded  map[uint64]bool // key: pairKey(hub, proposal)
	constant  int64           // removal cost of all existing pairs
}

// buildNetwork builds the relaxed network. exploded lists (hub, proposal)
// pairs whose hub arc is replaced by explicit arcs.
func buildNetwork(x *index, exploded map[uint64]bool) *network {
	in := x.in
	nw := &network{x: x, s: 0, t: 1, exploded: exploded}
	nw.nodes = int32(2 + len(in.Evaluators))
	newNode := func() int32 { nw.nodes++; return nw.nodes - 1 }
	addEdge := func(from, to int32, lower, cap int32, cost int64) int32 {
		nw.edges = append(nw.edges, edge{from, to, lower, cap, cost})
		return int32(len(nw.edges) - 1)
	}
	w := in.Weights
	D := int32(x.demand)
	// Evaluator nodes are numbered in an order drawn from the seed: the
	// solver breaks ties between equally good evaluators by node order.
	rng := rand.New(rand.NewPCG(uint64(in.Seed), 0x9e3779b97f4a7c15))
	nw.evalNode = make([]int32, len(in.Evaluators))
	for e, r := range rng.Perm(len(in.Evaluators)) {
		nw.evalNode[e] = int32(2 + r)
	}

	// How many proposals each evaluator could read bounds the useful load.
	propsInLang := make([]int32, len(in.Languages))
	for p := range in.Proposals {
		propsInLang[x.pLang[p]]++
	}

	nw.ts = addEdge(nw.t, nw.s, 0, D, 0)

	// Hubs: one per (language, signature) with at least one member.
	nw.hubByKey = map[[2]int32]int32{}
	for e := range in.Evaluators {
		for _, l := range x.eLangs[e] {
			key := [2]int32{l, x.eSig[e]}
			h, ok := nw.hubByKey[key]
			if !ok {
				h = int32(len(nw.hubs))
				nw.hubByKey[key] = h
				nw.hubs = append(nw.hubs, hub{lang: l, sig: x.eSig[e]})
			}
			nw.hubs[h].members = append(nw.hubs[h].members, int32(e))
		}
	}
	for h := range nw.hubs {
		nw.hubs[h].node = newNode()
	}
	hubsByLang := make([][]int32, len(in.Languages))
	for h, hb := range nw.hubs {
		hubsByLang[hb.lang] = append(hubsByLang[hb.lang], int32(h))
	}

	nw.loadEdges = make([][]int32, len(in.Evaluators))
	nw.evalHub = make([][]hubArc, len(in.Evaluators))
	for e := range in.Evaluators {
		en := nw.evalNode[e]
		var readable int32
		for _, l := range x.eLangs[e] {
			readable += propsInLang[l]
		}
		mx := min(x.eMax[e], readable, D)
		mx = max(mx, x.eMin[e])
		if w.Load == 0 {
			nw.loadEdges[e] = append(nw.loadEdges[e], addEdge(nw.s, en, x.eMin[e], mx, 0))
		} else {
			for j := int32(1); j <= mx; j++ {
				var lo int32
				if j <= x.eMin[e] {
					lo = 1
				}
				nw.loadEdges[e] = append(nw.loadEdges[e], addEdge(nw.s, en, lo, 1, w.Load*int64(j-1)))
			}
		}
		for _, l := range x.eLangs[e] {
			h := nw.hubByKey[[2]int32{l, x.eSig[e]}]
			nw.evalHub[e] = append(nw.evalHub[e], hubArc{h, addEdge(en, nw.hubs[h].node, 0, mx, 0)})
		}
	}

	// Per-proposal candidate lists for explicit arcs.
	extra := make([][]int32, len(in.Proposals))
	addExtra := func(key uint64) {
		e, p := int32(key>>32), int(uint32(key))
		extra[p] = append(extra[p], e)
	}
	for key := range x.bid {
		addExtra(key)
	}
	for key := range x.score {
		addExtra(key)
	}
	for key := range x.existing {
		addExtra(key)
	}
	for key := range x.fixed {
		addExtra(key)
	}
	// Every existing pair's removal cost is counted up front; keeping a
	// pair earns it back through the cheaper pair arc.
	nw.constant = w.Removal * int64(len(x.existing))

	stamp := make([]int32, len(in.Evaluators))
	for i := range stamp {
		stamp[i] = -1
	}
	nw.pNode = make([]int32, len(in.Proposals))
	nw.pEdge = make([]int32, len(in.Proposals))
	nw.classNode = make([][]int32, len(in.Proposals))
	nw.classEdge = make([][]int32, len(in.Proposals))
	nw.bonus = make([][]bonusNodes, len(in.Proposals))
	nw.pExplicit = make([][]pairArc, len(in.Proposals))
	nw.pHub = make([][]hubArc, len(in.Proposals))
	eo := w.expertOverlap()
	var cands []int32
	for p := range in.Proposals {
		pn := newNode()
		nw.pNode[p] = pn
		k := x.pK[p]
		nw.pEdge[p] = addEdge(pn, nw.t, k, k, 0)
		nb := len(x.pBounds[p])
		nw.classNode[p] = make([]int32, nb)
		nw.classEdge[p] = make([]int32, nb)
		for b, bd := range x.pBounds[p] {
			c := newNode()
			nw.classNode[p][b] = c
			nw.classEdge[p][b] = addEdge(c, pn, bd.min, bd.max, 0)
		}
		nw.bonus[p] = make([]bonusNodes, nb+1)
		for c := range nw.bonus[p] {
			nw.bonus[p][c] = bonusNodes{-1, -1, -1, -1, -1, -1}
		}
		classTarget := func(c int) int32 {
			if c < 0 {
				return pn
			}
			return nw.classNode[p][c]
		}
		// target returns the node an explicit arc of this class and level enters.
		var target func(c, level int) int32
		target = func(c, level int) int32 {
			ci := c
			if ci < 0 {
				ci = nb
			}
			bn := &nw.bonus[p][ci]
			switch {
			case level == levelExpert && w.ExpertBonus > 0:
				if bn.x < 0 {
					bn.x = newNode()
					up := target(c, levelKnowledgeable)
					bn.xBonus = addEdge(bn.x, up, 0, 1, -w.ExpertBonus)
					bn.xFree = addEdge(bn.x, up, 0, k, 0)
				}
				return bn.x
			case level >= levelKnowledgeable && w.KnowledgeableBonus > 0:
				if bn.k < 0 {
					bn.k = newNode()
					up := classTarget(c)
					bn.kBonus = addEdge(bn.k, up, 0, min(2, k), -w.KnowledgeableBonus)
					bn.kFree = addEdge(bn.k, up, 0, k, 0)
				}
				return bn.k
			}
			return classTarget(c)
		}

		// Explicit candidates: shared topics, bids, scores, existing, fixed.
		cands = cands[:0]
		mark := func(e int32) {
			if stamp[e] != int32(p) {
				stamp[e] = int32(p)
				cands = append(cands, e)
			}
		}
		for _, t := range x.pTopics[p] {
			for _, e := range x.topicEval[t] {
				mark(e)
			}
		}
		for _, e := range extra[p] {
			mark(e)
		}
		lang := int(x.pLang[p])
		for _, hID := range hubsByLang[lang] {
			if exploded[pairKey(int(hID), p)] {
				for _, e := range nw.hubs[hID].members {
					mark(e)
				}
			}
		}
		sort.Slice(cands, func(a, b int) bool { return cands[a] < cands[b] })
		for _, e32 := range cands {
			e := int(e32)
			key := pairKey(e, p)
			if _, b := x.blocked[key]; b || !x.reads(e, lang) {
				continue
			}
			ov := x.overlap(e, p)
			cost := x.pairCost(e, p, ov)
			if _, ok := x.existing[key]; ok {
				cost -= w.Removal
			}
			var lo int32
			if _, ok := x.fixed[key]; ok {
				lo = 1
			}
			explicit := cost != 0 || lo == 1 || ov > 0
			if !explicit {
				if _, ok := x.existing[key]; ok {
					explicit = true
				}
			}
			if !explicit {
				h := nw.hubByKey[[2]int32{int32(lang), x.eSig[e]}]
				explicit = exploded[pairKey(int(h), p)]
			}
			if !explicit {
				continue
			}
			to := target(x.class(e, p), levelOf(ov, eo))
			nw.pExplicit[p] = append(nw.pExplicit[p], pairArc{e32, addEdge(nw.evalNode[e], to, lo, 1, cost)})
		}
		for _, hID := range hubsByLang[lang] {
			if exploded[pairKey(int(hID), p)] {
				continue
			}
			c := int(x.pClass[p][nw.hubs[hID].sig])
			nw.pHub[p] = append(nw.pHub[p], hubArc{hID, addEdge(nw.hubs[hID].node, classTarget(c), 0, k, 0)})
		}
	}
	return nw
}

// pairCost is the affinity part of a pair's cost (negative is attractive).
func (x *index) pairCost(e, p, overlap int) int64 {
	w := x.in.Weights
	key := pairKey(e, p)
	return -(w.Topic*int64(overlap) + w.Similarity*x.score[key] + w.Bid*x.bid[key])
}

func (nw *network) explicitEdge(e, p int) int32 {
	list := nw.pExplicit[p]
	i := sort.Search(len(list), func(i int) bool { return list[i].eval >= int32(e) })
	if i < len(list) && list[i].eval == int32(e) {
		return list[i].edge
	}
	return -1
}

func (nw *network) hubEdge(h int32, p int) int32 {
	for _, ha := range nw.pHub[p] {
		if ha.hub == h {
			return ha.edge
		}
	}
	return -1
}

func sortedKeys(m map[uint64]struct{}) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
	return keys
}
