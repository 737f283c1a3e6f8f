package assignment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// smallInstance draws a tiny random instance that exercises every rule:
// languages, groups with bounds, conflicts, forbidden, fixed and existing
// pairs, bids, scores, topics, minimum loads.
func smallInstance(seed uint64) *Instance {
	rng := rand.New(rand.NewPCG(seed, 7))
	nP, nE := 2+rng.IntN(3), 3+rng.IntN(3)
	in := &Instance{
		K:         1 + rng.IntN(2),
		Languages: []string{"en", "fr"},
		Weights: Weights{
			Topic: int64(rng.IntN(6)), Similarity: int64(rng.IntN(3)), Bid: int64(rng.IntN(4)),
			ExpertBonus: int64(rng.IntN(8)), KnowledgeableBonus: int64(rng.IntN(5)),
			Load: int64(rng.IntN(4)), Removal: int64(rng.IntN(10)),
		},
		Seed: int64(seed),
	}
	topics := []string{"labour", "skills", "migration", "social_protection"}
	cons := []string{"workers", "employers"}
	for i := range nE {
		ev := Evaluator{ID: fmt.Sprintf("e%d", i), MaxLoad: 1 + rng.IntN(4)}
		ev.MinLoad = rng.IntN(ev.MaxLoad + 1)
		if rng.IntN(3) > 0 {
			ev.MinLoad = 0
		}
		switch rng.IntN(4) {
		case 0:
			ev.Languages = []string{"fr"}
		case 1:
			ev.Languages = []string{"en", "fr"}
		default:
			ev.Languages = []string{"en"}
		}
		if rng.IntN(3) == 0 {
			ev.Group = "ilo_specialist"
		} else {
			ev.Group = "external"
			ev.Constituency = cons[rng.IntN(2)]
		}
		for _, t := range topics {
			if rng.IntN(3) == 0 {
				ev.Expertise = append(ev.Expertise, t)
			}
		}
		in.Evaluators = append(in.Evaluators, ev)
	}
	for i := range nP {
		p := Proposal{ID: fmt.Sprintf("p%d", i), Language: "en", Constituency: cons[rng.IntN(2)]}
		if rng.IntN(4) == 0 {
			p.Language = "fr"
		}
		if rng.IntN(5) == 0 {
			p.K = 1 + rng.IntN(2)
		}
		for _, t := range topics {
			if rng.IntN(2) == 0 {
				p.Topics = append(p.Topics, t)
			}
		}
		if rng.IntN(2) == 0 {
			p.Bounds = append(p.Bounds, GroupBound{Group: "ilo_specialist", Min: rng.IntN(2)})
		}
		if rng.IntN(2) == 0 {
			one := rng.IntN(2)
			p.Bounds = append(p.Bounds, GroupBound{OwnConstituency: true, Max: &one})
		}
		in.Proposals = append(in.Proposals, p)
	}
	seen := map[[2]int]bool{}
	pick := func() (Pair, bool) {
		e, p := rng.IntN(nE), rng.IntN(nP)
		if seen[[2]int{e, p}] {
			return Pair{}, false
		}
		seen[[2]int{e, p}] = true
		return Pair{Evaluator: in.Evaluators[e].ID, Proposal: in.Proposals[p].ID}, true
	}
	for range rng.IntN(3) {
		if pr, ok := pick(); ok {
			in.Conflicts = append(in.Conflicts, pr)
		}
	}
	for range rng.IntN(2) {
		if pr, ok := pick(); ok {
			in.Forbidden = append(in.Forbidden, pr)
		}
	}
	if rng.IntN(3) == 0 {
		if pr, ok := pick(); ok {
			in.Fixed = append(in.Fixed, pr)
		}
	}
	for range rng.IntN(3) {
		if pr, ok := pick(); ok {
			in.Existing = append(in.Existing, pr)
		}
	}
	clear(seen)
	for range rng.IntN(4) {
		if pr, ok := pick(); ok {
			in.Bids = append(in.Bids, Bid{Evaluator: pr.Evaluator, Proposal: pr.Proposal, Bid: rng.IntN(7) - 3})
		}
	}
	clear(seen)
	for range rng.IntN(3) {
		if pr, ok := pick(); ok {
			in.Affinities = append(in.Affinities, Affinity{Evaluator: pr.Evaluator, Proposal: pr.Proposal, Score: rng.IntN(10)})
		}
	}
	return in
}

// bruteForce enumerates every choice of k evaluators per proposal and
// returns the best objective according to the reference cost model, or
// false when no choice satisfies the hard constraints.
func bruteForce(t *testing.T, in *Instance) (int64, bool) {
	x, err := newIndex(in)
	if err != nil {
		t.Fatal(err)
	}
	best, found := int64(0), false
	load := make([]int, len(in.Evaluators))
	var pairs []Pair
	var rec func(p int)
	rec = func(p int) {
		if p == len(in.Proposals) {
			ev, err := evaluate(x, pairs)
			if err != nil {
				return
			}
			if !found || ev.objective < best {
				best, found = ev.objective, true
			}
			return
		}
		k := int(x.pK[p])
		var choose func(start, left int)
		choose = func(start, left int) {
			if left == 0 {
				rec(p + 1)
				return
			}
			for e := start; e < len(in.Evaluators); e++ {
				if load[e] >= in.Evaluators[e].MaxLoad || !x.reads(e, int(x.pLang[p])) {
					continue
				}
				if _, blocked := x.blocked[pairKey(e, p)]; blocked {
					continue
				}
				load[e]++
				pairs = append(pairs, Pair{Evaluator: in.Evaluators[e].ID, Proposal: in.Proposals[p].ID})
				choose(e+1, left-1)
				pairs = pairs[:len(pairs)-1]
				load[e]--
			}
		}
		choose(0, k)
	}
	rec(0)
	return best, found
}

func TestSolveMatchesBruteForce(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	var solved, infeasible, invalid, exploded int
	for seed := range uint64(n) {
		in := smallInstance(seed)
		if err := in.Validate(); err != nil {
			invalid++
			continue
		}
		want, ok := bruteForce(t, in)
		res, err := Solve(context.Background(), in, Options{})
		if !ok {
			var ie *InfeasibleError
			if !errors.As(err, &ie) {
				t.Fatalf("seed %d: brute force finds no assignment, Solve returned %v", seed, err)
			}
			infeasible++
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: brute force optimum %d, Solve failed: %v", seed, want, err)
		}
		if res.Objective != want {
			t.Fatalf("seed %d: Solve objective %d, brute force %d", seed, res.Objective, want)
		}
		if err := VerifyCertificate(in, res); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		solved++
		exploded += len(res.Certificate.Exploded)
	}
	t.Logf("%d solved to the brute-force optimum, %d infeasible (agreed), %d invalid draws; %d hub explosions",
		solved, infeasible, invalid, exploded)
	if solved < n/4 || infeasible == 0 {
		t.Fatalf("test instances are unbalanced: %d solved, %d infeasible", solved, infeasible)
	}
}
