package scoring

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GenerateOptions describe a synthetic call. Zero values take the defaults
// noted on each field.
type GenerateOptions struct {
	Proposals          int // default 200
	Evaluators         int // default 40
	ReviewsPerProposal int // default 3 (capped at the evaluators per group)
	Criteria           int // default 3
	// Groups splits proposals and evaluators into this many panels that
	// never share a proposal, giving a disconnected graph (default 1).
	Groups int
	// Scale of every criterion (default 0-5 in half points); Step 0 gives
	// unrounded scores.
	Scale *Scale
	// Centre is the score an average evaluator gives an average proposal
	// (default the middle of the scale).
	Centre *float64
	// MeritSD, LeniencySD and NoiseSD are the standard deviations of the
	// planted merit, planted leniency and per-score noise (defaults 0.8,
	// 0.5, 0.4 score points).
	MeritSD, LeniencySD, NoiseSD float64
	// MissingRate is the chance that a review leaves a criterion out
	// (default 0); every review keeps at least one score and the first
	// review of each proposal is complete.
	MissingRate float64
	Seed        uint64
}

// Generate builds a seeded synthetic instance: each proposal has a planted
// merit, each evaluator a planted leniency, and every score is centre +
// merit + leniency + noise, rounded to the scale's step and clamped to it.
// Evaluators get near-equal loads. The planted values are returned in
// Instance.Planted. The same options always give the same instance.
func Generate(opt GenerateOptions) *Instance {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opt.Proposals, 200)
	def(&opt.Evaluators, 40)
	def(&opt.ReviewsPerProposal, 3)
	def(&opt.Criteria, 3)
	def(&opt.Groups, 1)
	opt.Groups = min(opt.Groups, opt.Proposals, opt.Evaluators)
	defF := func(v *float64, d float64) {
		if *v <= 0 || !finite(*v) {
			*v = d
		}
	}
	defF(&opt.MeritSD, 0.8)
	defF(&opt.LeniencySD, 0.5)
	defF(&opt.NoiseSD, 0.4)
	scale := DefaultScale()
	if opt.Scale != nil {
		scale = *opt.Scale
	}
	centre := (scale.Min + scale.Max) / 2
	if opt.Centre != nil {
		centre = *opt.Centre
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x67656e)) // "gen"

	in := &Instance{Seed: opt.Seed, Planted: &Planted{Merit: map[string]float64{}, Leniency: map[string]float64{}}}
	regions := []string{"Africa", "Americas", "Arab States", "Asia and the Pacific", "Europe and Central Asia"}
	types := []string{"workers", "employers", "government", "start-up"}
	for c := 0; c < opt.Criteria; c++ {
		sc := scale
		in.Criteria = append(in.Criteria, Criterion{ID: fmt.Sprintf("c%d", c+1), Weight: 1, Scale: &sc, Priority: c + 1})
	}
	width := len(fmt.Sprint(opt.Proposals))
	ewidth := len(fmt.Sprint(opt.Evaluators))
	pid := func(i int) string { return fmt.Sprintf("P%0*d", width, i+1) }
	eid := func(i int) string { return fmt.Sprintf("E%0*d", ewidth, i+1) }
	for p := 0; p < opt.Proposals; p++ {
		in.Proposals = append(in.Proposals, Proposal{ID: pid(p), Region: regions[rng.IntN(len(regions))], ConstituentType: types[rng.IntN(len(types))]})
		in.Planted.Merit[pid(p)] = opt.MeritSD * rng.NormFloat64()
	}
	for e := 0; e < opt.Evaluators; e++ {
		in.Planted.Leniency[eid(e)] = opt.LeniencySD * rng.NormFloat64()
	}
	// Proposal p and evaluator e belong to group p%G and e%G.
	for g := 0; g < opt.Groups; g++ {
		var evals []int
		for e := g; e < opt.Evaluators; e += opt.Groups {
			evals = append(evals, e)
		}
		k := min(opt.ReviewsPerProposal, len(evals))
		q := &evaluatorQueue{rng: rng, n: len(evals)}
		for p := g; p < opt.Proposals; p += opt.Groups {
			for n, j := range q.take(k) {
				// The first review of a proposal is complete so that every
				// criterion has at least one score and the instance is valid.
				in.Reviews = append(in.Reviews, genReview(rng, in, opt, scale, centre, pid(p), eid(evals[j]), n == 0))
			}
		}
	}
	line := max(1, opt.Proposals/5)
	in.FundingLine = &line
	return in
}

// evaluatorQueue deals evaluators from successive random permutations, so
// loads stay within one of each other and panels mix.
type evaluatorQueue struct {
	rng   *rand.Rand
	n     int
	order []int
	pos   int
}

func (q *evaluatorQueue) take(k int) []int {
	chosen := make([]int, 0, k)
	for len(chosen) < k {
		if q.pos == len(q.order) {
			q.order, q.pos = q.rng.Perm(q.n), 0
		}
		j := q.order[q.pos]
		q.pos++
		if !contains(chosen, j) {
			chosen = append(chosen, j)
		}
	}
	return chosen
}

func contains(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func genReview(rng *rand.Rand, in *Instance, opt GenerateOptions, scale Scale, centre float64, p, e string, complete bool) Review {
	// Confidence mostly 3-4, as in real panels.
	conf := []int{1, 2, 3, 3, 3, 4, 4, 4, 5, 5}[rng.IntN(10)]
	r := Review{ProposalID: p, EvaluatorID: e, Confidence: conf, Scores: map[string]float64{}}
	truth := centre + in.Planted.Merit[p] + in.Planted.Leniency[e]
	for i, c := range in.Criteria {
		last := i == len(in.Criteria)-1
		if !complete && opt.MissingRate > 0 && rng.Float64() < opt.MissingRate && !(last && len(r.Scores) == 0) {
			continue
		}
		// Noise shrinks with confidence: Var = NoiseSD^2 * 3/confidence.
		v := truth + opt.NoiseSD*math.Sqrt(3/float64(conf))*rng.NormFloat64()
		if scale.Step > 0 {
			v = scale.Min + math.Round((v-scale.Min)/scale.Step)*scale.Step
		}
		r.Scores[c.ID] = math.Min(scale.Max, math.Max(scale.Min, v))
	}
	return r
}
