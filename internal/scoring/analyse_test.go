package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func readExample(t *testing.T) *Instance {
	t.Helper()
	f, err := os.Open("../../configs/examples/calibrate.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := ReadInstance(f)
	if err != nil {
		t.Fatalf("example instance rejected: %v", err)
	}
	return in
}

func TestAnalyseExample(t *testing.T) {
	in := readExample(t)
	res, err := Analyse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
	if len(res.Proposals) != 8 || len(res.Evaluators) != 5 || len(res.Criteria) != 3 || len(res.Ranking.Entries) != 8 {
		t.Fatalf("sizes: %d proposals, %d evaluators, %d criteria, %d ranked", len(res.Proposals), len(res.Evaluators), len(res.Criteria), len(res.Ranking.Entries))
	}
	if res.Settings.Seed != 20260415 || res.Ranking.Seed != 20260415 {
		t.Error("seed not recorded")
	}
	if len(res.Overall.Calibration.Components) != 1 {
		t.Errorf("example should be connected: %+v", res.Overall.Calibration.Components)
	}
	if res.Overall.Reliability.AlphaInterval == nil || res.Overall.Reliability.ICC == nil {
		t.Errorf("reliability missing: %+v", res.Overall.Reliability)
	}
	byID := map[string]ProposalResult{}
	for _, p := range res.Proposals {
		byID[p.ID] = p
	}
	// FAC-2026-008 has consensus impact 2.5 < threshold 3: ineligible and
	// ranked last whatever its score.
	p8 := byID["FAC-2026-008"]
	if p8.PassesThresholds || p8.Rank != 8 || p8.ExpectedRank != nil {
		t.Errorf("FAC-2026-008: passes %v, rank %d, expected rank %v", p8.PassesThresholds, p8.Rank, p8.ExpectedRank)
	}
	if c := p8.Criteria[1]; c.ThresholdOn != "consensus" || c.Passes == nil || *c.Passes {
		t.Errorf("FAC-2026-008 impact threshold: %+v", c)
	}
	// Proposal 005 has a missing score: its review total is scaled, not zeroed.
	if a := byID["FAC-2026-005"].Criteria[2].Raw; a.N != 2 {
		t.Errorf("FAC-2026-005 implementation: %d scores, want 2", a.N)
	}
	funded := 0
	for i, e := range res.Ranking.Entries {
		if e.Rank != i+1 {
			t.Fatalf("entry %d has rank %d", i, e.Rank)
		}
		if e.Funded {
			funded++
		}
		if i > 0 && e.Eligible == res.Ranking.Entries[i-1].Eligible && e.Score > res.Ranking.Entries[i-1].Score+1e-6 {
			t.Errorf("ranking out of order at %d", i+1)
		}
	}
	if funded != 3 {
		t.Errorf("%d funded, want 3 (funding line)", funded)
	}
	for _, p := range res.Proposals {
		if p.ExpectedRank != nil && *p.RankLow > *p.RankHigh {
			t.Errorf("%s: bad interval %d-%d", p.ID, *p.RankLow, *p.RankHigh)
		}
		if p.ExpectedRank != nil && p.CrossesFundingLine != (*p.RankLow <= 3 && *p.RankHigh > 3) {
			t.Errorf("%s: interval %d-%d, crosses line 3: %v", p.ID, *p.RankLow, *p.RankHigh, p.CrossesFundingLine)
		}
	}
	for _, e := range res.Evaluators {
		if len(e.CriterionLeniency) != 3 || e.AgreementWithOthers == nil {
			t.Errorf("evaluator %s: %+v", e.ID, e)
		}
	}
	// Same input, same output, byte for byte.
	res2, err := Analyse(context.Background(), readExample(t))
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := json.MarshalIndent(res2, "", "  ")
	if string(out) != string(out2) {
		t.Error("analysis is not deterministic")
	}
}

func TestAnalyseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Analyse(ctx, Generate(GenerateOptions{Proposals: 20, Evaluators: 6}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestAnalyseDisconnectedWarns(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 30, Evaluators: 9, Groups: 3, Seed: 5})
	res, err := Analyse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, "overall: the evaluator-proposal graph has 3 separate components") {
			found = true
		}
	}
	if !found {
		t.Errorf("no component warning in %q", res.Warnings)
	}
}

func TestAnalyseConsensusMargin(t *testing.T) {
	in := readExample(t)
	in.ConsensusMargin = 0.1
	in.Consensus = append(in.Consensus, ConsensusScore{ProposalID: "FAC-2026-007", CriterionID: "relevance", Score: 5})
	res, err := Analyse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Proposals {
		if p.ID != "FAC-2026-007" {
			continue
		}
		if !p.Criteria[0].NeedsJustification {
			t.Errorf("unjustified departure not flagged: %+v", p.Criteria[0])
		}
	}
	// The justified one (008 impact) is never flagged.
	for _, p := range res.Proposals {
		if p.ID == "FAC-2026-008" && p.Criteria[1].NeedsJustification {
			t.Error("justified consensus flagged")
		}
	}
}

func TestAnalyseDiscordance(t *testing.T) {
	// Three proposals whose evaluators agree and one where they split 0 vs 5.
	in := &Instance{
		Criteria: []Criterion{{ID: "q", Weight: 1}},
		Reviews: []Review{
			{"A", "x", 3, map[string]float64{"q": 4}}, {"A", "y", 3, map[string]float64{"q": 4}},
			{"B", "x", 3, map[string]float64{"q": 2}}, {"B", "y", 3, map[string]float64{"q": 2.5}},
			{"C", "x", 3, map[string]float64{"q": 3}}, {"C", "y", 3, map[string]float64{"q": 3}},
			{"D", "x", 3, map[string]float64{"q": 0}}, {"D", "y", 3, map[string]float64{"q": 5}},
		},
	}
	res, err := Analyse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Proposals {
		if want := p.ID == "D"; p.Overall.Discordant != want || p.Criteria[0].Discordant != want {
			t.Errorf("%s: discordant %v, want %v (sd %.2f, cutoff %.2f)", p.ID, p.Overall.Discordant, want, p.Overall.Raw.SD, res.Overall.DiscordanceCutoff)
		}
	}
}

func TestGenerateDeterministicAndValid(t *testing.T) {
	opt := GenerateOptions{Proposals: 50, Evaluators: 10, MissingRate: 0.1, Seed: 9}
	a, b := Generate(opt), Generate(opt)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("Generate is not deterministic")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(a.Reviews) != 150 || len(a.Planted.Merit) != 50 || len(a.Planted.Leniency) != 10 {
		t.Errorf("sizes: %d reviews, %d merits, %d leniencies", len(a.Reviews), len(a.Planted.Merit), len(a.Planted.Leniency))
	}
	for seed := uint64(0); seed < 20; seed++ {
		g := Generate(GenerateOptions{Proposals: 40, Evaluators: 8, Criteria: 4, MissingRate: 0.5, Groups: 2, Seed: seed})
		if err := g.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	// A generated instance round-trips through the strict reader.
	if _, err := ReadInstance(strings.NewReader(string(ja))); err != nil {
		t.Fatal(err)
	}
}

func TestAnalyseRankBy(t *testing.T) {
	for _, by := range []string{RankByCalibrated, RankByRaw, RankByConsensus} {
		in := readExample(t)
		in.RankBy = by
		res, err := Analyse(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", by, err)
		}
		if !strings.HasPrefix(res.Ranking.Basis, by) {
			t.Errorf("%s: basis %q", by, res.Ranking.Basis)
		}
		top := res.Ranking.Entries[0]
		if by == RankByConsensus && top.Proposal != "FAC-2026-001" {
			t.Errorf("consensus ranking: top %s, want FAC-2026-001 (consensus 4.5/4.5/4)", top.Proposal)
		}
	}
}

// TestAnalyseCalibrationHelpsRanking: on a generated call with strong
// evaluator leniencies the calibrated totals track the planted merits more
// closely than the raw totals.
func TestAnalyseCalibrationHelpsRanking(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 300, Evaluators: 30, ReviewsPerProposal: 3, LeniencySD: 0.8, MissingRate: 0.1, Seed: 11})
	res, err := Analyse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var raw, cal, truth []float64
	for _, p := range res.Proposals {
		raw = append(raw, p.Overall.Raw.Mean)
		cal = append(cal, p.Overall.Calibrated)
		truth = append(truth, in.Planted.Merit[p.ID])
	}
	rc, cc := corr(raw, truth), corr(cal, truth)
	t.Logf("correlation with planted merit: raw %.3f, calibrated %.3f", rc, cc)
	if cc <= rc || cc < 0.9 {
		t.Errorf("calibrated r %.3f should exceed raw r %.3f and 0.9", cc, rc)
	}
	// Calibrated leniencies track the planted ones.
	var len_, ltruth []float64
	for _, e := range res.Evaluators {
		len_ = append(len_, e.Leniency)
		ltruth = append(ltruth, in.Planted.Leniency[e.ID])
	}
	if r := corr(len_, ltruth); r < 0.95 {
		t.Errorf("leniency r %.3f, want > 0.95", r)
	}
}
