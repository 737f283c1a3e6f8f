package scoring

import (
	"math"
	"slices"
)

// Aggregate summarises the scores one proposal received on one criterion (or
// the review totals).
type Aggregate struct {
	N           int     `json:"n"`
	Mean        float64 `json:"mean"`
	Median      float64 `json:"median"`
	TrimmedMean float64 `json:"trimmed_mean"`
	// SD is the sample standard deviation (n-1 denominator); 0 for one score.
	SD     float64 `json:"sd"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Spread float64 `json:"spread"`
}

// Summarise computes the aggregate of scores. trim is the fraction cut from
// each end before the trimmed mean (floor(trim*n) scores each side, so with
// three scores and trim 0.2 nothing is cut). Empty input gives a zero value.
func Summarise(scores []float64, trim float64) Aggregate {
	n := len(scores)
	if n == 0 {
		return Aggregate{}
	}
	s := slices.Clone(scores)
	slices.Sort(s)
	a := Aggregate{N: n, Min: s[0], Max: s[n-1], Spread: s[n-1] - s[0]}
	a.Mean = mean(s)
	if n%2 == 1 {
		a.Median = s[n/2]
	} else {
		a.Median = (s[n/2-1] + s[n/2]) / 2
	}
	cut := int(math.Floor(trim * float64(n)))
	if 2*cut >= n {
		cut = (n - 1) / 2
	}
	a.TrimmedMean = mean(s[cut : n-cut])
	a.SD = math.Sqrt(sampleVariance(s, a.Mean))
	return a
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	return sum / float64(len(x))
}

func sampleVariance(x []float64, m float64) float64 {
	if len(x) < 2 {
		return 0
	}
	ss := 0.0
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return ss / float64(len(x)-1)
}

// pearson returns the correlation of x and y, or nil when it is undefined
// (fewer than three pairs or no variation).
func pearson(x, y []float64) *float64 {
	if len(x) < 3 || len(x) != len(y) {
		return nil
	}
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx <= 1e-12 || syy <= 1e-12 {
		return nil
	}
	r := sxy / math.Sqrt(sxx*syy)
	return &r
}

func ptr(v float64) *float64 { return &v }
