package scoring

import (
	"slices"
	"testing"
)

func order(r Ranking) []string {
	var ids []string
	for _, e := range r.Entries {
		ids = append(ids, e.Proposal)
	}
	return ids
}

func decided(r Ranking) map[string]string {
	m := map[string]string{}
	for _, e := range r.Entries {
		m[e.Proposal] = e.DecidedBy
	}
	return m
}

func TestRankTieBreakChain(t *testing.T) {
	opt := RankOptions{Basis: "raw", Criteria: []string{"impact", "relevance"}, CoveredRegions: []string{"Africa"}, CoveredConstituentTypes: []string{"workers"}, FundingLine: 2, Seed: 42}
	tests := []struct {
		name        string
		items       []RankItem
		want        []string
		wantDecided map[string]string
	}{
		{
			name: "scores differ",
			items: []RankItem{
				{Proposal: "A", Score: 3, Eligible: true}, {Proposal: "B", Score: 4, Eligible: true}, {Proposal: "C", Score: 3.5, Eligible: true},
			},
			want:        []string{"B", "C", "A"},
			wantDecided: map[string]string{"A": "score", "B": "score", "C": "score"},
		},
		{
			name: "ineligible rank last whatever their score",
			items: []RankItem{
				{Proposal: "A", Score: 5, Eligible: false}, {Proposal: "B", Score: 2, Eligible: true},
			},
			want: []string{"B", "A"},
		},
		{
			name: "first priority criterion",
			items: []RankItem{
				{Proposal: "A", Score: 10, CriterionScores: []float64{3, 5}, Eligible: true},
				{Proposal: "B", Score: 10, CriterionScores: []float64{4, 1}, Eligible: true},
			},
			want:        []string{"B", "A"},
			wantDecided: map[string]string{"B": "criterion:impact", "A": "criterion:impact"},
		},
		{
			name: "second priority criterion",
			items: []RankItem{
				{Proposal: "A", Score: 10, CriterionScores: []float64{4, 5}, Eligible: true},
				{Proposal: "B", Score: 10, CriterionScores: []float64{4, 1}, Eligible: true},
			},
			want:        []string{"A", "B"},
			wantDecided: map[string]string{"A": "criterion:relevance"},
		},
		{
			name: "region not yet covered",
			items: []RankItem{
				{Proposal: "A", Score: 10, CriterionScores: []float64{4, 4}, Region: "Africa", Eligible: true},
				{Proposal: "B", Score: 10, CriterionScores: []float64{4, 4}, Region: "Americas", Eligible: true},
			},
			want:        []string{"B", "A"},
			wantDecided: map[string]string{"B": "coverage:region"},
		},
		{
			name: "constituent type not yet covered",
			items: []RankItem{
				{Proposal: "A", Score: 10, CriterionScores: []float64{4, 4}, Region: "Europe", ConstituentType: "employers", Eligible: true},
				{Proposal: "B", Score: 10, CriterionScores: []float64{4, 4}, Region: "Americas", ConstituentType: "workers", Eligible: true},
			},
			want:        []string{"A", "B"},
			wantDecided: map[string]string{"A": "coverage:constituent_type"},
		},
		{
			name: "coverage counts proposals ranked above",
			items: []RankItem{
				{Proposal: "top", Score: 11, Region: "Americas", Eligible: true},
				{Proposal: "A", Score: 10, Region: "Americas", Eligible: true},
				{Proposal: "B", Score: 10, Region: "Asia", Eligible: true},
			},
			want:        []string{"top", "B", "A"},
			wantDecided: map[string]string{"B": "coverage:region"},
		},
		{
			name: "scores equal to six decimals tie",
			items: []RankItem{
				{Proposal: "A", Score: 3.0000001, Region: "Africa", Eligible: true},
				{Proposal: "B", Score: 3, Region: "Asia", Eligible: true},
			},
			want: []string{"B", "A"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Rank(tc.items, opt)
			if got := order(r); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
			d := decided(r)
			for id, step := range tc.wantDecided {
				if d[id] != step {
					t.Errorf("%s decided by %q, want %q", id, d[id], step)
				}
			}
		})
	}
}

func TestRankDeclaresChain(t *testing.T) {
	r := Rank([]RankItem{{Proposal: "A", Eligible: true}}, RankOptions{Basis: "raw total", Criteria: []string{"impact"}, Seed: 7})
	want := []string{"score: raw total (equal when rounded to 6 decimals)", "criterion:impact", "coverage:region", "coverage:constituent_type", "lottery (seed 7)"}
	if !slices.Equal(r.TieBreakChain, want) {
		t.Errorf("chain %q", r.TieBreakChain)
	}
}

func TestRankLotteryDeterministic(t *testing.T) {
	items := []RankItem{
		{Proposal: "P1", Score: 3, Eligible: true}, {Proposal: "P2", Score: 3, Eligible: true},
		{Proposal: "P3", Score: 3, Eligible: true}, {Proposal: "P4", Score: 3, Eligible: true},
		{Proposal: "P5", Score: 3, Eligible: true},
	}
	first := map[string]bool{}
	for seed := uint64(0); seed < 40; seed++ {
		opt := RankOptions{Seed: seed}
		a := Rank(items, opt)
		rev := slices.Clone(items)
		slices.Reverse(rev)
		b := Rank(rev, opt)
		if !slices.Equal(order(a), order(b)) {
			t.Fatalf("seed %d: order depends on input order: %v vs %v", seed, order(a), order(b))
		}
		if again := Rank(items, opt); !slices.Equal(order(a), order(again)) {
			t.Fatalf("seed %d: not repeatable", seed)
		}
		for _, e := range a.Entries {
			if e.DecidedBy != "lottery" || len(e.TiedWith) != 4 {
				t.Fatalf("seed %d: %+v", seed, e)
			}
		}
		if len(a.Ties) != 1 || len(a.Ties[0].Proposals) != 5 {
			t.Fatalf("ties %+v", a.Ties)
		}
		first[a.Entries[0].Proposal] = true
	}
	// The lottery is a lottery: over 40 seeds several proposals come first.
	if len(first) < 3 {
		t.Errorf("only %v ever won the lottery", first)
	}
}

func TestRankFundingLine(t *testing.T) {
	items := []RankItem{
		{Proposal: "A", Score: 5, Eligible: false}, {Proposal: "B", Score: 4, Eligible: true},
		{Proposal: "C", Score: 3, Eligible: true}, {Proposal: "D", Score: 2, Eligible: true},
	}
	r := Rank(items, RankOptions{FundingLine: 2})
	funded := map[string]bool{}
	for _, e := range r.Entries {
		funded[e.Proposal] = e.Funded
	}
	if !funded["B"] || !funded["C"] || funded["D"] || funded["A"] {
		t.Errorf("funded %v, want B and C (A fails a threshold)", funded)
	}
}
