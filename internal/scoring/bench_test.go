package scoring

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCalibrate fits the overall model on generated calls of 10k, 30k
// and 100k reviews (three reviews per proposal, about 30 per evaluator).
// Target: 100k reviews under 1 s on 2 cores. Timings on a shared machine
// are noisy; the tests assert no timings.
//
//	go test ./internal/scoring -run '^$' -bench Calibrate -benchtime 5x
func BenchmarkCalibrate(b *testing.B) {
	for _, reviews := range []int{10_000, 30_000, 100_000} {
		props := reviews / 3
		in := Generate(GenerateOptions{Proposals: props, Evaluators: props / 10, ReviewsPerProposal: 3, Criteria: 1, Seed: 1})
		obs := overallObservations(in)
		b.Run(fmt.Sprintf("reviews=%d", len(obs)), func(b *testing.B) {
			iters := 0
			for b.Loop() {
				cal, err := Calibrate(obs, DefaultCalibrationOptions())
				if err != nil {
					b.Fatal(err)
				}
				iters = cal.Iterations
			}
			b.ReportMetric(float64(iters), "iterations")
		})
	}
}

// BenchmarkAnalyse runs the whole analysis (three criteria, reliability,
// rank intervals) on a call of 3,000 reviews.
func BenchmarkAnalyse(b *testing.B) {
	in := Generate(GenerateOptions{Proposals: 1000, Evaluators: 100, Seed: 1})
	for b.Loop() {
		if _, err := Analyse(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
