package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"time"

	"facility/internal/assignment"
	"facility/internal/portfolio"
	"facility/internal/scoring"
)

// benchAssign: 10,000 proposals, 3,000 evaluators, k=3, with conflicts and
// group bounds (target under 5 s on 2 cores). The optimality certificate
// is checked independently after the timed solve.
func benchAssign(ctx context.Context, args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("assign", flag.ContinueOnError)
	proposals := fs.Int("proposals", 10000, "proposals")
	evaluators := fs.Int("evaluators", 3000, "evaluators")
	k := fs.Int("k", 3, "evaluators per proposal")
	seed := fs.Int64("seed", 1, "generator seed")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	in := assignment.Generate(assignment.GenerateOptions{Proposals: *proposals, Evaluators: *evaluators, K: *k, Seed: *seed, GroupBounds: true})
	logf("assign: %d proposals, %d evaluators, k=%d", *proposals, *evaluators, *k)
	start := time.Now()
	res, err := assignment.Solve(ctx, in, assignment.Options{})
	secs := time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("solve: %w", err)
	}
	certified := assignment.VerifyCertificate(in, res) == nil
	return map[string]any{"seconds": secs, "optimal": res.Optimal && certified, "objective": res.Objective,
		"proposals": *proposals, "evaluators": *evaluators, "k": *k, "cores": runtime.GOMAXPROCS(0)}, nil
}

// benchCalibrate: fit the additive model on 100,000 reviews (target under 1 s).
func benchCalibrate(ctx context.Context, args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	reviews := fs.Int("reviews", 100000, "reviews (three per proposal)")
	seed := fs.Uint64("seed", 1, "generator seed")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	props := *reviews / 3
	in := scoring.Generate(scoring.GenerateOptions{Proposals: props, Evaluators: max(props/10, 3), ReviewsPerProposal: 3, Criteria: 1, Seed: *seed})
	obs := make([]scoring.Observation, 0, len(in.Reviews))
	for _, r := range in.Reviews {
		total, ok := scoring.ReviewTotal(in.Criteria, r)
		if ok {
			obs = append(obs, scoring.Observation{Proposal: r.ProposalID, Evaluator: r.EvaluatorID, Score: total, Weight: float64(r.Confidence) / 3})
		}
	}
	logf("calibrate: %d reviews of %d proposals", len(obs), props)
	start := time.Now()
	cal, err := scoring.Calibrate(obs, scoring.DefaultCalibrationOptions())
	secs := time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	// The ridge objective is strictly convex, so the fit is the optimum once
	// the alternating updates converged.
	return map[string]any{"seconds": secs, "optimal": cal.Converged, "objective": cal.ResidualVariance,
		"iterations": cal.Iterations, "proposals": props, "reviews": len(obs), "cores": runtime.GOMAXPROCS(0)}, nil
}

// benchSelect: 2,000 proposals, a budget and ten share/region rules, proven
// optimal (target under 2 s).
func benchSelect(ctx context.Context, args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("select", flag.ContinueOnError)
	proposals := fs.Int("proposals", 2000, "proposals")
	seed := fs.Uint64("seed", 1, "generator seed")
	limit := fs.Duration("limit", time.Minute, "time limit; the gap is reported if reached")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	in := portfolio.Generate(portfolio.GenerateOptions{Proposals: *proposals, Seed: *seed})
	logf("select: %d proposals, budget %d", *proposals, in.Budget)
	start := time.Now()
	res, err := portfolio.Select(ctx, in, portfolio.Options{TimeLimit: *limit, SkipPriceOfDiversity: true, SkipExplanation: true})
	secs := time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	return map[string]any{"seconds": secs, "optimal": res.Optimal, "objective": res.ObjectiveValue, "gap": res.Gap,
		"nodes": res.Nodes, "selected": len(res.Selected), "proposals": *proposals, "cores": runtime.GOMAXPROCS(0)}, nil
}
