package scoring

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const minimal = `{
  "criteria": [{"id": "impact", "weight": 1, "threshold": 3, "priority": 1}, {"id": "cost", "weight": 0.5, "scale": {"min": 1, "max": 10, "step": 1}}],
  "reviews": [
    {"proposal": "P1", "evaluator": "E1", "confidence": 3, "scores": {"impact": 4.5, "cost": 7}},
    {"proposal": "P1", "evaluator": "E2", "confidence": 5, "scores": {"impact": 4, "cost": 8}},
    {"proposal": "P2", "evaluator": "E1", "confidence": 2, "scores": {"impact": 2.5, "cost": 3}}
  ],
  "seed": 1
}`

// edit applies a change to the minimal instance, as text.
func edit(old, new string) string { return strings.Replace(minimal, old, new, 1) }

func TestReadInstanceErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{"criteria": [`, "read scoring instance"},
		{"unknown field", edit(`"seed": 1`, `"seed": 1, "sede": 2`), `unknown field "sede"`},
		{"unknown review field", edit(`"confidence": 2,`, `"confidence": 2, "note": "x",`), `unknown field "note"`},
		{"trailing data", minimal + `{}`, "after the JSON object"},
		{"null score", edit(`"cost": 3}`, `"cost": null}`), `criterion "cost" is null`},
		{"off the scale", edit(`"impact": 4.5`, `"impact": 5.5`), `review 1 (proposal "P1", evaluator "E1"): criterion "impact": score 5.5 is off the scale 0-5`},
		{"off the step", edit(`"impact": 4.5`, `"impact": 4.25`), `score 4.25 is not on the scale's step of 0.5`},
		{"custom scale", edit(`"cost": 3}`, `"cost": 0}`), `review 3 (proposal "P2", evaluator "E1"): criterion "cost": score 0 is off the scale 1-10`},
		{"confidence", edit(`"confidence": 5`, `"confidence": 6`), `review 2 (proposal "P1", evaluator "E2"): confidence 6 is outside 1-5`},
		{"confidence zero", edit(`"confidence": 5`, `"confidence": 0`), `confidence 0 is outside 1-5`},
		{"unknown criterion", edit(`"cost": 3}`, `"cost": 3, "costs": 2}`), `review 3 (proposal "P2", evaluator "E1"): unknown criterion "costs"`},
		{"duplicate review", edit(`"evaluator": "E2"`, `"evaluator": "E1"`), `review 2 (proposal "P1", evaluator "E1"): duplicate of review 1`},
		{"negative weight", edit(`"weight": 0.5`, `"weight": -0.5`), `criterion "cost": weight -0.5 is negative`},
		{"all weights zero", strings.ReplaceAll(strings.Replace(minimal, `"weight": 1`, `"weight": 0`, 1), `"weight": 0.5`, `"weight": 0`), "all criterion weights are zero"},
		{"no reviews", `{"criteria": [{"id": "a", "weight": 1}], "reviews": []}`, "no reviews"},
		{"no criteria", `{"criteria": [], "reviews": [{"proposal": "P", "evaluator": "E", "confidence": 3, "scores": {"a": 1}}]}`, "no criteria"},
		{"duplicate criterion", edit(`{"id": "cost"`, `{"id": "impact"`), `criterion "impact" is listed twice`},
		{"shared priority", edit(`"scale": {"min": 1`, `"priority": 1, "scale": {"min": 1`), `criteria "impact" and "cost" share tie-break priority 1`},
		{"bad scale", edit(`"max": 10`, `"max": 0.5`), `criterion "cost": scale max 0.5 is not above min 1`},
		{"threshold off scale", edit(`"threshold": 3`, `"threshold": 6`), `criterion "impact": threshold 6 is outside the scale 0-5`},
		{"missing weighted criterion", edit(`"impact": 2.5, `, ``), `proposal "P2" has no score for weighted criterion "impact"`},
		{"empty scores", edit(`"scores": {"impact": 2.5, "cost": 3}`, `"scores": {}`), `review 3 (proposal "P2", evaluator "E1"): no scores`},
		{"funding line", edit(`"seed": 1`, `"seed": 1, "funding_line": 3`), "funding line 3 is outside 1-2"},
		{"rank by", edit(`"seed": 1`, `"seed": 1, "rank_by": "best"`), `rank_by "best"`},
		{"lambda", edit(`"seed": 1`, `"seed": 1, "lambda_b": -1`), "lambda_b -1 must be a non-negative number"},
		{"trim", edit(`"seed": 1`, `"seed": 1, "trim_fraction": 0.5`), "trim_fraction 0.5 must be in [0, 0.5)"},
		{"unlisted proposal", edit(`"seed": 1`, `"seed": 1, "proposals": [{"id": "P1"}]`), `review 3 (proposal "P2", evaluator "E1"): proposal is not in the proposals list`},
		{"listed without reviews", edit(`"seed": 1`, `"seed": 1, "proposals": [{"id": "P1"}, {"id": "P2"}, {"id": "P3"}]`), `proposal "P3" has no reviews`},
		{"consensus unknown criterion", edit(`"seed": 1`, `"seed": 1, "consensus": [{"proposal": "P1", "criterion": "x", "score": 3}]`), `consensus 1 (proposal "P1", criterion "x"): unknown criterion`},
		{"consensus off scale", edit(`"seed": 1`, `"seed": 1, "consensus": [{"proposal": "P1", "criterion": "impact", "score": 3.3}]`), `not on the scale's step`},
		{"consensus twice", edit(`"seed": 1`, `"seed": 1, "consensus": [{"proposal": "P1", "criterion": "impact", "score": 3}, {"proposal": "P1", "criterion": "impact", "score": 3}]`), "given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadInstance(strings.NewReader(tc.json))
			if err == nil {
				t.Fatalf("accepted; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadInstanceAcceptsMinimal(t *testing.T) {
	in, err := ReadInstance(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	// P2 fails the impact threshold (2.5 < 3) and ranks last.
	if res.Ranking.Entries[1].Proposal != "P2" || res.Ranking.Entries[1].Eligible {
		t.Errorf("ranking %+v", res.Ranking.Entries)
	}
	// Review totals: weights 1 and 0.5, so P1/E1 = 4.5 + 0.5*7 = 8.
	if got := res.Proposals[0].Overall.Raw.Max; got != 8 {
		t.Errorf("P1 top review total %v, want 8", got)
	}
}

func TestValidateReportsSeveralProblems(t *testing.T) {
	bad := edit(`"confidence": 5`, `"confidence": 9`)
	bad = strings.Replace(bad, `"impact": 2.5`, `"impact": 7`, 1)
	_, err := ReadInstance(strings.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), "confidence 9") || !strings.Contains(err.Error(), "score 7 is off the scale") {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

func FuzzReadInstance(f *testing.F) {
	f.Add([]byte(minimal))
	if b, err := os.ReadFile("../../configs/examples/calibrate.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"criteria":[{"id":"a","weight":1,"scale":{"min":0,"max":1,"step":0}}],"reviews":[{"proposal":"p","evaluator":"e","confidence":1,"scores":{"a":0.5}}]}`))
	f.Add([]byte(`{"criteria":[{"id":"a","weight":1}],"reviews":[{"proposal":"p","evaluator":"e","confidence":3,"scores":{"a":1}},{"proposal":"q","evaluator":"e","confidence":3,"scores":{"a":1}}],"funding_line":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadInstance(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(in.Reviews) > 200 {
			return // keep each fuzz run fast
		}
		in.RankDraws = min(in.RankDraws, 50)
		if in.RankDraws == 0 {
			in.RankDraws = 50
		}
		in.MaxIterations = min(max(in.MaxIterations, 1), 200)
		res, err := Analyse(context.Background(), in)
		if err != nil {
			t.Fatalf("valid instance failed analysis: %v", err)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("result does not encode (NaN or Inf?): %v", err)
		}
		if len(res.Ranking.Entries) != len(res.Proposals) {
			t.Fatalf("%d ranked of %d proposals", len(res.Ranking.Entries), len(res.Proposals))
		}
	})
}
