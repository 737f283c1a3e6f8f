package scoring

import (
	"math"
	"testing"
)

// krippendorff2011 is the reliability data of Krippendorff, K. (2011),
// "Computing Krippendorff's Alpha-Reliability", University of Pennsylvania
// ScholarlyCommons, section C ("nominal data, any number of observers,
// missing data"): 4 observers x 12 units, -1 = missing. The paper reports
// alpha = .743 (nominal), .815 (ordinal), .849 (interval) and .797 (ratio).
var krippendorff2011 = [4][12]float64{
	{1, 2, 3, 3, 2, 1, 4, 1, 2, -1, -1, -1},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, -1, 3},
	{-1, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, -1},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, -1},
}

func kUnits() [][]float64 {
	units := make([][]float64, 12)
	for _, obs := range krippendorff2011 {
		for u, v := range obs {
			if v >= 0 {
				units[u] = append(units[u], v)
			}
		}
	}
	return units
}

func TestKrippendorffAlphaPublishedExample(t *testing.T) {
	tests := []struct {
		metric Metric
		want   float64
	}{
		{Nominal, 0.743},
		{Ordinal, 0.815},
		{Interval, 0.849},
		{Ratio, 0.797},
	}
	for _, tc := range tests {
		t.Run(string(tc.metric), func(t *testing.T) {
			got, err := KrippendorffAlpha(kUnits(), tc.metric)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 0.0005 {
				t.Errorf("alpha %s = %.4f, want %.3f", tc.metric, got, tc.want)
			}
		})
	}
}

func TestKrippendorffAlphaEdgeCases(t *testing.T) {
	if a, err := KrippendorffAlpha([][]float64{{1, 1}, {3, 3}, {5, 5, 5}}, Interval); err != nil || math.Abs(a-1) > 1e-12 {
		t.Errorf("perfect agreement: alpha %v, err %v; want 1", a, err)
	}
	if _, err := KrippendorffAlpha([][]float64{{2, 2}, {2}}, Interval); err == nil {
		t.Error("no variation: want an error, alpha is undefined")
	}
	if _, err := KrippendorffAlpha([][]float64{{2}, {3}}, Ordinal); err == nil {
		t.Error("no pairable values: want an error")
	}
	if _, err := KrippendorffAlpha(kUnits(), Metric("cosine")); err == nil {
		t.Error("unknown metric: want an error")
	}
	// Input order of units and of values within units must not matter.
	u := kUnits()
	rev := make([][]float64, len(u))
	for i := range u {
		v := append([]float64(nil), u[len(u)-1-i]...)
		for a, b := 0, len(v)-1; a < b; a, b = a+1, b-1 {
			v[a], v[b] = v[b], v[a]
		}
		rev[i] = v
	}
	a1, _ := KrippendorffAlpha(u, Ordinal)
	a2, _ := KrippendorffAlpha(rev, Ordinal)
	if math.Abs(a1-a2) > 1e-12 {
		t.Errorf("order dependence: %v vs %v", a1, a2)
	}
}

// shroutFleiss1979 is Table 2 of Shrout, P. E. & Fleiss, J. L. (1979),
// "Intraclass correlations: uses in assessing rater reliability",
// Psychological Bulletin 86(2), 420-428: 6 targets rated by 4 judges. Their
// Table 4 gives ICC(1,1) = .17 and ICC(1,4) = .44 (BMS 11.24, WMS 6.26).
var shroutFleiss1979 = [][]float64{
	{9, 2, 5, 8},
	{6, 1, 3, 2},
	{8, 4, 6, 8},
	{7, 1, 2, 6},
	{10, 5, 6, 9},
	{6, 2, 4, 7},
}

func TestICCPublishedExample(t *testing.T) {
	r, err := ICC(shroutFleiss1979)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"BMS", r.MSB, 11.24, 0.005},
		{"WMS", r.MSW, 6.26, 0.005},
		{"k", r.K, 4, 1e-12},
		{"ICC(1,1)", r.ICC1, 0.17, 0.005},
		{"ICC(1,4)", r.ICC1K, 0.44, 0.005},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s = %.4f, want %.2f", c.name, c.got, c.want)
		}
	}
}

func TestICCUnequalGroups(t *testing.T) {
	// Dropping ratings keeps the estimate finite and uses k0 < 4.
	data := [][]float64{{9, 2, 5}, {6, 1, 3, 2}, {8, 4}, {7, 1, 2, 6}, {10, 5, 6, 9}, {6}}
	r, err := ICC(data)
	if err != nil {
		t.Fatal(err)
	}
	// N = 18, sum k^2 = 9+16+4+16+16+1 = 62, k0 = (18 - 62/18)/5.
	if want := (18 - 62.0/18) / 5; math.Abs(r.K-want) > 1e-12 {
		t.Errorf("k0 = %v, want %v", r.K, want)
	}
	if r.ICC1 < -1 || r.ICC1 > 1 || r.ICC1K > 1 {
		t.Errorf("ICC out of range: %+v", r)
	}
	if _, err := ICC([][]float64{{1, 2}}); err == nil {
		t.Error("one proposal: want an error")
	}
	if _, err := ICC([][]float64{{1}, {2}}); err == nil {
		t.Error("no replication: want an error")
	}
	if _, err := ICC([][]float64{{1, 3}, {3, 1}}); err == nil {
		t.Error("equal means: want an error")
	}
}

func TestSpearmanBrown(t *testing.T) {
	// REVIEW.md: with rho = 0.26 (a national research fund), three
	// evaluators give 0.51 and five give 0.64.
	tests := []struct {
		k    float64
		want float64
	}{{1, 0.26}, {3, 0.51}, {5, 0.64}}
	for _, tc := range tests {
		if got := SpearmanBrown(0.26, tc.k); math.Abs(got-tc.want) > 0.005 {
			t.Errorf("k=%v: %.4f, want %.2f", tc.k, got, tc.want)
		}
	}
	tab := SpearmanBrownTable(0.26, 7)
	if len(tab) != 7 || tab[0].Evaluators != 1 || tab[6].Evaluators != 7 {
		t.Fatalf("table %+v", tab)
	}
	for i := 1; i < len(tab); i++ {
		if tab[i].Reliability <= tab[i-1].Reliability {
			t.Errorf("projection not increasing at k=%d", tab[i].Evaluators)
		}
	}
}
