package assignment

import (
	"fmt"
	"math/rand/v2"
)

// GenerateOptions describe a synthetic call. Zero fields take the defaults
// noted.
type GenerateOptions struct {
	Proposals  int // default 100
	Evaluators int // default 30
	K          int // default 3
	Seed       int64
	// ConflictRate is the probability that a pair is a conflict of
	// interest; default 0.001. Negative means none.
	ConflictRate float64
	// Languages is how many of English, French, Spanish proposals use
	// (1 to 3); default 3.
	Languages int
	// GroupBounds adds "at least one ILO specialist" and "at most one from
	// the applicant's own constituency" to every proposal.
	GroupBounds bool
	// Topics is the size of the topic vocabulary; default 400 or a quarter
	// of the proposals, whichever is larger, so that each proposal has a
	// roughly constant handful of topical evaluators as calls grow.
	Topics int
	// BidsPerEvaluator is the number of bids each evaluator places;
	// default 10.
	BidsPerEvaluator int
	// Slack is the evaluators' total maximum load over the demand;
	// default 1.5.
	Slack float64
}

// Generate builds a seeded synthetic instance: proposals in English, French
// and Spanish from four constituencies, a pool of external evaluators and
// ILO specialists with sparse topic expertise, bids, a few similarity
// scores, conflicts and minimum loads. Loads are sized from the demand so
// that the instance is feasible in the usual case.
func Generate(opt GenerateOptions) *Instance {
	if opt.Proposals <= 0 {
		opt.Proposals = 100
	}
	if opt.Evaluators <= 0 {
		opt.Evaluators = 30
	}
	if opt.K <= 0 {
		opt.K = 3
	}
	if opt.ConflictRate == 0 {
		opt.ConflictRate = 0.001
	}
	if opt.Languages <= 0 || opt.Languages > 3 {
		opt.Languages = 3
	}
	if opt.Topics <= 0 {
		opt.Topics = max(400, opt.Proposals/4)
	}
	if opt.BidsPerEvaluator == 0 {
		opt.BidsPerEvaluator = 10
	}
	if opt.Slack <= 0 {
		opt.Slack = 1.5
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x5851f42d4c957f2d))
	langs := []string{"en", "fr", "es"}[:opt.Languages]
	langShare := []float64{0.6, 0.25, 0.15}[:opt.Languages]
	readShare := []float64{0.85, 0.4, 0.3}
	constituencies := []string{"government", "employers", "workers", "civil_society"}
	in := &Instance{
		K:         opt.K,
		Languages: langs,
		Weights: Weights{Topic: 10, Similarity: 1, Bid: 2, ExpertBonus: 15, KnowledgeableBonus: 5,
			Load: 2, Removal: 20},
		Seed: opt.Seed,
	}
	topic := func() string { return fmt.Sprintf("t%04d", rng.IntN(opt.Topics)) }
	pickLang := func() int {
		r := rng.Float64()
		var acc float64
		for i, s := range langShare {
			acc += s
			if r < acc {
				return i
			}
		}
		return 0
	}
	// A proposal language needs readers among specialists too; the first
	// specialists read every language in use.
	nSpec := max(opt.Evaluators*15/100, 1)
	if !opt.GroupBounds {
		nSpec = 0
	}
	nExt := opt.Evaluators - nSpec
	demand := opt.Proposals * opt.K
	specDemand := opt.Proposals // at least one specialist each
	extDemand := demand - specDemand
	if !opt.GroupBounds {
		specDemand, extDemand = 0, demand
	}
	capFor := func(d, n int) int {
		if n == 0 {
			return 0
		}
		return max(1, int(opt.Slack*float64(d)/float64(n)+0.999))
	}
	specMax, extMax := capFor(specDemand, nSpec), capFor(extDemand, nExt)
	for i := range opt.Evaluators {
		ev := Evaluator{ID: fmt.Sprintf("E%04d", i+1)}
		spec := i < nSpec
		for l := range langs {
			if rng.Float64() < readShare[l] || (spec && i < len(langs)*2) {
				ev.Languages = append(ev.Languages, langs[l])
			}
		}
		if len(ev.Languages) == 0 {
			ev.Languages = []string{langs[pickLang()]}
		}
		if spec {
			ev.Group = "ilo_specialist"
			ev.MaxLoad = specMax + rng.IntN(3)
		} else {
			ev.Group = "external"
			ev.Constituency = constituencies[rng.IntN(len(constituencies))]
			ev.MaxLoad = extMax + rng.IntN(3)
		}
		if rng.IntN(4) == 0 {
			ev.MinLoad = min(ev.MaxLoad, 1+rng.IntN(2))
		}
		for range 3 + rng.IntN(3) {
			ev.Expertise = append(ev.Expertise, topic())
		}
		in.Evaluators = append(in.Evaluators, ev)
	}
	for i := range opt.Proposals {
		p := Proposal{
			ID:           fmt.Sprintf("P%05d", i+1),
			Language:     langs[pickLang()],
			Constituency: constituencies[rng.IntN(len(constituencies))],
		}
		for range 2 + rng.IntN(2) {
			p.Topics = append(p.Topics, topic())
		}
		in.Proposals = append(in.Proposals, p)
	}
	if opt.GroupBounds {
		one := 1
		in.Bounds = []GroupBound{
			{Group: "ilo_specialist", Min: 1},
			{OwnConstituency: true, Max: &one},
		}
	}
	// Sparse pairs: bids and similarity scores, unique per pair.
	used := map[[2]int]bool{}
	for e := range opt.Evaluators {
		for range opt.BidsPerEvaluator {
			p := rng.IntN(opt.Proposals)
			if used[[2]int{e, p}] {
				continue
			}
			used[[2]int{e, p}] = true
			in.Bids = append(in.Bids, Bid{Evaluator: in.Evaluators[e].ID, Proposal: in.Proposals[p].ID, Bid: rng.IntN(7) - 2})
		}
	}
	clear(used)
	for p := range opt.Proposals {
		for range 3 {
			e := rng.IntN(opt.Evaluators)
			if used[[2]int{e, p}] {
				continue
			}
			used[[2]int{e, p}] = true
			in.Affinities = append(in.Affinities, Affinity{Evaluator: in.Evaluators[e].ID, Proposal: in.Proposals[p].ID, Score: rng.IntN(30)})
		}
	}
	// Conflicts: about ConflictRate of all pairs, drawn without scanning them.
	if opt.ConflictRate > 0 {
		n := int(opt.ConflictRate * float64(opt.Proposals) * float64(opt.Evaluators))
		clear(used)
		for range n {
			e, p := rng.IntN(opt.Evaluators), rng.IntN(opt.Proposals)
			if used[[2]int{e, p}] {
				continue
			}
			used[[2]int{e, p}] = true
			in.Conflicts = append(in.Conflicts, Pair{Evaluator: in.Evaluators[e].ID, Proposal: in.Proposals[p].ID})
		}
	}
	return in
}
