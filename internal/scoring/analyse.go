package scoring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Result is the full analysis of one instance: raw and calibrated scores side
// by side, reliability, per-evaluator statistics and the ranking.
type Result struct {
	Settings Settings `json:"settings"`
	// Overall is the analysis of review totals; Criteria the same per criterion.
	Overall    ScopeResult       `json:"overall"`
	Criteria   []ScopeResult     `json:"criteria"`
	Proposals  []ProposalResult  `json:"proposals"`
	Evaluators []EvaluatorResult `json:"evaluators"`
	Ranking    Ranking           `json:"ranking"`
	Warnings   []string          `json:"warnings,omitempty"`
}

// Settings are the effective parameters of the analysis, defaults filled in,
// so that a stored result says how it was produced.
type Settings struct {
	RankBy           string  `json:"rank_by"`
	LambdaF          float64 `json:"lambda_f"`
	LambdaB          float64 `json:"lambda_b"`
	Tolerance        float64 `json:"tolerance"`
	MaxIterations    int     `json:"max_iterations"`
	Seed             uint64  `json:"seed"`
	TrimFraction     float64 `json:"trim_fraction"`
	RankDraws        int     `json:"rank_draws"`
	RankLevel        float64 `json:"rank_level"`
	DiscordanceRatio float64 `json:"discordance_ratio"`
	FundingLine      *int    `json:"funding_line,omitempty"`
	// Notes state the fixed conventions (review weight, review total).
	Notes []string `json:"notes"`
}

// ScopeResult is the calibration and reliability of one criterion, or of the
// review totals when Scope is "overall".
type ScopeResult struct {
	Scope       string             `json:"scope"`
	Calibration CalibrationSummary `json:"calibration"`
	Reliability Reliability        `json:"reliability"`
	// BetweenProposalSD is the standard deviation of proposals' raw means;
	// a proposal is discordant when its own SD exceeds DiscordanceCutoff =
	// DiscordanceRatio x BetweenProposalSD.
	BetweenProposalSD float64  `json:"between_proposal_sd"`
	DiscordanceCutoff float64  `json:"discordance_cutoff"`
	Warnings          []string `json:"warnings,omitempty"`
}

// CalibrationSummary is the model-level part of a Calibration.
type CalibrationSummary struct {
	Iterations       int         `json:"iterations"`
	Converged        bool        `json:"converged"`
	ResidualVariance float64     `json:"residual_variance"`
	DegreesOfFreedom float64     `json:"degrees_of_freedom"`
	Components       []Component `json:"components"`
}

// Reliability statistics of one scope; a nil value could not be computed
// (see Notes).
type Reliability struct {
	AlphaInterval *float64   `json:"alpha_interval"`
	AlphaOrdinal  *float64   `json:"alpha_ordinal"`
	ICC           *ICCResult `json:"icc"`
	// SpearmanBrown projects ICC(1) to 1-7 evaluators per proposal.
	SpearmanBrown []Projection `json:"spearman_brown,omitempty"`
	Notes         []string     `json:"notes,omitempty"`
}

// ProposalResult is everything about one proposal.
type ProposalResult struct {
	ID              string           `json:"id"`
	Region          string           `json:"region,omitempty"`
	ConstituentType string           `json:"constituent_type,omitempty"`
	Overall         ScoreSummary     `json:"overall"`
	Criteria        []CriterionScore `json:"criteria"`
	// PassesThresholds is false when any criterion or the overall threshold fails.
	PassesThresholds bool     `json:"passes_thresholds"`
	FailedThresholds []string `json:"failed_thresholds,omitempty"`
	Rank             int      `json:"rank"`
	// Rank interval among eligible proposals from the calibrated totals;
	// absent for proposals failing a threshold.
	ExpectedRank       *float64 `json:"expected_rank,omitempty"`
	RankLow            *int     `json:"rank_low,omitempty"`
	RankHigh           *int     `json:"rank_high,omitempty"`
	ProbabilityFunded  *float64 `json:"probability_funded,omitempty"`
	CrossesFundingLine bool     `json:"crosses_funding_line"`
}

// ScoreSummary is a proposal's raw aggregate and calibrated score for one scope.
type ScoreSummary struct {
	Raw Aggregate `json:"raw"`
	// Calibrated = component mean + Merit; SE its approximate posterior SD.
	Calibrated float64  `json:"calibrated"`
	Merit      float64  `json:"merit"`
	SE         float64  `json:"se"`
	Component  int      `json:"component"`
	Consensus  *float64 `json:"consensus,omitempty"`
	Discordant bool     `json:"discordant"`
}

// CriterionScore is a proposal's result on one criterion.
type CriterionScore struct {
	Criterion string `json:"criterion"`
	ScoreSummary
	Threshold *float64 `json:"threshold,omitempty"`
	// ThresholdOn is "consensus" or "raw_mean": which score met the threshold.
	ThresholdOn string `json:"threshold_on,omitempty"`
	Passes      *bool  `json:"passes,omitempty"`
	// ConsensusDeparture is consensus minus calibrated score.
	ConsensusDeparture *float64 `json:"consensus_departure,omitempty"`
	// NeedsJustification: the departure exceeds consensus_margin and the
	// consensus has no written justification.
	NeedsJustification bool `json:"needs_justification,omitempty"`
}

// EvaluatorResult is one evaluator's leniency and agreement.
type EvaluatorResult struct {
	ID             string  `json:"id"`
	Reviews        int     `json:"reviews"`
	MeanConfidence float64 `json:"mean_confidence"`
	// RawMean is the mean of the evaluator's review totals.
	RawMean float64 `json:"raw_mean"`
	// RawLeniency is the mean difference between the evaluator's total and
	// the other evaluators' mean total on the same proposals.
	RawLeniency *float64 `json:"raw_leniency,omitempty"`
	// Leniency, Shrinkage and SE come from the overall calibration.
	Leniency          float64             `json:"leniency"`
	Shrinkage         float64             `json:"shrinkage"`
	SE                float64             `json:"se"`
	CriterionLeniency []CriterionLeniency `json:"criterion_leniency"`
	// AgreementWithOthers is the correlation of the evaluator's totals with
	// the other evaluators' mean totals on the same proposals.
	AgreementWithOthers *float64 `json:"agreement_with_others,omitempty"`
	// AgreementWithConsensus is the correlation with the consensus totals,
	// and MeanAbsDiffConsensus the mean absolute difference from them.
	AgreementWithConsensus *float64 `json:"agreement_with_consensus,omitempty"`
	MeanAbsDiffConsensus   *float64 `json:"mean_abs_diff_consensus,omitempty"`
}

// CriterionLeniency is an evaluator's calibrated leniency on one criterion.
type CriterionLeniency struct {
	Criterion string  `json:"criterion"`
	Leniency  float64 `json:"leniency"`
	Shrinkage float64 `json:"shrinkage"`
}

// reviewWeight turns confidence 1-5 into a calibration weight; a
// middle-confidence review weighs 1 so lambda reads as "reviews' worth".
func reviewWeight(confidence int) float64 { return float64(confidence) / 3 }

// settings fills defaults.
func (in *Instance) settings() Settings {
	s := Settings{
		RankBy: in.RankBy, LambdaF: DefaultLambdaF, LambdaB: DefaultLambdaB, Tolerance: in.Tolerance,
		MaxIterations: in.MaxIterations, Seed: in.Seed, TrimFraction: DefaultTrimFraction,
		RankDraws: in.RankDraws, RankLevel: in.RankLevel, DiscordanceRatio: in.DiscordanceRatio, FundingLine: in.FundingLine,
		Notes: []string{
			"review weight in calibration = confidence / 3",
			"review total = sum of criterion weights x weighted mean of the criteria the review scored",
			"rank intervals come from the calibrated totals whatever rank_by is",
		},
	}
	if s.RankBy == "" {
		s.RankBy = RankByCalibrated
	}
	if in.LambdaF != nil {
		s.LambdaF = *in.LambdaF
	}
	if in.LambdaB != nil {
		s.LambdaB = *in.LambdaB
	}
	if s.Tolerance <= 0 {
		s.Tolerance = DefaultTolerance
	}
	if s.MaxIterations <= 0 {
		s.MaxIterations = DefaultMaxIterations
	}
	if in.TrimFraction != nil {
		s.TrimFraction = *in.TrimFraction
	}
	if s.RankDraws <= 0 {
		s.RankDraws = DefaultRankDraws
	}
	if s.RankLevel <= 0 {
		s.RankLevel = DefaultRankLevel
	}
	if s.DiscordanceRatio <= 0 {
		s.DiscordanceRatio = DefaultDiscordanceRatio
	}
	return s
}

// ReviewTotal is the weighted total of one review: the sum of criterion
// weights times the weighted mean of the criteria it scored, so a review
// missing a criterion is scaled up rather than counted as zero. ok is false
// when the review scored no weighted criterion.
func ReviewTotal(criteria []Criterion, r Review) (total float64, ok bool) {
	var all, present, sum float64
	for _, c := range criteria {
		all += c.Weight
		if v, has := r.Scores[c.ID]; has && c.Weight > 0 {
			present += c.Weight
			sum += c.Weight * v
		}
	}
	if present == 0 {
		return 0, false
	}
	return all * sum / present, true
}

// scope is the per-scope working data of Analyse.
type scope struct {
	name    string
	obs     []Observation
	byProp  map[string][]float64
	cal     *Calibration
	calByID map[string]*CalibratedProposal
	evByID  map[string]*EvaluatorLeniency
	res     ScopeResult
}

// Analyse validates the instance and runs the whole scoring engine:
// aggregates, calibration (per criterion and overall), reliability,
// per-evaluator statistics, thresholds, rank intervals and the ranking. It
// returns an error for an invalid instance or a cancelled context.
func Analyse(ctx context.Context, in *Instance) (*Result, error) {
	if in == nil {
		return nil, errors.New("analyse: no instance")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	set := in.settings()
	res := &Result{Settings: set}
	copt := CalibrationOptions{LambdaF: set.LambdaF, LambdaB: set.LambdaB, Tolerance: set.Tolerance, MaxIterations: set.MaxIterations}

	// Proposal order: as listed, else sorted by id.
	attrs := map[string]Proposal{}
	var pids []string
	for _, p := range in.Proposals {
		attrs[p.ID] = p
		pids = append(pids, p.ID)
	}
	if len(pids) == 0 {
		seen := map[string]bool{}
		for _, r := range in.Reviews {
			if !seen[r.ProposalID] {
				seen[r.ProposalID] = true
				pids = append(pids, r.ProposalID)
			}
		}
		sort.Strings(pids)
	}

	// Consensus per proposal and criterion, and consensus totals where complete.
	type pc struct{ p, c string }
	cons := map[pc]*ConsensusScore{}
	for i := range in.Consensus {
		cs := &in.Consensus[i]
		cons[pc{cs.ProposalID, cs.CriterionID}] = cs
	}
	consTotal := map[string]float64{}
	for _, p := range pids {
		sum, complete, any := 0.0, true, false
		for _, c := range in.Criteria {
			if c.Weight == 0 {
				continue
			}
			if cs := cons[pc{p, c.ID}]; cs != nil {
				sum += c.Weight * cs.Score
				any = true
			} else {
				complete = false
			}
		}
		if complete && any {
			consTotal[p] = sum
		}
	}

	// Build the observations of each scope.
	overall := &scope{name: "overall", byProp: map[string][]float64{}}
	crit := make([]*scope, len(in.Criteria))
	for i, c := range in.Criteria {
		crit[i] = &scope{name: c.ID, byProp: map[string][]float64{}}
	}
	totals := make([]float64, len(in.Reviews))
	hasTotal := make([]bool, len(in.Reviews))
	for i, r := range in.Reviews {
		w := reviewWeight(r.Confidence)
		for ci, c := range in.Criteria {
			if v, ok := r.Scores[c.ID]; ok {
				crit[ci].obs = append(crit[ci].obs, Observation{Proposal: r.ProposalID, Evaluator: r.EvaluatorID, Score: v, Weight: w})
				crit[ci].byProp[r.ProposalID] = append(crit[ci].byProp[r.ProposalID], v)
			}
		}
		if t, ok := ReviewTotal(in.Criteria, r); ok {
			totals[i], hasTotal[i] = t, true
			overall.obs = append(overall.obs, Observation{Proposal: r.ProposalID, Evaluator: r.EvaluatorID, Score: t, Weight: w})
			overall.byProp[r.ProposalID] = append(overall.byProp[r.ProposalID], t)
		}
	}

	// Calibrate and measure reliability in each scope.
	for _, sc := range append([]*scope{overall}, crit...) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("analyse: %w", err)
		}
		sc.res.Scope = sc.name
		if len(sc.obs) == 0 {
			sc.res.Warnings = append(sc.res.Warnings, "no scores: not calibrated")
			continue
		}
		cal, err := Calibrate(sc.obs, copt)
		if err != nil {
			return nil, fmt.Errorf("analyse %s: %w", sc.name, err)
		}
		sc.cal = cal
		sc.res.Calibration = CalibrationSummary{Iterations: cal.Iterations, Converged: cal.Converged,
			ResidualVariance: cal.ResidualVariance, DegreesOfFreedom: cal.DegreesOfFreedom, Components: cal.Components}
		sc.res.Warnings = append(sc.res.Warnings, cal.Warnings...)
		sc.calByID = make(map[string]*CalibratedProposal, len(cal.Proposals))
		for i := range cal.Proposals {
			sc.calByID[cal.Proposals[i].ID] = &cal.Proposals[i]
		}
		sc.evByID = make(map[string]*EvaluatorLeniency, len(cal.Evaluators))
		for i := range cal.Evaluators {
			sc.evByID[cal.Evaluators[i].ID] = &cal.Evaluators[i]
		}
		units := make([][]float64, 0, len(pids))
		means := make([]float64, 0, len(pids))
		for _, p := range pids {
			if v := sc.byProp[p]; len(v) > 0 {
				units = append(units, v)
				means = append(means, mean(v))
			}
		}
		sc.res.Reliability = reliability(units)
		sc.res.BetweenProposalSD = math.Sqrt(sampleVariance(means, mean(means)))
		sc.res.DiscordanceCutoff = set.DiscordanceRatio * sc.res.BetweenProposalSD
	}
	for _, sc := range append([]*scope{overall}, crit...) {
		for _, w := range sc.res.Warnings {
			res.Warnings = append(res.Warnings, sc.name+": "+w)
		}
	}
	res.Overall = overall.res
	for _, sc := range crit {
		res.Criteria = append(res.Criteria, sc.res)
	}

	// Proposals: aggregates, thresholds, consensus departures.
	summary := func(sc *scope, p string) ScoreSummary {
		s := ScoreSummary{Raw: Summarise(sc.byProp[p], set.TrimFraction)}
		if cp := sc.calByID[p]; cp != nil {
			s.Calibrated, s.Merit, s.SE, s.Component = cp.Calibrated, cp.Merit, cp.SE, cp.Component
		}
		s.Discordant = s.Raw.N >= 2 && s.Raw.SD > sc.res.DiscordanceCutoff
		return s
	}
	res.Proposals = make([]ProposalResult, len(pids))
	for i, p := range pids {
		pr := ProposalResult{ID: p, Region: attrs[p].Region, ConstituentType: attrs[p].ConstituentType, PassesThresholds: true}
		pr.Overall = summary(overall, p)
		if t, ok := consTotal[p]; ok {
			pr.Overall.Consensus = ptr(t)
		}
		for ci, c := range in.Criteria {
			cs := CriterionScore{Criterion: c.ID, ScoreSummary: summary(crit[ci], p), Threshold: c.Threshold}
			con := cons[pc{p, c.ID}]
			if con != nil {
				cs.Consensus = ptr(con.Score)
				if crit[ci].calByID[p] != nil {
					d := con.Score - cs.Calibrated
					cs.ConsensusDeparture = &d
					if in.ConsensusMargin > 0 && math.Abs(d) > in.ConsensusMargin && con.Justification == "" {
						cs.NeedsJustification = true
						res.Warnings = append(res.Warnings, fmt.Sprintf("proposal %q, criterion %q: consensus %v departs from the calibrated score %.2f by more than %v and needs a written justification", p, c.ID, con.Score, cs.Calibrated, in.ConsensusMargin))
					}
				}
			}
			if c.Threshold != nil {
				v, on := cs.Raw.Mean, "raw_mean"
				if con != nil {
					v, on = con.Score, "consensus"
				}
				if cs.Raw.N > 0 || con != nil {
					ok := v >= *c.Threshold-1e-9
					cs.Passes, cs.ThresholdOn = &ok, on
					if !ok {
						pr.PassesThresholds = false
						pr.FailedThresholds = append(pr.FailedThresholds, c.ID)
					}
				}
			}
			pr.Criteria = append(pr.Criteria, cs)
		}
		if in.OverallThreshold != nil {
			v := pr.Overall.Raw.Mean
			if pr.Overall.Consensus != nil {
				v = *pr.Overall.Consensus
			}
			if v < *in.OverallThreshold-1e-9 {
				pr.PassesThresholds = false
				pr.FailedThresholds = append(pr.FailedThresholds, "overall")
			}
		}
		res.Proposals[i] = pr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}

	// Rank intervals among eligible proposals.
	var est []Estimate
	var estIdx []int
	for i, pr := range res.Proposals {
		if pr.PassesThresholds && overall.calByID[pr.ID] != nil {
			est = append(est, Estimate{ID: pr.ID, Score: pr.Overall.Calibrated, SE: pr.Overall.SE})
			estIdx = append(estIdx, i)
		}
	}
	line := 0
	if in.FundingLine != nil {
		line = *in.FundingLine
	}
	for k, ri := range RankIntervals(est, RankIntervalOptions{Draws: set.RankDraws, Level: set.RankLevel, Seed: set.Seed, FundingLine: line}) {
		pr := &res.Proposals[estIdx[k]]
		pr.ExpectedRank = ptr(ri.ExpectedRank)
		lo, hi := ri.Low, ri.High
		pr.RankLow, pr.RankHigh = &lo, &hi
		pr.ProbabilityFunded = ri.ProbabilityFunded
		pr.CrossesFundingLine = ri.CrossesFundingLine
	}

	// Ranking.
	res.Ranking = rankProposals(in, set, res.Proposals, line)
	pos := map[string]int{}
	for _, e := range res.Ranking.Entries {
		pos[e.Proposal] = e.Rank
	}
	for i := range res.Proposals {
		res.Proposals[i].Rank = pos[res.Proposals[i].ID]
	}

	res.Evaluators = evaluatorResults(in, overall, crit, totals, hasTotal, consTotal)
	return res, nil
}

// rankProposals builds the rank items on the chosen basis.
func rankProposals(in *Instance, set Settings, props []ProposalResult, line int) Ranking {
	// Tie-break criteria by priority.
	type pcrit struct {
		idx int
		c   Criterion
	}
	var chain []pcrit
	for i, c := range in.Criteria {
		if c.Priority > 0 {
			chain = append(chain, pcrit{i, c})
		}
	}
	sort.Slice(chain, func(a, b int) bool { return chain[a].c.Priority < chain[b].c.Priority })
	critScore := func(pr *ProposalResult, ci int) float64 {
		cs := pr.Criteria[ci]
		switch set.RankBy {
		case RankByRaw:
			if cs.Raw.N == 0 {
				return math.NaN()
			}
			return cs.Raw.Mean
		case RankByConsensus:
			if cs.Consensus != nil {
				return *cs.Consensus
			}
			if cs.Raw.N == 0 {
				return math.NaN()
			}
			return cs.Raw.Mean
		}
		if cs.Component == 0 {
			return math.NaN()
		}
		return cs.Calibrated
	}
	basis := map[string]string{
		RankByCalibrated: "calibrated total (overall calibration: component mean + merit)",
		RankByRaw:        "raw total (mean of review totals)",
		RankByConsensus:  "consensus total (sum of weight x consensus score, raw mean where no consensus)",
	}[set.RankBy]
	opt := RankOptions{Basis: basis, CoveredRegions: in.CoveredRegions, CoveredConstituentTypes: in.CoveredConstituentTypes, FundingLine: line, Seed: set.Seed}
	for _, pc := range chain {
		opt.Criteria = append(opt.Criteria, pc.c.ID)
	}
	items := make([]RankItem, len(props))
	for i := range props {
		pr := &props[i]
		it := RankItem{Proposal: pr.ID, Region: pr.Region, ConstituentType: pr.ConstituentType, Eligible: pr.PassesThresholds}
		switch set.RankBy {
		case RankByRaw:
			it.Score = pr.Overall.Raw.Mean
		case RankByConsensus:
			for ci, c := range in.Criteria {
				if v := critScore(pr, ci); c.Weight > 0 && !math.IsNaN(v) {
					it.Score += c.Weight * v
				}
			}
		default:
			it.Score = pr.Overall.Calibrated
		}
		for _, pc := range chain {
			it.CriterionScores = append(it.CriterionScores, critScore(pr, pc.idx))
		}
		items[i] = it
	}
	return Rank(items, opt)
}

// reliability computes alpha, ICC and the Spearman-Brown table for the
// scores grouped by proposal.
func reliability(units [][]float64) Reliability {
	var r Reliability
	if a, err := KrippendorffAlpha(units, Interval); err == nil {
		r.AlphaInterval = ptr(a)
	} else {
		r.Notes = append(r.Notes, err.Error())
	}
	if a, err := KrippendorffAlpha(units, Ordinal); err == nil {
		r.AlphaOrdinal = ptr(a)
	}
	icc, err := ICC(units)
	if err != nil {
		r.Notes = append(r.Notes, err.Error())
		return r
	}
	r.ICC = &icc
	if icc.ICC1 > 0 {
		r.SpearmanBrown = SpearmanBrownTable(icc.ICC1, 7)
	} else {
		r.Notes = append(r.Notes, "ICC(1) is not positive: evaluators agree no better than chance, so no Spearman-Brown projection")
	}
	return r
}

// evaluatorResults computes per-evaluator leniency and agreement.
func evaluatorResults(in *Instance, overall *scope, crit []*scope, totals []float64, hasTotal []bool, consTotal map[string]float64) []EvaluatorResult {
	// Sum and count of totals per proposal, for leave-one-out means.
	sum := map[string]float64{}
	cnt := map[string]int{}
	for i, r := range in.Reviews {
		if hasTotal[i] {
			sum[r.ProposalID] += totals[i]
			cnt[r.ProposalID]++
		}
	}
	type acc struct {
		reviews, conf         int
		own, others           []float64
		all                   []float64
		consOwn, consTotalVal []float64
	}
	accs := map[string]*acc{}
	for i, r := range in.Reviews {
		a := accs[r.EvaluatorID]
		if a == nil {
			a = &acc{}
			accs[r.EvaluatorID] = a
		}
		a.reviews++
		a.conf += r.Confidence
		if !hasTotal[i] {
			continue
		}
		t := totals[i]
		a.all = append(a.all, t)
		if n := cnt[r.ProposalID]; n >= 2 {
			a.own = append(a.own, t)
			a.others = append(a.others, (sum[r.ProposalID]-t)/float64(n-1))
		}
		if ct, ok := consTotal[r.ProposalID]; ok {
			a.consOwn = append(a.consOwn, t)
			a.consTotalVal = append(a.consTotalVal, ct)
		}
	}
	ids := sortedKeys(accs)
	out := make([]EvaluatorResult, 0, len(ids))
	for _, id := range ids {
		a := accs[id]
		er := EvaluatorResult{ID: id, Reviews: a.reviews, MeanConfidence: float64(a.conf) / float64(a.reviews), RawMean: mean(a.all)}
		if len(a.own) > 0 {
			d := 0.0
			for k := range a.own {
				d += a.own[k] - a.others[k]
			}
			er.RawLeniency = ptr(d / float64(len(a.own)))
		}
		if ev := overall.evByID[id]; ev != nil {
			er.Leniency, er.Shrinkage, er.SE = ev.Leniency, ev.Shrinkage, ev.SE
		}
		for _, sc := range crit {
			if ev := sc.evByID[id]; ev != nil {
				er.CriterionLeniency = append(er.CriterionLeniency, CriterionLeniency{Criterion: sc.name, Leniency: ev.Leniency, Shrinkage: ev.Shrinkage})
			}
		}
		er.AgreementWithOthers = pearson(a.own, a.others)
		if len(a.consOwn) > 0 {
			er.AgreementWithConsensus = pearson(a.consOwn, a.consTotalVal)
			d := 0.0
			for k := range a.consOwn {
				d += math.Abs(a.consOwn[k] - a.consTotalVal[k])
			}
			er.MeanAbsDiffConsensus = ptr(d / float64(len(a.consOwn)))
		}
		out = append(out, er)
	}
	return out
}
