package assignment

import (
	"errors"
	"fmt"
	"sort"
)

// evaluation is the reference cost model: it checks the hard constraints and
// prices an assignment directly from the instance, without the network.
type evaluation struct {
	objective   int64
	assignments []Assignment
	loads       []EvaluatorLoad
	removed     []RemovedPair
}

func evaluate(x *index, pairs []Pair) (*evaluation, error) {
	in := x.in
	w := in.Weights
	type item struct {
		e, p  int
		level int
		class int
	}
	byProp := make([][]item, len(in.Proposals))
	seen := make(map[uint64]bool, len(pairs))
	load := make([]int, len(in.Evaluators))
	for _, pr := range pairs {
		e, ok := x.evalIdx[pr.Evaluator]
		if !ok {
			return nil, fmt.Errorf("unknown evaluator %q", pr.Evaluator)
		}
		p, ok := x.propIdx[pr.Proposal]
		if !ok {
			return nil, fmt.Errorf("unknown proposal %q", pr.Proposal)
		}
		key := pairKey(e, p)
		if seen[key] {
			return nil, fmt.Errorf("evaluator %q assigned twice to proposal %q", pr.Evaluator, pr.Proposal)
		}
		seen[key] = true
		if _, c := x.conflict[key]; c {
			return nil, fmt.Errorf("evaluator %q has a conflict with proposal %q", pr.Evaluator, pr.Proposal)
		}
		if _, f := x.blocked[key]; f {
			return nil, fmt.Errorf("evaluator %q is forbidden for proposal %q", pr.Evaluator, pr.Proposal)
		}
		prop, ev := in.Proposals[p], in.Evaluators[e]
		readsIt := false
		for _, l := range ev.Languages {
			readsIt = readsIt || l == prop.Language
		}
		if !readsIt {
			return nil, fmt.Errorf("evaluator %q does not read %s, the language of proposal %q", ev.ID, prop.Language, prop.ID)
		}
		ov := 0
		for _, t := range dedupe(prop.Topics) {
			for _, s := range ev.Expertise {
				if s == t {
					ov++
					break
				}
			}
		}
		class := -1
		for b, bd := range x.pBounds[p] {
			if bd.sel.matches(signature{ev.Group, ev.Constituency}, prop.Constituency) {
				class = b
			}
		}
		byProp[p] = append(byProp[p], item{e, p, levelOf(ov, w.expertOverlap()), class})
		load[e]++
	}
	for key := range x.fixed {
		if !seen[key] {
			e, p := int(key>>32), int(uint32(key))
			return nil, fmt.Errorf("fixed pair (%s, %s) is not assigned", in.Evaluators[e].ID, in.Proposals[p].ID)
		}
	}
	for e, ev := range in.Evaluators {
		if load[e] < ev.MinLoad || load[e] > ev.MaxLoad {
			return nil, fmt.Errorf("evaluator %q has %d reviews, outside [%d, %d]", ev.ID, load[e], ev.MinLoad, ev.MaxLoad)
		}
	}
	out := &evaluation{}
	// Load costs are charged in proposal order: walk proposals in order.
	seq := make([]int, len(in.Evaluators))
	for p, items := range byProp {
		prop := in.Proposals[p]
		if len(items) != int(x.pK[p]) {
			return nil, fmt.Errorf("proposal %q has %d evaluators, needs %d", prop.ID, len(items), x.pK[p])
		}
		for b, bd := range x.pBounds[p] {
			n := 0
			for _, it := range items {
				if it.class == b {
					n++
				}
			}
			if n < int(bd.min) || n > int(bd.max) {
				return nil, fmt.Errorf("proposal %q has %d evaluators from %s, allowed [%d, %d]", prop.ID, n, bd.sel.describe(), bd.min, bd.max)
			}
		}
		// Expertise bonus within each class: the first expert, then up to
		// two knowledgeable (experts count as knowledgeable).
		sort.SliceStable(items, func(a, b int) bool {
			if items[a].class != items[b].class {
				return items[a].class < items[b].class
			}
			if items[a].level != items[b].level {
				return items[a].level > items[b].level
			}
			return items[a].e < items[b].e
		})
		bonus := make([]int64, len(items))
		for i := 0; i < len(items); {
			j := i
			for j < len(items) && items[j].class == items[i].class {
				j++
			}
			experts, knowing := 0, 0
			for t := i; t < j; t++ {
				if items[t].level == levelExpert && experts < 1 {
					experts++
					bonus[t] -= w.ExpertBonus
				}
				if items[t].level >= levelKnowledgeable && knowing < 2 {
					knowing++
					bonus[t] -= w.KnowledgeableBonus
				}
			}
			i = j
		}
		// Report in evaluator order.
		order := make([]int, len(items))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return items[order[a]].e < items[order[b]].e })
		for _, i := range order {
			it := items[i]
			e := it.e
			key := pairKey(e, p)
			ov := 0
			for _, t := range dedupe(prop.Topics) {
				for _, s := range in.Evaluators[e].Expertise {
					if s == t {
						ov++
						break
					}
				}
			}
			c := PairCost{
				Topic:      -w.Topic * int64(ov),
				Similarity: -w.Similarity * x.score[key],
				Bid:        -w.Bid * x.bid[key],
				Expertise:  bonus[i],
				Load:       w.Load * int64(seq[e]),
			}
			seq[e]++
			c.Total = c.Topic + c.Similarity + c.Bid + c.Expertise + c.Load
			out.objective += c.Total
			a := Assignment{Proposal: prop.ID, Evaluator: in.Evaluators[e].ID, Cost: c}
			switch it.level {
			case levelExpert:
				a.Expertise = "expert"
			case levelKnowledgeable:
				a.Expertise = "knowledgeable"
			}
			_, a.Fixed = x.fixed[key]
			_, a.Kept = x.existing[key]
			out.assignments = append(out.assignments, a)
		}
	}
	for e, ev := range in.Evaluators {
		n := int64(load[e])
		out.loads = append(out.loads, EvaluatorLoad{Evaluator: ev.ID, Load: load[e], LoadCost: w.Load * n * (n - 1) / 2})
	}
	for _, key := range sortedKeys(x.existing) {
		if seen[key] {
			continue
		}
		e, p := int(key>>32), int(uint32(key))
		reason := "cheaper"
		if _, c := x.conflict[key]; c {
			reason = "conflict"
		} else if _, f := x.blocked[key]; f {
			reason = "forbidden"
		} else if !x.reads(e, int(x.pLang[p])) {
			reason = "language"
		}
		out.removed = append(out.removed, RemovedPair{Evaluator: in.Evaluators[e].ID, Proposal: in.Proposals[p].ID, Cost: w.Removal, Reason: reason})
		out.objective += w.Removal
	}
	return out, nil
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// VerifyCertificate checks a result against its instance without trusting
// the solver: the input hash, every hard constraint, the objective and cost
// breakdown recomputed from the instance, and the optimality certificate
// (complementary slackness of the node potentials on the rebuilt network).
func VerifyCertificate(in *Instance, res *Result) error {
	if res == nil {
		return errors.New("assignment: verify: nil result")
	}
	x, err := newIndex(in)
	if err != nil {
		return fmt.Errorf("assignment: verify: %w", err)
	}
	if h := in.Hash(); h != res.InputHash {
		return fmt.Errorf("assignment: verify: input hash %s does not match the instance (%s)", res.InputHash, h)
	}
	if res.Seed != in.Seed {
		return fmt.Errorf("assignment: verify: seed %d differs from the instance's %d", res.Seed, in.Seed)
	}
	pairs := make([]Pair, len(res.Assignments))
	for i, a := range res.Assignments {
		pairs[i] = Pair{Evaluator: a.Evaluator, Proposal: a.Proposal}
	}
	ev, err := evaluate(x, pairs)
	if err != nil {
		return fmt.Errorf("assignment: verify: %w", err)
	}
	if ev.objective != res.Objective {
		return fmt.Errorf("assignment: verify: objective %d, recomputed %d", res.Objective, ev.objective)
	}
	var sum int64
	for _, a := range res.Assignments {
		c := a.Cost
		if c.Total != c.Topic+c.Similarity+c.Bid+c.Expertise+c.Load {
			return fmt.Errorf("assignment: verify: cost parts of (%s, %s) do not add up to %d", a.Evaluator, a.Proposal, c.Total)
		}
		sum += c.Total
	}
	for _, r := range res.Removed {
		sum += r.Cost
	}
	if sum != res.Objective {
		return fmt.Errorf("assignment: verify: breakdown adds up to %d, objective is %d", sum, res.Objective)
	}
	exploded, err := explodedKeys(x, res.Certificate.Exploded)
	if err != nil {
		return fmt.Errorf("assignment: verify: %w", err)
	}
	nw := buildNetwork(x, exploded)
	if err := checkCertificate(x, nw, res); err != nil {
		return fmt.Errorf("assignment: verify: %w", err)
	}
	if !res.Optimal {
		return errors.New("assignment: verify: certificate holds but the result is not marked optimal")
	}
	return nil
}

func explodedKeys(x *index, list []ExplodedHub) (map[uint64]bool, error) {
	// Hub numbering follows buildNetwork: first appearance of (language,
	// signature) in evaluator order.
	hubs := map[[2]int32]int32{}
	for e := range x.in.Evaluators {
		for _, l := range x.eLangs[e] {
			key := [2]int32{l, x.eSig[e]}
			if _, ok := hubs[key]; !ok {
				hubs[key] = int32(len(hubs))
			}
		}
	}
	sigIdx := map[signature]int32{}
	for i, s := range x.sigs {
		sigIdx[s] = int32(i)
	}
	out := make(map[uint64]bool, len(list))
	for _, ex := range list {
		p, ok := x.propIdx[ex.Proposal]
		if !ok {
			return nil, fmt.Errorf("exploded hub names unknown proposal %q", ex.Proposal)
		}
		l, ok := x.langIdx[ex.Language]
		s, ok2 := sigIdx[signature{ex.Group, ex.Constituency}]
		if !ok || !ok2 {
			return nil, fmt.Errorf("exploded hub (%s, %s, %s) does not exist", ex.Language, ex.Group, ex.Constituency)
		}
		h, ok := hubs[[2]int32{int32(l), s}]
		if !ok {
			return nil, fmt.Errorf("exploded hub (%s, %s, %s) does not exist", ex.Language, ex.Group, ex.Constituency)
		}
		out[pairKey(int(h), p)] = true
	}
	return out, nil
}

// checkCertificate maps the result's pairs onto the network as a
// circulation and checks bounds, conservation, cost and complementary
// slackness: an arc that can carry more flow must have a non-negative
// reduced cost, an arc above its lower bound a non-positive one. Together
// these mean the residual network has no negative cycle, so the flow, and
// hence the assignment, is of minimum cost. Every assignment satisfying the
// hard constraints maps onto the network at its true cost, so the network's
// optimum is a lower bound that this assignment attains.
func checkCertificate(x *index, nw *network, res *Result) error {
	c := res.Certificate
	if c.Nodes != int(nw.nodes) || len(c.Potentials) != int(nw.nodes) || c.Arcs != len(nw.edges) {
		return fmt.Errorf("certificate describes %d nodes, %d arcs and %d potentials; the network has %d nodes and %d arcs",
			c.Nodes, c.Arcs, len(c.Potentials), nw.nodes, len(nw.edges))
	}
	in := x.in
	flow := make([]int64, len(nw.edges))
	load := make([]int32, len(in.Evaluators))
	// inflow per bonus node (x or k), keyed by node id
	bonusIn := map[int32]int64{}
	for _, a := range res.Assignments {
		e, ok := x.evalIdx[a.Evaluator]
		p, ok2 := x.propIdx[a.Proposal]
		if !ok || !ok2 {
			return fmt.Errorf("pair (%s, %s) names an unknown evaluator or proposal", a.Evaluator, a.Proposal)
		}
		load[e]++
		if ed := nw.explicitEdge(e, p); ed >= 0 {
			flow[ed]++
			bonusIn[nw.edges[ed].to]++
			continue
		}
		h, ok := nw.hubByKey[[2]int32{x.pLang[p], x.eSig[e]}]
		if !ok {
			return fmt.Errorf("pair (%s, %s) has no route in the network", a.Evaluator, a.Proposal)
		}
		he := nw.hubEdge(h, p)
		if he < 0 {
			return fmt.Errorf("pair (%s, %s) has no route in the network", a.Evaluator, a.Proposal)
		}
		flow[he]++
		found := false
		for _, ha := range nw.evalHub[e] {
			if ha.hub == h {
				flow[ha.edge]++
				found = true
			}
		}
		if !found {
			return fmt.Errorf("evaluator %s has no arc to its hub", a.Evaluator)
		}
	}
	// Expertise nodes: the bonus arcs fill first.
	for p := range nw.bonus {
		for ci := range nw.bonus[p] {
			bn := nw.bonus[p][ci]
			if bn.x >= 0 {
				f := bonusIn[bn.x]
				b := min(f, int64(nw.edges[bn.xBonus].cap))
				flow[bn.xBonus], flow[bn.xFree] = b, f-b
				bonusIn[nw.edges[bn.xBonus].to] += f
			}
		}
		for ci := range nw.bonus[p] {
			bn := nw.bonus[p][ci]
			if bn.k >= 0 {
				f := bonusIn[bn.k]
				b := min(f, int64(nw.edges[bn.kBonus].cap))
				flow[bn.kBonus], flow[bn.kFree] = b, f-b
			}
		}
	}
	// Classes, proposals, loads: flow conservation determines the rest.
	inflow := make([]int64, nw.nodes)
	for i, ed := range nw.edges {
		inflow[ed.to] += flow[i]
	}
	for p := range nw.classEdge {
		for b, ed := range nw.classEdge[p] {
			flow[ed] = inflow[nw.classNode[p][b]]
		}
		flow[nw.pEdge[p]] = int64(x.pK[p])
	}
	flow[nw.ts] = x.demand
	for e := range in.Evaluators {
		left := int64(load[e])
		for _, ed := range nw.loadEdges[e] {
			f := min(left, int64(nw.edges[ed].cap))
			flow[ed] = f
			left -= f
		}
		if left > 0 {
			return fmt.Errorf("evaluator %s's load %d exceeds the network's capacity", in.Evaluators[e].ID, load[e])
		}
	}
	bal := make([]int64, nw.nodes)
	var cost int64
	for i, ed := range nw.edges {
		f := flow[i]
		if f < int64(ed.lower) || f > int64(ed.cap) {
			return fmt.Errorf("arc %d (%d->%d) carries %d, outside [%d, %d]", i, ed.from, ed.to, f, ed.lower, ed.cap)
		}
		bal[ed.from] -= f
		bal[ed.to] += f
		cost += f * ed.cost
		rc := ed.cost + c.Potentials[ed.from] - c.Potentials[ed.to]
		if f < int64(ed.cap) && rc < 0 {
			return fmt.Errorf("arc %d (%d->%d) could carry more flow at reduced cost %d: a cheaper assignment may exist", i, ed.from, ed.to, rc)
		}
		if f > int64(ed.lower) && rc > 0 {
			return fmt.Errorf("arc %d (%d->%d) could carry less flow at reduced cost -%d: a cheaper assignment may exist", i, ed.from, ed.to, rc)
		}
	}
	for v, b := range bal {
		if b != 0 {
			return fmt.Errorf("node %d is unbalanced by %d", v, b)
		}
	}
	if cost+nw.constant != res.Objective {
		return fmt.Errorf("network cost %d + removal constant %d differs from the objective %d", cost, nw.constant, res.Objective)
	}
	return nil
}
