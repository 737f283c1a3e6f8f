package scoring

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
)

// RankItem is one proposal to be ranked.
type RankItem struct {
	Proposal string  `json:"proposal"`
	Score    float64 `json:"score"`
	// CriterionScores are the proposal's scores on the tie-break criteria,
	// in RankOptions.Criteria order; NaN (missing) loses every comparison.
	CriterionScores []float64 `json:"-"`
	Region          string    `json:"region,omitempty"`
	ConstituentType string    `json:"constituent_type,omitempty"`
	// Eligible proposals (passing all thresholds) rank above all others.
	Eligible bool `json:"eligible"`
}

// RankOptions declare the tie-break chain.
type RankOptions struct {
	// Basis describes the score, for the declared chain ("calibrated ...").
	Basis string `json:"basis"`
	// Criteria are the tie-break criteria ids, highest priority first.
	Criteria                []string `json:"criteria,omitempty"`
	CoveredRegions          []string `json:"covered_regions,omitempty"`
	CoveredConstituentTypes []string `json:"covered_constituent_types,omitempty"`
	// FundingLine marks the first FundingLine eligible proposals as funded.
	FundingLine int    `json:"funding_line,omitempty"`
	Seed        uint64 `json:"seed"`
}

// Ranking is the ordered list of proposals with the declared tie-break chain.
type Ranking struct {
	Basis string `json:"basis"`
	// TieBreakChain lists, in order, the steps that decide between proposals
	// with equal scores.
	TieBreakChain []string    `json:"tie_break_chain"`
	Seed          uint64      `json:"seed"`
	Entries       []RankEntry `json:"entries"`
	Ties          []Tie       `json:"ties,omitempty"`
}

// RankEntry is one place in the ranking.
type RankEntry struct {
	Rank     int     `json:"rank"`
	Proposal string  `json:"proposal"`
	Score    float64 `json:"score"`
	Eligible bool    `json:"eligible"`
	// Funded is true above the provisional funding line.
	Funded bool `json:"funded"`
	// DecidedBy is the step that placed this proposal: "score" when no tie,
	// else "criterion:<id>", "coverage:region", "coverage:constituent_type"
	// or "lottery".
	DecidedBy string   `json:"decided_by"`
	TiedWith  []string `json:"tied_with,omitempty"`
}

// Tie is a group of proposals with equal scores and how it was resolved:
// DecidedBy[i] is the step that put Proposals[i] ahead of the rest of the
// group (the last one repeats the step that settled the pair before it).
type Tie struct {
	Score     float64  `json:"score"`
	Proposals []string `json:"proposals"`
	DecidedBy []string `json:"decided_by"`
}

// Scores equal when rounded to this many decimals tie: calibrated scores
// carry iteration noise far below it, and rounding (unlike a tolerance)
// keeps ties transitive.
const tieDecimals = 6

func tieKey(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	p := math.Pow10(tieDecimals)
	return math.Round(v*p) / p
}

// Rank orders proposals by score, eligible ones first, and breaks ties by the
// declared chain: the priority criteria in order (higher score wins), then
// coverage (a proposal from a region not yet covered, by the options or by a
// proposal ranked above it, wins; then the same for constituent types), then
// a lottery. The lottery key of a proposal is a hash of the seed and its id,
// so the result depends only on the seed and the data, not on input order.
func Rank(items []RankItem, opt RankOptions) Ranking {
	rk := Ranking{Basis: opt.Basis, Seed: opt.Seed}
	rk.TieBreakChain = append(rk.TieBreakChain, "score: "+opt.Basis+fmt.Sprintf(" (equal when rounded to %d decimals)", tieDecimals))
	for _, c := range opt.Criteria {
		rk.TieBreakChain = append(rk.TieBreakChain, "criterion:"+c)
	}
	rk.TieBreakChain = append(rk.TieBreakChain, "coverage:region", "coverage:constituent_type", fmt.Sprintf("lottery (seed %d)", opt.Seed))

	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if items[a].Eligible != items[b].Eligible {
			if items[a].Eligible {
				return -1
			}
			return 1
		}
		return cmp.Compare(tieKey(items[b].Score), tieKey(items[a].Score))
	})
	coveredR := setOf(opt.CoveredRegions)
	coveredT := setOf(opt.CoveredConstituentTypes)
	lottery := func(i int) uint64 { return lotteryKey(opt.Seed, items[i].Proposal) }
	// better returns >0 when a beats b, and the chain step that decided.
	better := func(a, b int) (int, string) {
		for c, id := range opt.Criteria {
			va, vb := tieKey(critAt(items[a], c)), tieKey(critAt(items[b], c))
			if va != vb {
				return cmp.Compare(va, vb), "criterion:" + id
			}
		}
		na, nb := isNew(coveredR, items[a].Region), isNew(coveredR, items[b].Region)
		if na != nb {
			return boolCmp(na, nb), "coverage:region"
		}
		na, nb = isNew(coveredT, items[a].ConstituentType), isNew(coveredT, items[b].ConstituentType)
		if na != nb {
			return boolCmp(na, nb), "coverage:constituent_type"
		}
		if c := cmp.Compare(lottery(a), lottery(b)); c != 0 {
			return c, "lottery"
		}
		return cmp.Compare(items[b].Proposal, items[a].Proposal), "lottery"
	}
	stepIndex := func(step string) int {
		switch step {
		case "coverage:region":
			return len(opt.Criteria)
		case "coverage:constituent_type":
			return len(opt.Criteria) + 1
		case "lottery":
			return len(opt.Criteria) + 2
		}
		return slices.Index(opt.Criteria, step[len("criterion:"):])
	}
	place := func(i int, decided string, tied []string) {
		it := items[i]
		rk.Entries = append(rk.Entries, RankEntry{Rank: len(rk.Entries) + 1, Proposal: it.Proposal, Score: it.Score, Eligible: it.Eligible, DecidedBy: decided, TiedWith: tied})
		if it.Region != "" {
			coveredR[it.Region] = true
		}
		if it.ConstituentType != "" {
			coveredT[it.ConstituentType] = true
		}
	}
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && items[order[end]].Eligible == items[order[start]].Eligible &&
			tieKey(items[order[end]].Score) == tieKey(items[order[start]].Score) {
			end++
		}
		group := slices.Clone(order[start:end])
		start = end
		if len(group) == 1 {
			place(group[0], "score", nil)
			continue
		}
		ids := make([]string, len(group))
		for i, g := range group {
			ids[i] = items[g].Proposal
		}
		tie := Tie{Score: tieKey(items[group[0]].Score)}
		last := ""
		for len(group) > 0 {
			best := 0
			for j := 1; j < len(group); j++ {
				if c, _ := better(group[j], group[best]); c > 0 {
					best = j
				}
			}
			// The deciding step is the deepest one needed against any rival.
			decided, depth := last, -1
			for j := range group {
				if j == best {
					continue
				}
				_, step := better(group[best], group[j])
				if d := stepIndex(step); d > depth {
					decided, depth = step, d
				}
			}
			last = decided
			g := group[best]
			group = slices.Delete(group, best, best+1)
			tied := slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == items[g].Proposal })
			place(g, decided, tied)
			tie.Proposals = append(tie.Proposals, items[g].Proposal)
			tie.DecidedBy = append(tie.DecidedBy, decided)
		}
		rk.Ties = append(rk.Ties, tie)
	}
	funded := 0
	for i := range rk.Entries {
		if rk.Entries[i].Eligible && funded < opt.FundingLine {
			rk.Entries[i].Funded = true
			funded++
		}
	}
	return rk
}

func critAt(it RankItem, c int) float64 {
	if c < len(it.CriterionScores) {
		return it.CriterionScores[c]
	}
	return math.NaN()
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func isNew(covered map[string]bool, v string) bool { return v != "" && !covered[v] }

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// lotteryKey mixes the seed and the proposal id (FNV-1a, then the SplitMix64
// finaliser) into the proposal's lottery number; higher wins.
func lotteryKey(seed uint64, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	z := h.Sum64() ^ (seed * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
