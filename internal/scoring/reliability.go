package scoring

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Metric is the difference function of Krippendorff's alpha.
type Metric string

// Metrics for KrippendorffAlpha. Scores are interval data; ordinal treats
// them as ranks only. Nominal and ratio are provided for completeness.
const (
	Nominal  Metric = "nominal"
	Ordinal  Metric = "ordinal"
	Interval Metric = "interval"
	Ratio    Metric = "ratio"
)

// KrippendorffAlpha computes alpha = 1 - D_o/D_e over the coincidence matrix
// (Hayes & Krippendorff 2007; Krippendorff 2011, "Computing Krippendorff's
// Alpha-Reliability"). Each unit (proposal) holds the values its raters
// gave; missing ratings are simply absent, any number of raters is allowed
// and units with fewer than two values are not pairable and are ignored.
// It returns an error when fewer than two pairable values exist or all
// pairable values are equal (alpha is then undefined).
func KrippendorffAlpha(units [][]float64, metric Metric) (float64, error) {
	var vals []float64
	for _, u := range units {
		if len(u) < 2 {
			continue
		}
		for _, v := range u {
			if !finite(v) {
				return 0, errors.New("krippendorff alpha: value is not a number")
			}
			vals = append(vals, v)
		}
	}
	if len(vals) < 2 {
		return 0, errors.New("krippendorff alpha: fewer than two pairable values")
	}
	// Distinct values and their marginal frequencies n_c.
	slices.Sort(vals)
	var distinct, freq []float64
	for _, v := range vals {
		if len(distinct) > 0 && distinct[len(distinct)-1] == v {
			freq[len(freq)-1]++
			continue
		}
		distinct = append(distinct, v)
		freq = append(freq, 1)
	}
	if len(distinct) < 2 {
		return 0, errors.New("krippendorff alpha: all values are equal, so expected disagreement is zero")
	}
	n := float64(len(vals))
	idx := func(v float64) int { return sort.SearchFloat64s(distinct, v) }
	// cum[g] = n_0 + ... + n_{g-1}, for the ordinal metric.
	cum := make([]float64, len(freq)+1)
	for g, f := range freq {
		cum[g+1] = cum[g] + f
	}
	var delta2 func(a, b int) float64
	switch metric {
	case Nominal:
		delta2 = func(a, b int) float64 {
			if a == b {
				return 0
			}
			return 1
		}
	case Ordinal:
		delta2 = func(a, b int) float64 {
			if a > b {
				a, b = b, a
			}
			d := cum[b+1] - cum[a] - (freq[a]+freq[b])/2
			return d * d
		}
	case Interval:
		delta2 = func(a, b int) float64 {
			d := distinct[a] - distinct[b]
			return d * d
		}
	case Ratio:
		delta2 = func(a, b int) float64 {
			s := distinct[a] + distinct[b]
			if s == 0 {
				return 0
			}
			d := (distinct[a] - distinct[b]) / s
			return d * d
		}
	default:
		return 0, fmt.Errorf("krippendorff alpha: unknown metric %q", metric)
	}

	// Observed: sum over units of the unit's ordered pairs, each unit
	// weighted 1/(m_u - 1), as the coincidence matrix does.
	observed := 0.0
	var ui []int
	for _, u := range units {
		if len(u) < 2 {
			continue
		}
		ui = ui[:0]
		for _, v := range u {
			ui = append(ui, idx(v))
		}
		s := 0.0
		for i := range ui {
			for j := i + 1; j < len(ui); j++ {
				s += 2 * delta2(ui[i], ui[j])
			}
		}
		observed += s / float64(len(u)-1)
	}
	// Expected: sum_c sum_k n_c n_k delta^2_ck.
	expected := 0.0
	if metric == Interval {
		// Closed form about the mean: sum n_c n_k (c-k)^2 = 2 n sum n_c (c-m)^2.
		m := mean(vals)
		for _, v := range vals {
			expected += (v - m) * (v - m)
		}
		expected *= 2 * n
	} else {
		for a := range distinct {
			for b := a + 1; b < len(distinct); b++ {
				expected += 2 * freq[a] * freq[b] * delta2(a, b)
			}
		}
	}
	if expected <= 0 {
		return 0, errors.New("krippendorff alpha: expected disagreement is zero")
	}
	return 1 - (n-1)*observed/expected, nil
}

// ICCResult is a one-way random-effects intraclass correlation.
type ICCResult struct {
	Targets int `json:"targets"`
	Ratings int `json:"ratings"`
	// K is the number of ratings per target; with unequal numbers it is the
	// usual adjusted mean k0 = (N - sum k_i^2 / N) / (n - 1).
	K   float64 `json:"k"`
	MSB float64 `json:"msb"`
	MSW float64 `json:"msw"`
	// ICC1 = (MSB - MSW) / (MSB + (K-1) MSW): reliability of one rating.
	ICC1 float64 `json:"icc1"`
	// ICC1K = (MSB - MSW) / MSB: reliability of the mean of K ratings.
	ICC1K float64 `json:"icc1k"`
}

// ICC computes ICC(1) and ICC(1,k) of Shrout & Fleiss (1979) from a one-way
// analysis of variance, one group of ratings per target (proposal). Each
// target may be rated by different raters and by different numbers of them:
// the between- and within-target mean squares are the unbalanced one-way
// ANOVA ones, and k is replaced by k0 (see ICCResult.K). Targets with a
// single rating add to the between-target but not the within-target sum.
func ICC(targets [][]float64) (ICCResult, error) {
	var res ICCResult
	total, grand := 0, 0.0
	for _, t := range targets {
		if len(t) == 0 {
			continue
		}
		res.Targets++
		total += len(t)
		for _, v := range t {
			if !finite(v) {
				return res, errors.New("icc: rating is not a number")
			}
			grand += v
		}
	}
	res.Ratings = total
	if res.Targets < 2 {
		return res, errors.New("icc: fewer than two rated proposals")
	}
	if total <= res.Targets {
		return res, errors.New("icc: no proposal has two ratings")
	}
	grand /= float64(total)
	var ssb, ssw, sumK2 float64
	for _, t := range targets {
		if len(t) == 0 {
			continue
		}
		m := mean(t)
		ssb += float64(len(t)) * (m - grand) * (m - grand)
		for _, v := range t {
			ssw += (v - m) * (v - m)
		}
		sumK2 += float64(len(t) * len(t))
	}
	N, n := float64(total), float64(res.Targets)
	res.MSB = ssb / (n - 1)
	res.MSW = ssw / (N - n)
	res.K = (N - sumK2/N) / (n - 1)
	if res.MSB <= 0 {
		return res, errors.New("icc: all proposals have the same mean, so between-proposal variance is zero")
	}
	den := res.MSB + (res.K-1)*res.MSW
	if den <= 0 {
		return res, errors.New("icc: numbers of ratings per proposal are too uneven for ICC(1)")
	}
	res.ICC1 = (res.MSB - res.MSW) / den
	res.ICC1K = (res.MSB - res.MSW) / res.MSB
	return res, nil
}

// SpearmanBrown projects the reliability rho of one rating to the mean of k
// ratings: R_k = k rho / (1 + (k-1) rho).
func SpearmanBrown(rho, k float64) float64 {
	d := 1 + (k-1)*rho
	if d == 0 {
		return math.Inf(1)
	}
	return k * rho / d
}

// Projection is the projected reliability with a given number of evaluators.
type Projection struct {
	Evaluators  int     `json:"evaluators"`
	Reliability float64 `json:"reliability"`
}

// SpearmanBrownTable projects rho to 1..maxK evaluators per proposal, to show
// how many evaluators a call needs.
func SpearmanBrownTable(rho float64, maxK int) []Projection {
	out := make([]Projection, 0, maxK)
	for k := 1; k <= maxK; k++ {
		r := SpearmanBrown(rho, float64(k))
		if !finite(r) {
			continue
		}
		out = append(out, Projection{Evaluators: k, Reliability: r})
	}
	return out
}
