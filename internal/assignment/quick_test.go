package assignment

import (
	"context"
	"testing"
	"time"
)

func TestQuickGen(t *testing.T) {
	for _, sz := range [][2]int{{100, 30}, {1000, 300}, {3000, 1000}, {10000, 3000}} {
		in := Generate(GenerateOptions{Proposals: sz[0], Evaluators: sz[1], GroupBounds: true, Seed: 1})
		t0 := time.Now()
		res, err := Solve(context.Background(), in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: obj %d stats %+v exploded %d in %v", sz, res.Objective, res.Stats, len(res.Certificate.Exploded), time.Since(t0))
		if err := VerifyCertificate(in, res); err != nil {
			t.Fatal(err)
		}
	}
}
