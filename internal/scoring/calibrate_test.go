package scoring

import (
	"math"
	"strings"
	"testing"
)

// overallObservations turns an instance's review totals into observations.
func overallObservations(in *Instance) []Observation {
	obs := make([]Observation, 0, len(in.Reviews))
	for _, r := range in.Reviews {
		if t, ok := ReviewTotal(in.Criteria, r); ok {
			obs = append(obs, Observation{Proposal: r.ProposalID, Evaluator: r.EvaluatorID, Score: t, Weight: reviewWeight(r.Confidence)})
		}
	}
	return obs
}

func criterionObservations(in *Instance, c string) []Observation {
	var obs []Observation
	for _, r := range in.Reviews {
		if v, ok := r.Scores[c]; ok {
			obs = append(obs, Observation{Proposal: r.ProposalID, Evaluator: r.EvaluatorID, Score: v, Weight: reviewWeight(r.Confidence)})
		}
	}
	return obs
}

// centredRMSE compares estimates with the truth after removing each one's
// mean (the model identifies merits only up to the component mean).
func centredRMSE(est, truth []float64) float64 {
	me, mt := mean(est), mean(truth)
	s := 0.0
	for i := range est {
		d := (est[i] - me) - (truth[i] - mt)
		s += d * d
	}
	return math.Sqrt(s / float64(len(est)))
}

func corr(x, y []float64) float64 {
	if r := pearson(x, y); r != nil {
		return *r
	}
	return math.NaN()
}

// TestCalibrateRecoversPlanted: 400 proposals x 4 reviews by 40 evaluators
// (40 reviews each) on the 0-5 half-point scale, merit SD 0.8, leniency SD
// 0.5, noise SD 0.4 at confidence 3. Stated error: merit RMSE < 0.30 score
// points and correlation > 0.95; leniency RMSE < 0.15 and correlation > 0.95;
// calibrated merits closer to the truth than raw means.
func TestCalibrateRecoversPlanted(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 400, Evaluators: 40, ReviewsPerProposal: 4, Criteria: 1, Seed: 7})
	cal, err := Calibrate(criterionObservations(in, "c1"), DefaultCalibrationOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !cal.Converged || len(cal.Components) != 1 || len(cal.Warnings) != 0 {
		t.Fatalf("converged %v after %d, components %d, warnings %v", cal.Converged, cal.Iterations, len(cal.Components), cal.Warnings)
	}
	var merit, truth, raw []float64
	for _, p := range cal.Proposals {
		merit = append(merit, p.Calibrated)
		raw = append(raw, p.RawMean)
		truth = append(truth, in.Planted.Merit[p.ID])
	}
	var len_, ltruth []float64
	for _, e := range cal.Evaluators {
		len_ = append(len_, e.Leniency)
		ltruth = append(ltruth, in.Planted.Leniency[e.ID])
	}
	mr, mc := centredRMSE(merit, truth), corr(merit, truth)
	rr := centredRMSE(raw, truth)
	lr, lc := centredRMSE(len_, ltruth), corr(len_, ltruth)
	t.Logf("iterations %d; merit RMSE %.3f (raw means %.3f) r=%.3f; leniency RMSE %.3f r=%.3f", cal.Iterations, mr, rr, mc, lr, lc)
	if mr > 0.30 || mc < 0.95 {
		t.Errorf("merit recovery: RMSE %.3f (want < 0.30), r %.3f (want > 0.95)", mr, mc)
	}
	if mr >= rr {
		t.Errorf("calibration did not beat raw means: %.3f vs %.3f", mr, rr)
	}
	if lr > 0.15 || lc < 0.95 {
		t.Errorf("leniency recovery: RMSE %.3f (want < 0.15), r %.3f (want > 0.95)", lr, lc)
	}
}

func TestCalibrateExactModel(t *testing.T) {
	// Noise-free data and no ridge: the fit must reproduce every score.
	merit := map[string]float64{"A": 1, "B": 0, "C": -1, "D": 0.5}
	len_ := map[string]float64{"x": 0.5, "y": -0.5, "z": 0}
	var obs []Observation
	for _, pe := range [][2]string{{"A", "x"}, {"A", "y"}, {"B", "y"}, {"B", "z"}, {"C", "z"}, {"C", "x"}, {"D", "x"}, {"D", "y"}, {"D", "z"}} {
		obs = append(obs, Observation{Proposal: pe[0], Evaluator: pe[1], Score: 3 + merit[pe[0]] + len_[pe[1]], Weight: 1})
	}
	cal, err := Calibrate(obs, CalibrationOptions{Tolerance: 1e-12, MaxIterations: 100000})
	if err != nil {
		t.Fatal(err)
	}
	fit := map[string]float64{}
	for _, p := range cal.Proposals {
		fit[p.ID] = p.Calibrated
	}
	lfit := map[string]float64{}
	for _, e := range cal.Evaluators {
		lfit[e.ID] = e.Leniency
	}
	for _, o := range obs {
		got := fit[o.Proposal] + lfit[o.Evaluator]
		if math.Abs(got-o.Score) > 1e-6 {
			t.Errorf("%s by %s: fitted %.6f, observed %.6f", o.Proposal, o.Evaluator, got, o.Score)
		}
	}
	// Differences of merits are identified without any penalty.
	if d := fit["A"] - fit["C"]; math.Abs(d-2) > 1e-6 {
		t.Errorf("merit A - C = %v, want 2", d)
	}
}

func TestCalibrateDisconnected(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 60, Evaluators: 12, Groups: 3, Criteria: 1, Seed: 3})
	cal, err := Calibrate(criterionObservations(in, "c1"), DefaultCalibrationOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Components) != 3 {
		t.Fatalf("components: %d, want 3", len(cal.Components))
	}
	if len(cal.Warnings) != 1 || !strings.Contains(cal.Warnings[0], "3 separate components") ||
		!strings.Contains(cal.Warnings[0], "component 3 (proposals") {
		t.Fatalf("warning %q", cal.Warnings)
	}
	// Every proposal's evaluators are in its component, and each component
	// has its own mean.
	comp := map[string]int{}
	for _, p := range cal.Proposals {
		comp[p.ID] = p.Component
	}
	ecomp := map[string]int{}
	for _, e := range cal.Evaluators {
		ecomp[e.ID] = e.Component
	}
	for _, r := range in.Reviews {
		if comp[r.ProposalID] != ecomp[r.EvaluatorID] {
			t.Fatalf("review %s/%s crosses components", r.ProposalID, r.EvaluatorID)
		}
	}
	total := 0
	for _, c := range cal.Components {
		total += c.Proposals
		if c.Proposals != 20 || c.Evaluators != 4 {
			t.Errorf("component %d: %d proposals, %d evaluators", c.Index, c.Proposals, c.Evaluators)
		}
	}
	// Fitting one component alone gives the same answer as fitting all.
	var alone []Observation
	for _, o := range criterionObservations(in, "c1") {
		if comp[o.Proposal] == 2 {
			alone = append(alone, o)
		}
	}
	cal2, err := Calibrate(alone, DefaultCalibrationOptions())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]float64{}
	for _, p := range cal.Proposals {
		byID[p.ID] = p.Calibrated
	}
	for _, p := range cal2.Proposals {
		if math.Abs(p.Calibrated-byID[p.ID]) > 1e-4 {
			t.Errorf("%s: alone %.6f, together %.6f", p.ID, p.Calibrated, byID[p.ID])
		}
	}
}

func TestCalibrateShrinksFewReviewEvaluators(t *testing.T) {
	// A panel of 30 proposals x 3 regular evaluators who agree, plus "harsh"
	// and "rare" who are both one point harsher: "harsh" on 20 proposals,
	// "rare" on one. The rare evaluator's leniency is pulled toward zero
	// much more, and the shrinkage is reported.
	var obs []Observation
	for p := 0; p < 30; p++ {
		id := string(rune('A'+p%26)) + string(rune('a'+p/26))
		m := float64(p%6) * 0.5
		for _, e := range []string{"e1", "e2", "e3"} {
			obs = append(obs, Observation{Proposal: id, Evaluator: e, Score: 1.5 + m, Weight: 1})
		}
		if p < 20 {
			obs = append(obs, Observation{Proposal: id, Evaluator: "harsh", Score: 0.5 + m, Weight: 1})
		}
		if p == 25 {
			obs = append(obs, Observation{Proposal: id, Evaluator: "rare", Score: 0.5 + m, Weight: 1})
		}
	}
	cal, err := Calibrate(obs, CalibrationOptions{LambdaF: 0.5, LambdaB: 2})
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]EvaluatorLeniency{}
	for _, e := range cal.Evaluators {
		ev[e.ID] = e
	}
	h, r := ev["harsh"], ev["rare"]
	// Leniency is relative to the average evaluator, so compare with the
	// regular evaluators, who agree with each other.
	regular := (ev["e1"].Leniency + ev["e2"].Leniency + ev["e3"].Leniency) / 3
	hRel, rRel := h.Leniency-regular, r.Leniency-regular
	t.Logf("relative to the regulars: harsh %.3f (shrinkage %.2f), rare %.3f (shrinkage %.2f)", hRel, h.Shrinkage, rRel, r.Shrinkage)
	if hRel > -0.85 {
		t.Errorf("harsh evaluator with 20 reviews: leniency %.3f, want near -1", hRel)
	}
	if rRel < -0.6 || rRel >= 0 {
		t.Errorf("rare evaluator with 1 review: leniency %.3f, want shrunk well toward 0", rRel)
	}
	if math.Abs(r.Shrinkage-2.0/3) > 1e-12 || math.Abs(h.Shrinkage-2.0/22) > 1e-12 {
		t.Errorf("shrinkage: rare %v (want 2/3), harsh %v (want 1/11)", r.Shrinkage, h.Shrinkage)
	}
	if r.SE <= h.SE {
		t.Errorf("rare evaluator should be less certain: SE %v vs %v", r.SE, h.SE)
	}
}

func TestCalibrateErrors(t *testing.T) {
	if _, err := Calibrate(nil, DefaultCalibrationOptions()); err == nil {
		t.Error("no observations: want an error")
	}
	bad := []Observation{{Proposal: "A", Evaluator: "x", Score: 1, Weight: 0}}
	if _, err := Calibrate(bad, DefaultCalibrationOptions()); err == nil || !strings.Contains(err.Error(), `"A"`) {
		t.Errorf("zero weight: %v", err)
	}
	neg := DefaultCalibrationOptions()
	neg.LambdaB = -1
	if _, err := Calibrate([]Observation{{"A", "x", 1, 1}}, neg); err == nil {
		t.Error("negative lambda: want an error")
	}
	// A single review is fine, but the noise cannot be estimated.
	cal, err := Calibrate([]Observation{{"A", "x", 1, 1}}, DefaultCalibrationOptions())
	if err != nil || cal.ResidualVariance != 0 || len(cal.Warnings) == 0 {
		t.Errorf("single review: %+v, %v", cal, err)
	}
}

func TestRankIntervals(t *testing.T) {
	est := []Estimate{{"A", 4, 0.01}, {"B", 3, 0.5}, {"C", 2.9, 0.5}, {"D", 1, 0.01}}
	ri := RankIntervals(est, RankIntervalOptions{Draws: 2000, Level: 0.9, Seed: 1, FundingLine: 2})
	if ri[0].Low != 1 || ri[0].High != 1 || ri[0].CrossesFundingLine {
		t.Errorf("A: %+v", ri[0])
	}
	if ri[3].Low != 4 || ri[3].High != 4 || ri[3].CrossesFundingLine || *ri[3].ProbabilityFunded != 0 {
		t.Errorf("D: %+v", ri[3])
	}
	for _, i := range []int{1, 2} {
		if ri[i].Low != 2 || ri[i].High != 3 || !ri[i].CrossesFundingLine {
			t.Errorf("%s: %+v, want interval 2-3 crossing the line", est[i].ID, ri[i])
		}
	}
	if !(ri[1].ExpectedRank < ri[2].ExpectedRank) {
		t.Errorf("B should expect a better rank than C: %v vs %v", ri[1].ExpectedRank, ri[2].ExpectedRank)
	}
	again := RankIntervals(est, RankIntervalOptions{Draws: 2000, Level: 0.9, Seed: 1, FundingLine: 2})
	for i := range ri {
		if ri[i].ExpectedRank != again[i].ExpectedRank {
			t.Fatal("same seed, different result")
		}
	}
}
