package scoring

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Observation is one score entering calibration: what evaluator gave
// proposal, with the review's weight (confidence/3 in Analyse).
type Observation struct {
	Proposal  string  `json:"proposal"`
	Evaluator string  `json:"evaluator"`
	Score     float64 `json:"score"`
	Weight    float64 `json:"weight"`
}

// CalibrationOptions are the ridge penalties and the stopping rule.
type CalibrationOptions struct {
	// LambdaF shrinks merits toward the component mean; LambdaB shrinks
	// leniencies toward zero. Both are in units of review weight, so an
	// evaluator whose reviews weigh W in total keeps W/(W+LambdaB) of the
	// leniency the data show.
	LambdaF float64 `json:"lambda_f"`
	LambdaB float64 `json:"lambda_b"`
	// Tolerance: stop when no parameter changes by more than this.
	Tolerance     float64 `json:"tolerance"`
	MaxIterations int     `json:"max_iterations"`
}

// DefaultCalibrationOptions returns the defaults used by Analyse.
func DefaultCalibrationOptions() CalibrationOptions {
	return CalibrationOptions{LambdaF: DefaultLambdaF, LambdaB: DefaultLambdaB, Tolerance: DefaultTolerance, MaxIterations: DefaultMaxIterations}
}

// Calibration is the fitted model y = mu + merit + leniency + noise.
type Calibration struct {
	Proposals  []CalibratedProposal `json:"proposals"`
	Evaluators []EvaluatorLeniency  `json:"evaluators"`
	// Components of the evaluator-proposal graph, largest first. Scores are
	// comparable only within a component, since each has its own mean.
	Components []Component `json:"components"`
	// ResidualVariance is the noise variance of a weight-1 review.
	ResidualVariance float64 `json:"residual_variance"`
	// DegreesOfFreedom is the number of reviews less the effective number of
	// fitted parameters (each shrunk parameter counts W/(W+lambda)).
	DegreesOfFreedom float64  `json:"degrees_of_freedom"`
	Iterations       int      `json:"iterations"`
	Converged        bool     `json:"converged"`
	Warnings         []string `json:"warnings,omitempty"`
}

// CalibratedProposal is one proposal's raw and calibrated score side by side.
type CalibratedProposal struct {
	ID        string `json:"id"`
	Component int    `json:"component"`
	Reviews   int    `json:"reviews"`
	// Weight is the total weight of its reviews.
	Weight float64 `json:"weight"`
	// RawMean is the plain mean of its scores.
	RawMean float64 `json:"raw_mean"`
	// Merit is f_p, relative to its component's mean.
	Merit float64 `json:"merit"`
	// Calibrated is mu + f_p: the score an average evaluator would give.
	Calibrated float64 `json:"calibrated"`
	// SE is the approximate posterior standard deviation of Calibrated.
	SE float64 `json:"se"`
}

// EvaluatorLeniency is one evaluator's fitted leniency.
type EvaluatorLeniency struct {
	ID        string  `json:"id"`
	Component int     `json:"component"`
	Reviews   int     `json:"reviews"`
	Weight    float64 `json:"weight"`
	// Leniency b_r: how much higher than an average evaluator this one scores.
	Leniency float64 `json:"leniency"`
	// Shrinkage is LambdaB/(Weight+LambdaB): the share of the observed
	// leniency pulled back to zero because the evaluator wrote few reviews.
	Shrinkage float64 `json:"shrinkage"`
	SE        float64 `json:"se"`
}

// Component is one connected part of the evaluator-proposal graph.
type Component struct {
	Index      int     `json:"index"`
	Mean       float64 `json:"mean"`
	Proposals  int     `json:"proposals"`
	Evaluators int     `json:"evaluators"`
	Reviews    int     `json:"reviews"`
}

// Calibrate fits y_rp = mu_c + f_p + b_r + e_rp, with Var(e_rp) = sigma^2/w_rp,
// by alternating ridge updates (MacKay et al. 2017):
//
//	f_p <- sum_r w (y - mu - b_r) / (sum_r w + LambdaF)
//	b_r <- sum_p w (y - mu - f_p) / (sum_p w + LambdaB)
//	mu  <- sum w (y - f_p - b_r) / sum w        (per component)
//
// until no parameter moves by more than Tolerance. Each connected component of
// the evaluator-proposal graph (found with union-find) gets its own mean, so
// the components are fitted independently; a warning names them when there is
// more than one. Results are sorted by id.
func Calibrate(obs []Observation, opt CalibrationOptions) (*Calibration, error) {
	if len(obs) == 0 {
		return nil, errors.New("calibrate: no observations")
	}
	if !finite(opt.LambdaF) || !finite(opt.LambdaB) || opt.LambdaF < 0 || opt.LambdaB < 0 {
		return nil, fmt.Errorf("calibrate: ridge penalties must be non-negative (lambda_f %v, lambda_b %v)", opt.LambdaF, opt.LambdaB)
	}
	if opt.Tolerance <= 0 || !finite(opt.Tolerance) {
		opt.Tolerance = DefaultTolerance
	}
	if opt.MaxIterations <= 0 {
		opt.MaxIterations = DefaultMaxIterations
	}
	pIDs, pIndex := indexIDs(obs, func(o *Observation) string { return o.Proposal })
	eIDs, eIndex := indexIDs(obs, func(o *Observation) string { return o.Evaluator })
	nP, nE, n := len(pIDs), len(eIDs), len(obs)

	op := make([]int32, n)
	oe := make([]int32, n)
	y := make([]float64, n)
	w := make([]float64, n)
	uf := newUnionFind(nP + nE)
	for i := range obs {
		o := &obs[i]
		if !finite(o.Score) || !finite(o.Weight) || o.Weight <= 0 {
			return nil, fmt.Errorf("calibrate: observation %d (proposal %q, evaluator %q): score %v and weight %v must be finite, weight positive", i+1, o.Proposal, o.Evaluator, o.Score, o.Weight)
		}
		p, e := pIndex[o.Proposal], eIndex[o.Evaluator]
		op[i], oe[i], y[i], w[i] = int32(p), int32(e), o.Score, o.Weight
		uf.union(p, nP+e)
	}

	// Number components largest first, ties by first proposal id, so the
	// numbering does not depend on input order.
	rootComp := map[int]int{}
	var roots []int
	size := map[int]int{}
	for node := 0; node < nP+nE; node++ {
		r := uf.find(node)
		if _, ok := rootComp[r]; !ok {
			rootComp[r] = len(roots)
			roots = append(roots, r)
		}
		size[r]++
	}
	slices.SortStableFunc(roots, func(a, b int) int { return cmp.Compare(size[b], size[a]) })
	for i, r := range roots {
		rootComp[r] = i
	}
	nC := len(roots)
	pComp := make([]int32, nP)
	for p := range pComp {
		pComp[p] = int32(rootComp[uf.find(p)])
	}
	eComp := make([]int32, nE)
	for e := range eComp {
		eComp[e] = int32(rootComp[uf.find(nP+e)])
	}

	wp := make([]float64, nP)
	we := make([]float64, nE)
	wc := make([]float64, nC)
	cnt := make([]int, nP)
	ecnt := make([]int, nE)
	rawSum := make([]float64, nP)
	mu := make([]float64, nC)
	for i := 0; i < n; i++ {
		p, e := op[i], oe[i]
		wp[p] += w[i]
		we[e] += w[i]
		c := pComp[p]
		wc[c] += w[i]
		mu[c] += w[i] * y[i]
		cnt[p]++
		ecnt[e]++
		rawSum[p] += y[i]
	}
	for c := range mu {
		mu[c] /= wc[c]
	}

	f := make([]float64, nP)
	b := make([]float64, nE)
	num := make([]float64, max(nP, nE))
	var muNum []float64 = make([]float64, nC)
	cal := &Calibration{}
	for it := 1; it <= opt.MaxIterations; it++ {
		delta := 0.0
		clear(num[:nP])
		for i := 0; i < n; i++ {
			num[op[i]] += w[i] * (y[i] - mu[pComp[op[i]]] - b[oe[i]])
		}
		for p := 0; p < nP; p++ {
			v := num[p] / (wp[p] + opt.LambdaF)
			delta = max(delta, math.Abs(v-f[p]))
			f[p] = v
		}
		clear(num[:nE])
		for i := 0; i < n; i++ {
			num[oe[i]] += w[i] * (y[i] - mu[pComp[op[i]]] - f[op[i]])
		}
		for e := 0; e < nE; e++ {
			v := num[e] / (we[e] + opt.LambdaB)
			delta = max(delta, math.Abs(v-b[e]))
			b[e] = v
		}
		clear(muNum)
		for i := 0; i < n; i++ {
			muNum[pComp[op[i]]] += w[i] * (y[i] - f[op[i]] - b[oe[i]])
		}
		for c := range mu {
			v := muNum[c] / wc[c]
			delta = max(delta, math.Abs(v-mu[c]))
			mu[c] = v
		}
		cal.Iterations = it
		if delta < opt.Tolerance {
			cal.Converged = true
			break
		}
	}
	if !cal.Converged {
		cal.Warnings = append(cal.Warnings, fmt.Sprintf("calibration stopped after %d iterations without reaching tolerance %g", cal.Iterations, opt.Tolerance))
	}

	// Residual variance with an effective parameter count: a parameter shrunk
	// to a fraction h of its data contributes h degrees of freedom.
	rss := 0.0
	for i := 0; i < n; i++ {
		e := y[i] - mu[pComp[op[i]]] - f[op[i]] - b[oe[i]]
		rss += w[i] * e * e
	}
	params := float64(nC)
	for p := range wp {
		params += wp[p] / (wp[p] + opt.LambdaF)
	}
	for e := range we {
		params += we[e] / (we[e] + opt.LambdaB)
	}
	cal.DegreesOfFreedom = float64(n) - params
	if cal.DegreesOfFreedom >= 1 {
		cal.ResidualVariance = rss / cal.DegreesOfFreedom
	} else {
		cal.Warnings = append(cal.Warnings, "too few reviews per proposal and evaluator to estimate the noise; standard errors and rank intervals are zero")
	}
	s2 := cal.ResidualVariance

	// Var(f_p) ~ s2/(W_p+lf) + sum_r (w_rp/(W_p+lf))^2 Var(b_r): the merit's
	// own noise plus what it inherits from its evaluators' leniencies.
	varF := make([]float64, nP)
	for i := 0; i < n; i++ {
		p, e := op[i], oe[i]
		a := w[i] / (wp[p] + opt.LambdaF)
		varF[p] += a * a * s2 / (we[e] + opt.LambdaB)
	}
	cal.Proposals = make([]CalibratedProposal, nP)
	for p := range cal.Proposals {
		c := pComp[p]
		cal.Proposals[p] = CalibratedProposal{
			ID: pIDs[p], Component: int(c) + 1, Reviews: cnt[p], Weight: wp[p],
			RawMean: rawSum[p] / float64(cnt[p]), Merit: f[p], Calibrated: mu[c] + f[p],
			SE: math.Sqrt(s2/(wp[p]+opt.LambdaF) + varF[p]),
		}
	}
	cal.Evaluators = make([]EvaluatorLeniency, nE)
	for e := range cal.Evaluators {
		cal.Evaluators[e] = EvaluatorLeniency{
			ID: eIDs[e], Component: int(eComp[e]) + 1, Reviews: ecnt[e], Weight: we[e],
			Leniency: b[e], Shrinkage: opt.LambdaB / (we[e] + opt.LambdaB),
			SE: math.Sqrt(s2 / (we[e] + opt.LambdaB)),
		}
	}
	cal.Components = make([]Component, nC)
	for c := range cal.Components {
		cal.Components[c] = Component{Index: c + 1, Mean: mu[c]}
	}
	for p := range cal.Proposals {
		cal.Components[pComp[p]].Proposals++
		cal.Components[pComp[p]].Reviews += cnt[p]
	}
	for e := range eComp {
		cal.Components[eComp[e]].Evaluators++
	}
	if nC > 1 {
		cal.Warnings = append(cal.Warnings, componentWarning(cal))
	}
	return cal, nil
}

// componentWarning names each component by a few of its proposals and
// evaluators so a manager can see which panels never shared a proposal.
func componentWarning(cal *Calibration) string {
	const show = 3
	props := make([][]string, len(cal.Components))
	evals := make([][]string, len(cal.Components))
	for _, p := range cal.Proposals {
		props[p.Component-1] = append(props[p.Component-1], p.ID)
	}
	for _, e := range cal.Evaluators {
		evals[e.Component-1] = append(evals[e.Component-1], e.ID)
	}
	list := func(ids []string) string {
		if len(ids) <= show {
			return strings.Join(ids, ", ")
		}
		return fmt.Sprintf("%s and %d more", strings.Join(ids[:show], ", "), len(ids)-show)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "the evaluator-proposal graph has %d separate components; each was calibrated on its own and calibrated scores are not comparable across them:", len(cal.Components))
	for c := range cal.Components {
		fmt.Fprintf(&sb, " component %d (proposals %s; evaluators %s)", c+1, list(props[c]), list(evals[c]))
		if c < len(cal.Components)-1 {
			sb.WriteByte(';')
		}
	}
	return sb.String()
}

// indexIDs returns the distinct ids, sorted, and each id's position.
func indexIDs(obs []Observation, key func(*Observation) string) ([]string, map[string]int) {
	idx := make(map[string]int)
	for i := range obs {
		idx[key(&obs[i])] = 0
	}
	ids := make([]string, 0, len(idx))
	for id := range idx {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		idx[id] = i
	}
	return ids, idx
}

type unionFind struct{ parent, rank []int32 }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), rank: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
	}
	return u
}

func (u *unionFind) find(x int) int {
	for int(u.parent[x]) != x {
		u.parent[x] = u.parent[u.parent[x]] // path halving
		x = int(u.parent[x])
	}
	return x
}

func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.rank[ra] < u.rank[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = int32(ra)
	if u.rank[ra] == u.rank[rb] {
		u.rank[ra]++
	}
}

// Estimate is a score with its standard error, the input to RankIntervals.
type Estimate struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	SE    float64 `json:"se"`
}

// RankIntervalOptions control the simulation behind RankIntervals.
type RankIntervalOptions struct {
	Draws int     `json:"draws"`
	Level float64 `json:"level"`
	Seed  uint64  `json:"seed"`
	// FundingLine is the number of proposals funded; 0 means none.
	FundingLine int `json:"funding_line,omitempty"`
}

// RankInterval is a proposal's expected rank and central rank interval.
type RankInterval struct {
	ID           string  `json:"id"`
	ExpectedRank float64 `json:"expected_rank"`
	Low          int     `json:"low"`
	High         int     `json:"high"`
	// ProbabilityFunded is the share of simulated rankings that place the
	// proposal at or above the funding line.
	ProbabilityFunded *float64 `json:"probability_funded,omitempty"`
	// CrossesFundingLine: the interval holds ranks on both sides of the line.
	CrossesFundingLine bool `json:"crosses_funding_line"`
}

// sortableBits maps a float32 to a uint32 with the same order (NaN aside).
func sortableBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// maxRankCells bounds draws x proposals in RankIntervals (40 MB of ranks).
const maxRankCells = 10_000_000

// RankIntervals simulates rankings from independent normal posteriors
// N(Score, SE^2) (a seeded parametric bootstrap, as the SNSF does with its
// Bayesian ranking) and returns, in input order, each proposal's mean rank
// and the central Level interval of its rank. Rank 1 is the best. For very
// large calls the number of draws is lowered so draws x proposals stays
// under ten million.
func RankIntervals(est []Estimate, opt RankIntervalOptions) []RankInterval {
	n := len(est)
	if n == 0 {
		return nil
	}
	if opt.Draws <= 0 {
		opt.Draws = DefaultRankDraws
	}
	if opt.Level <= 0 || opt.Level >= 1 {
		opt.Level = DefaultRankLevel
	}
	draws := min(opt.Draws, max(100, maxRankCells/n))
	rng := rand.New(rand.NewPCG(opt.Seed, 0x72616e6b)) // "rank"
	ranks := make([]int32, n*draws)
	keys := make([]uint64, n)
	for d := 0; d < draws; d++ {
		// Sort packed keys (descending score at float32 precision, then
		// index) rather than indices with a comparator: several times
		// faster, and equal-looking draws still rank deterministically.
		for i, e := range est {
			keys[i] = uint64(^sortableBits(float32(e.Score+e.SE*rng.NormFloat64())))<<32 | uint64(i)
		}
		slices.Sort(keys)
		for r, k := range keys {
			ranks[int(uint32(k))*draws+d] = int32(r + 1)
		}
	}
	tail := (1 - opt.Level) / 2
	lo := int(math.Floor(tail * float64(draws-1)))
	hi := int(math.Ceil((1 - tail) * float64(draws-1)))
	out := make([]RankInterval, n)
	for i, e := range est {
		rs := ranks[i*draws : (i+1)*draws]
		sum, funded := 0, 0
		for _, r := range rs {
			sum += int(r)
			if int(r) <= opt.FundingLine {
				funded++
			}
		}
		slices.Sort(rs)
		ri := RankInterval{ID: e.ID, ExpectedRank: float64(sum) / float64(draws), Low: int(rs[lo]), High: int(rs[hi])}
		if opt.FundingLine > 0 {
			ri.ProbabilityFunded = ptr(float64(funded) / float64(draws))
			ri.CrossesFundingLine = ri.Low <= opt.FundingLine && ri.High > opt.FundingLine
		}
		out[i] = ri
	}
	return out
}
