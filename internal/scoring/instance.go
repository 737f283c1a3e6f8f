package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Instance is everything the scoring engine needs about one call (or one round
// of a call): the criteria, the submitted reviews, the rapporteurs' consensus
// scores, the proposal attributes used to break ties, and the analysis
// settings. It is read from JSON by ReadInstance; field names are the JSON keys.
type Instance struct {
	// Criteria are scored in every review; at least one has a positive weight.
	Criteria []Criterion `json:"criteria"`
	// Proposals lists proposal attributes (region, constituent type) used by
	// the tie-break chain. Optional; when given, every reviewed proposal must
	// be listed and every listed proposal must have a review.
	Proposals []Proposal `json:"proposals,omitempty"`
	// Reviews are the submitted reviews; one per (proposal, evaluator).
	Reviews []Review `json:"reviews"`
	// Consensus holds the rapporteur's consensus score per proposal and
	// criterion. Thresholds apply to these when present.
	Consensus []ConsensusScore `json:"consensus,omitempty"`
	// ConsensusMargin, when positive, flags consensus scores that depart from
	// the calibrated criterion score by more than this and carry no
	// justification.
	ConsensusMargin float64 `json:"consensus_margin,omitempty"`
	// OverallThreshold, when set, is a minimum weighted total (raw mean of
	// review totals, or the consensus total when consensus is complete).
	OverallThreshold *float64 `json:"overall_threshold,omitempty"`
	// CoveredRegions and CoveredConstituentTypes are already represented in
	// the portfolio (for example by earlier rounds); the coverage step of the
	// tie-break prefers proposals that add something new.
	CoveredRegions          []string `json:"covered_regions,omitempty"`
	CoveredConstituentTypes []string `json:"covered_constituent_types,omitempty"`
	// FundingLine is the number of proposals funded provisionally; absent
	// means no line (no crossing flags).
	FundingLine *int `json:"funding_line,omitempty"`
	// RankBy is the score the ranking uses: "calibrated" (default), "raw" or
	// "consensus" (consensus per criterion where given, raw mean otherwise).
	RankBy string `json:"rank_by,omitempty"`
	// LambdaF and LambdaB are the ridge penalties on proposal merit and on
	// evaluator leniency, in units of review weight (a confidence-3 review
	// weighs 1). Nil means the defaults (DefaultLambdaF, DefaultLambdaB).
	LambdaF *float64 `json:"lambda_f,omitempty"`
	LambdaB *float64 `json:"lambda_b,omitempty"`
	// Tolerance stops the alternating updates once no parameter moves by more
	// than this (default DefaultTolerance).
	Tolerance float64 `json:"tolerance,omitempty"`
	// MaxIterations bounds the alternating updates (default 1000).
	MaxIterations int `json:"max_iterations,omitempty"`
	// Seed drives the tie-break lottery and the rank-interval simulation; it
	// is echoed in the result so a ranking can be reproduced.
	Seed uint64 `json:"seed"`
	// TrimFraction is cut from each end before the trimmed mean (default 0.2).
	TrimFraction *float64 `json:"trim_fraction,omitempty"`
	// RankDraws is the number of simulated rankings behind the rank intervals
	// (default 1000, lowered for very large calls to bound memory).
	RankDraws int `json:"rank_draws,omitempty"`
	// RankLevel is the coverage of the rank interval (default 0.9).
	RankLevel float64 `json:"rank_level,omitempty"`
	// DiscordanceRatio flags a proposal whose within-proposal standard
	// deviation exceeds this multiple of the between-proposal standard
	// deviation (default 1).
	DiscordanceRatio float64 `json:"discordance_ratio,omitempty"`
	// Planted is filled only by Generate: the true merits and leniencies of a
	// synthetic instance. The analysis ignores it.
	Planted *Planted `json:"planted,omitempty"`
}

// Criterion is one evaluation criterion.
type Criterion struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Weight is used for the weighted total only; zero excludes the
	// criterion from the total, negative is an error.
	Weight float64 `json:"weight"`
	// Scale defaults to 0-5 in half points when absent.
	Scale *Scale `json:"scale,omitempty"`
	// Threshold is the minimum score to pass this criterion (applied to the
	// consensus score when there is one, else to the raw mean).
	Threshold *float64 `json:"threshold,omitempty"`
	// Priority orders criteria in the tie-break chain: 1 is compared first.
	// Zero leaves the criterion out of the chain.
	Priority int `json:"priority,omitempty"`
}

// Scale is an anchored score scale. Step zero accepts any value in range.
type Scale struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Step float64 `json:"step"`
}

// DefaultScale returns the scale used when a criterion declares none: the
// Horizon Europe style 0-5 scale with half points.
func DefaultScale() Scale { return Scale{Min: 0, Max: 5, Step: 0.5} }

// Proposal carries the attributes the tie-break chain looks at.
type Proposal struct {
	ID              string `json:"id"`
	Region          string `json:"region,omitempty"`
	ConstituentType string `json:"constituent_type,omitempty"`
}

// Review is one evaluator's scores for one proposal.
type Review struct {
	ProposalID  string `json:"proposal"`
	EvaluatorID string `json:"evaluator"`
	// Confidence is the evaluator's self-declared confidence, 1-5; it is the
	// weight of the review in calibration (confidence/3).
	Confidence int `json:"confidence"`
	// Scores maps criterion id to score. A criterion left out is missing;
	// JSON null is rejected so a missing score is never read as zero.
	Scores map[string]float64 `json:"scores"`
}

// UnmarshalJSON reads a review strictly: unknown keys and null scores are errors.
func (r *Review) UnmarshalJSON(data []byte) error {
	var raw struct {
		ProposalID  string              `json:"proposal"`
		EvaluatorID string              `json:"evaluator"`
		Confidence  int                 `json:"confidence"`
		Scores      map[string]*float64 `json:"scores"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	r.ProposalID, r.EvaluatorID, r.Confidence = raw.ProposalID, raw.EvaluatorID, raw.Confidence
	r.Scores = make(map[string]float64, len(raw.Scores))
	for c, v := range raw.Scores {
		if v == nil {
			return fmt.Errorf("score for criterion %q is null (leave the criterion out when it is missing)", c)
		}
		r.Scores[c] = *v
	}
	return nil
}

// ConsensusScore is the rapporteur's consensus score for one criterion of one
// proposal. Individual reviews stay unchanged.
type ConsensusScore struct {
	ProposalID    string  `json:"proposal"`
	CriterionID   string  `json:"criterion"`
	Score         float64 `json:"score"`
	Justification string  `json:"justification,omitempty"`
}

// Planted is the ground truth of a generated instance: merit is added to
// every criterion score of the proposal, leniency to every score the
// evaluator gives.
type Planted struct {
	Merit    map[string]float64 `json:"merit"`
	Leniency map[string]float64 `json:"leniency"`
}

// Defaults for the analysis settings.
const (
	DefaultLambdaF          = 0.5
	DefaultLambdaB          = 2.0
	DefaultTolerance        = 1e-6
	DefaultMaxIterations    = 1000
	DefaultTrimFraction     = 0.2
	DefaultRankDraws        = 1000
	DefaultRankLevel        = 0.9
	DefaultDiscordanceRatio = 1.0
)

// Ranking bases accepted in Instance.RankBy.
const (
	RankByCalibrated = "calibrated"
	RankByRaw        = "raw"
	RankByConsensus  = "consensus"
)

// maxInstanceBytes bounds what ReadInstance will read (64 MiB), so a wrong
// file cannot exhaust memory.
const maxInstanceBytes = 64 << 20

// ReadInstance decodes one JSON instance strictly (unknown fields and
// trailing data are errors) and validates it.
func ReadInstance(r io.Reader) (*Instance, error) {
	lr := &io.LimitedReader{R: r, N: maxInstanceBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var in Instance
	if err := dec.Decode(&in); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("read scoring instance: larger than %d bytes", maxInstanceBytes)
		}
		return nil, fmt.Errorf("read scoring instance: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("read scoring instance: unexpected data after the JSON object")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &in, nil
}

// maxProblems caps how many problems Validate reports at once.
const maxProblems = 20

// Validate checks the instance and returns every problem found (up to 20),
// each naming the criterion, review or proposal at fault.
func (in *Instance) Validate() error {
	var probs []error
	add := func(format string, a ...any) {
		if len(probs) < maxProblems {
			probs = append(probs, fmt.Errorf(format, a...))
		}
	}
	if len(in.Criteria) == 0 {
		add("no criteria")
	}
	crit := make(map[string]*Criterion, len(in.Criteria))
	prio := map[int]string{}
	totalWeight := 0.0
	for i := range in.Criteria {
		c := &in.Criteria[i]
		switch {
		case c.ID == "":
			add("criterion %d has no id", i+1)
			continue
		case crit[c.ID] != nil:
			add("criterion %q is listed twice", c.ID)
			continue
		}
		crit[c.ID] = c
		if !finite(c.Weight) || c.Weight < 0 {
			add("criterion %q: weight %v is negative or not a number", c.ID, c.Weight)
		} else {
			totalWeight += c.Weight
		}
		s := c.scale()
		switch {
		case !finite(s.Min) || !finite(s.Max) || !finite(s.Step):
			add("criterion %q: scale is not finite", c.ID)
		case s.Max <= s.Min:
			add("criterion %q: scale max %v is not above min %v", c.ID, s.Max, s.Min)
		case s.Step < 0:
			add("criterion %q: scale step %v is negative", c.ID, s.Step)
		case s.Step > 0 && !onStep(s.Max, s):
			add("criterion %q: scale max %v is not a whole number of steps of %v above min %v", c.ID, s.Max, s.Step, s.Min)
		}
		if c.Threshold != nil && (!finite(*c.Threshold) || *c.Threshold < s.Min || *c.Threshold > s.Max) {
			add("criterion %q: threshold %v is outside the scale %v-%v", c.ID, *c.Threshold, s.Min, s.Max)
		}
		if c.Priority < 0 {
			add("criterion %q: priority %d is negative", c.ID, c.Priority)
		} else if c.Priority > 0 {
			if other, ok := prio[c.Priority]; ok {
				add("criteria %q and %q share tie-break priority %d", other, c.ID, c.Priority)
			}
			prio[c.Priority] = c.ID
		}
	}
	if len(in.Criteria) > 0 && totalWeight <= 0 {
		add("all criterion weights are zero: give at least one criterion a positive weight")
	}

	props := map[string]bool{}
	listed := len(in.Proposals) > 0
	for i, p := range in.Proposals {
		switch {
		case p.ID == "":
			add("proposal %d has no id", i+1)
		case props[p.ID]:
			add("proposal %q is listed twice", p.ID)
		default:
			props[p.ID] = true
		}
	}

	if len(in.Reviews) == 0 {
		add("no reviews")
	}
	type pair struct{ p, e string }
	seen := make(map[pair]int, len(in.Reviews))
	reviewed := map[string]bool{}
	// scored[proposal][criterion] records that at least one review scored it.
	scored := map[string]map[string]bool{}
	for i, r := range in.Reviews {
		name := fmt.Sprintf("review %d (proposal %q, evaluator %q)", i+1, r.ProposalID, r.EvaluatorID)
		if r.ProposalID == "" || r.EvaluatorID == "" {
			add("%s: proposal and evaluator are both required", name)
			continue
		}
		if listed && !props[r.ProposalID] {
			add("%s: proposal is not in the proposals list", name)
		}
		k := pair{r.ProposalID, r.EvaluatorID}
		if j, dup := seen[k]; dup {
			add("%s: duplicate of review %d", name, j)
		}
		seen[k] = i + 1
		reviewed[r.ProposalID] = true
		if r.Confidence < 1 || r.Confidence > 5 {
			add("%s: confidence %d is outside 1-5", name, r.Confidence)
		}
		if len(r.Scores) == 0 {
			add("%s: no scores", name)
		}
		if scored[r.ProposalID] == nil {
			scored[r.ProposalID] = map[string]bool{}
		}
		for _, cid := range sortedKeys(r.Scores) {
			v := r.Scores[cid]
			c := crit[cid]
			if c == nil {
				add("%s: unknown criterion %q", name, cid)
				continue
			}
			if msg := checkScore(v, c.scale()); msg != "" {
				add("%s: criterion %q: %s", name, cid, msg)
				continue
			}
			scored[r.ProposalID][cid] = true
		}
	}
	for _, p := range in.Proposals {
		if p.ID != "" && !reviewed[p.ID] {
			add("proposal %q has no reviews", p.ID)
		}
	}
	for _, pid := range sortedKeys(scored) {
		for i := range in.Criteria {
			c := &in.Criteria[i]
			if c.Weight > 0 && crit[c.ID] == c && !scored[pid][c.ID] {
				add("proposal %q has no score for weighted criterion %q", pid, c.ID)
			}
		}
	}

	type cpair struct{ p, c string }
	cseen := map[cpair]bool{}
	for i, cs := range in.Consensus {
		name := fmt.Sprintf("consensus %d (proposal %q, criterion %q)", i+1, cs.ProposalID, cs.CriterionID)
		c := crit[cs.CriterionID]
		switch {
		case !reviewed[cs.ProposalID]:
			add("%s: proposal has no reviews", name)
		case c == nil:
			add("%s: unknown criterion", name)
		case cseen[cpair{cs.ProposalID, cs.CriterionID}]:
			add("%s: given twice", name)
		default:
			if msg := checkScore(cs.Score, c.scale()); msg != "" {
				add("%s: %s", name, msg)
			}
		}
		cseen[cpair{cs.ProposalID, cs.CriterionID}] = true
	}

	if in.FundingLine != nil && (*in.FundingLine < 1 || *in.FundingLine > len(reviewed)) {
		add("funding line %d is outside 1-%d (the number of reviewed proposals)", *in.FundingLine, len(reviewed))
	}
	switch in.RankBy {
	case "", RankByCalibrated, RankByRaw, RankByConsensus:
	default:
		add("rank_by %q is not one of calibrated, raw, consensus", in.RankBy)
	}
	checkNonNeg := func(name string, v float64) {
		if !finite(v) || v < 0 {
			add("%s %v must be a non-negative number", name, v)
		}
	}
	if in.LambdaF != nil {
		checkNonNeg("lambda_f", *in.LambdaF)
	}
	if in.LambdaB != nil {
		checkNonNeg("lambda_b", *in.LambdaB)
	}
	checkNonNeg("tolerance", in.Tolerance)
	checkNonNeg("consensus_margin", in.ConsensusMargin)
	checkNonNeg("discordance_ratio", in.DiscordanceRatio)
	if in.OverallThreshold != nil && !finite(*in.OverallThreshold) {
		add("overall_threshold is not a number")
	}
	if in.MaxIterations < 0 {
		add("max_iterations %d is negative", in.MaxIterations)
	}
	if in.TrimFraction != nil && (!finite(*in.TrimFraction) || *in.TrimFraction < 0 || *in.TrimFraction >= 0.5) {
		add("trim_fraction %v must be in [0, 0.5)", *in.TrimFraction)
	}
	if in.RankDraws < 0 || in.RankDraws > 100000 {
		add("rank_draws %d must be in 0-100000", in.RankDraws)
	}
	if in.RankLevel != 0 && (!finite(in.RankLevel) || in.RankLevel <= 0 || in.RankLevel >= 1) {
		add("rank_level %v must be between 0 and 1", in.RankLevel)
	}
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid scoring instance: %w", errors.Join(probs...))
}

func (c *Criterion) scale() Scale {
	if c.Scale == nil {
		return DefaultScale()
	}
	return *c.Scale
}

// checkScore returns why v is not a valid score on s, or "".
func checkScore(v float64, s Scale) string {
	switch {
	case !finite(v):
		return "score is not a number"
	case v < s.Min || v > s.Max:
		return fmt.Sprintf("score %v is off the scale %v-%v", v, s.Min, s.Max)
	case s.Step > 0 && !onStep(v, s):
		return fmt.Sprintf("score %v is not on the scale's step of %v", v, s.Step)
	}
	return ""
}

// onStep reports whether v is min plus a whole number of steps, allowing for
// the rounding of decimal fractions such as 0.1.
func onStep(v float64, s Scale) bool {
	k := (v - s.Min) / s.Step
	return math.Abs(k-math.Round(k)) < 1e-6
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
