package portfolio

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSelect solves generated instances with a budget of a third of the
// money requested, ten share and region rules, and country and organisation
// caps, to proven optimality (score objective, no price of diversity).
// Timings on a shared machine are noisy.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{500, 2000, 5000} {
		in := Generate(GenerateOptions{Seed: 1, Proposals: n})
		b.Run(fmt.Sprintf("proposals=%d", n), func(b *testing.B) {
			var nodes int64
			for i := 0; i < b.N; i++ {
				r, err := Select(context.Background(), in, Options{SkipPriceOfDiversity: true})
				if err != nil {
					b.Fatal(err)
				}
				if !r.Optimal {
					b.Fatalf("not proven optimal: %s", r.Status)
				}
				nodes += r.Nodes
			}
			b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
		})
	}
}
