package assignment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

const examplePath = "../../configs/examples/assign.json"

func readExample(t testing.TB) *Instance {
	t.Helper()
	f, err := os.Open(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := ReadInstance(f)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestExampleParsesAndSolves(t *testing.T) {
	in := readExample(t)
	if sf := CheckFeasibility(in); len(sf) > 0 {
		t.Fatalf("example reported infeasible: %v", sf)
	}
	res, err := Solve(context.Background(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCertificate(in, res); err != nil {
		t.Fatal(err)
	}
	want, ok := bruteForce(t, in)
	if !ok || want != res.Objective {
		t.Fatalf("objective %d, brute force %d (found %v)", res.Objective, want, ok)
	}
	got := map[Pair]bool{}
	for _, a := range res.Assignments {
		got[Pair{a.Evaluator, a.Proposal}] = true
	}
	if !got[Pair{"ilo-jorge", "CALL24-003"}] {
		t.Error("fixed pair ilo-jorge / CALL24-003 is missing")
	}
	if got[Pair{"ext-kwame", "CALL24-001"}] {
		t.Error("conflict ext-kwame / CALL24-001 was assigned")
	}
	// The result must survive a JSON round trip and still verify.
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCertificate(in, &back); err != nil {
		t.Fatalf("after JSON round trip: %v", err)
	}
}

func TestCertificateOnLargeInstances(t *testing.T) {
	sizes := []struct{ proposals, evaluators int }{{300, 100}, {1000, 300}}
	if !testing.Short() {
		sizes = append(sizes, struct{ proposals, evaluators int }{3000, 1000})
	}
	for _, sz := range sizes {
		in := Generate(GenerateOptions{Proposals: sz.proposals, Evaluators: sz.evaluators, GroupBounds: true, Seed: 11})
		res, err := Solve(context.Background(), in, Options{})
		if err != nil {
			t.Fatalf("%dx%d: %v", sz.proposals, sz.evaluators, err)
		}
		if err := VerifyCertificate(in, res); err != nil {
			t.Fatalf("%dx%d: %v", sz.proposals, sz.evaluators, err)
		}
		t.Logf("%dx%d: objective %d, %+v, %d exploded hubs", sz.proposals, sz.evaluators, res.Objective, res.Stats, len(res.Certificate.Exploded))
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 200, Evaluators: 60, GroupBounds: true, Seed: 3})
	fresh := func() *Result {
		res, err := Solve(context.Background(), in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	tests := []struct {
		name   string
		tamper func(r *Result)
	}{
		{"objective", func(r *Result) { r.Objective-- }},
		{"hash", func(r *Result) { r.InputHash = "00" }},
		{"dropped pair", func(r *Result) { r.Assignments = r.Assignments[1:] }},
		{"potential", func(r *Result) {
			// Lower the potential of a proposal node well below its
			// neighbours: some arc's reduced cost turns the wrong sign.
			x, _ := newIndex(in)
			nw := buildNetwork(x, nil)
			r.Certificate.Potentials[nw.pNode[0]] -= 1000
		}},
		{"not optimal", func(r *Result) { r.Optimal = false }},
		{"breakdown", func(r *Result) { r.Assignments[0].Cost.Topic++ }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fresh()
			tc.tamper(r)
			if err := VerifyCertificate(in, r); err == nil {
				t.Fatal("tampered result verified")
			}
		})
	}
	// A worse but feasible assignment must fail the certificate: swap the
	// evaluators of two proposals where that keeps every hard constraint.
	r := fresh()
	x, _ := newIndex(in)
	for i := range r.Assignments {
		for j := i + 1; j < len(r.Assignments); j++ {
			a, b := r.Assignments[i], r.Assignments[j]
			if a.Proposal == b.Proposal || a.Evaluator == b.Evaluator {
				continue
			}
			pairs := make([]Pair, len(r.Assignments))
			for k, as := range r.Assignments {
				pairs[k] = Pair{as.Evaluator, as.Proposal}
			}
			pairs[i].Evaluator, pairs[j].Evaluator = b.Evaluator, a.Evaluator
			ev, err := evaluate(x, pairs)
			if err != nil || ev.objective <= r.Objective {
				continue
			}
			r.Assignments, r.Loads, r.Removed, r.Objective = ev.assignments, ev.loads, ev.removed, ev.objective
			if err := VerifyCertificate(in, r); err == nil {
				t.Fatalf("worse assignment (%d) verified", ev.objective)
			}
			return
		}
	}
	t.Fatal("found no feasible worse swap to test")
}

func TestFeasibilityMessages(t *testing.T) {
	base := func() *Instance {
		return &Instance{
			K:         2,
			Languages: []string{"en", "fr"},
			Proposals: []Proposal{
				{ID: "P1", Language: "en", Constituency: "workers"},
				{ID: "P2", Language: "fr", Constituency: "employers"},
				{ID: "P3", Language: "fr", Constituency: "workers"},
			},
			Evaluators: []Evaluator{
				{ID: "A", Languages: []string{"en", "fr"}, MaxLoad: 3, Group: "ilo_specialist"},
				{ID: "B", Languages: []string{"en", "fr"}, MaxLoad: 3, Group: "external", Constituency: "workers"},
				{ID: "C", Languages: []string{"en"}, MaxLoad: 3, Group: "external", Constituency: "employers"},
				{ID: "D", Languages: []string{"fr"}, MaxLoad: 3, Group: "external", Constituency: "employers"},
			},
		}
	}
	tests := []struct {
		name   string
		change func(in *Instance)
		kind   string
		words  string
	}{
		{"too few slots", func(in *Instance) {
			for i := range in.Evaluators {
				in.Evaluators[i].MaxLoad = 1
			}
		}, "total", "proposals need 6 reviews but evaluators can give at most 4: 2 more evaluator slots are needed"},
		{"minimum loads too high", func(in *Instance) {
			for i := range in.Evaluators {
				in.Evaluators[i].MinLoad = 2
			}
		}, "minimum", "minimum loads add up to 8 reviews but proposals need only 6"},
		{"French readers short", func(in *Instance) {
			in.Evaluators[0].MaxLoad = 1
			in.Evaluators[1].MaxLoad = 1
			in.Evaluators[3].MaxLoad = 1
		}, "language", "proposals in French need 1 more evaluator slots than French readers can give"},
		{"French-only readers idle", func(in *Instance) {
			in.Evaluators[3].MinLoad = 3
			in.Evaluators[3].MaxLoad = 3
			in.Proposals[2].Language = "en"
		}, "language_minimum", "evaluators who read only French must do at least 3 reviews but proposals in French need only 2"},
		{"not enough specialists", func(in *Instance) {
			in.Bounds = []GroupBound{{Group: "ilo_specialist", Min: 1}}
			in.Evaluators[0].MaxLoad = 2
		}, "group", "proposals need at least 3 reviews from group ilo_specialist but those evaluators can give at most 2: 1 more slots are needed"},
		{"proposal without specialist reader", func(in *Instance) {
			in.Bounds = []GroupBound{{Group: "ilo_specialist", Min: 1}}
			in.Evaluators[0].Languages = []string{"en"}
		}, "proposal", "proposal P2 needs at least 1 evaluator from group ilo_specialist"},
		{"evaluator minimum unreachable", func(in *Instance) {
			in.Evaluators[2].MinLoad = 3
		}, "evaluator", "evaluator C must review at least 3 proposals but only 1 proposal is in languages they read"},
		{"group bounds cap a group", func(in *Instance) {
			zero := 0
			in.Bounds = []GroupBound{{Constituency: "employers", Max: &zero}}
			in.Evaluators[2].MinLoad = 1
		}, "group_minimum", `evaluators of group "external", constituency "employers" must do at least 1 reviews but group bounds let them do only 0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.change(in)
			sf := CheckFeasibility(in)
			for _, s := range sf {
				if s.Kind == tc.kind && strings.Contains(s.Message, tc.words) {
					// Solve must refuse with the same explanation.
					_, err := Solve(context.Background(), in, Options{})
					var ie *InfeasibleError
					if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.words) {
						t.Fatalf("Solve returned %v", err)
					}
					return
				}
			}
			t.Fatalf("no %s shortfall saying %q in %+v", tc.kind, tc.words, sf)
		})
	}
	if sf := CheckFeasibility(base()); len(sf) != 0 {
		t.Fatalf("base instance reported %v", sf)
	}
}

func TestInfeasibleDespiteTotals(t *testing.T) {
	// Every count adds up, but the only specialist free of conflicts with
	// P1 is fixed to P2 and can do just one review.
	in := &Instance{
		K: 2, Languages: []string{"en"},
		Bounds:    []GroupBound{{Group: "ilo_specialist", Min: 1}},
		Proposals: []Proposal{{ID: "P1", Language: "en"}, {ID: "P2", Language: "en"}},
		Evaluators: []Evaluator{
			{ID: "S1", Languages: []string{"en"}, MaxLoad: 1, Group: "ilo_specialist"},
			{ID: "S2", Languages: []string{"en"}, MaxLoad: 1, Group: "ilo_specialist"},
			{ID: "X1", Languages: []string{"en"}, MaxLoad: 2, Group: "external"},
			{ID: "X2", Languages: []string{"en"}, MaxLoad: 2, Group: "external"},
		},
		Conflicts: []Pair{{"S2", "P1"}},
		Fixed:     []Pair{{"S1", "P2"}},
	}
	if sf := CheckFeasibility(in); len(sf) != 0 {
		t.Fatalf("unexpected shortfalls %v", sf)
	}
	_, err := Solve(context.Background(), in, Options{})
	var ie *InfeasibleError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "no assignment satisfies all hard constraints") {
		t.Fatalf("want InfeasibleError, got %v", err)
	}
}

func TestBadInstances(t *testing.T) {
	valid, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	evals := func(m map[string]any) []any { return m["evaluators"].([]any) }
	props := func(m map[string]any) []any { return m["proposals"].([]any) }
	tests := []struct {
		name, input, want string
	}{
		{"not json", "{", "decoding instance"},
		{"unknown field", mutate(func(m map[string]any) { m["colour"] = "blue" }), `unknown field "colour"`},
		{"trailing data", string(valid) + "{}", "trailing data"},
		{"zero k", mutate(func(m map[string]any) { m["k"] = 0 }), "k: must be at least 1"},
		{"negative load", mutate(func(m map[string]any) { evals(m)[3].(map[string]any)["min_load"] = -1 }), `evaluator "ext-kwame": negative load`},
		{"min above max", mutate(func(m map[string]any) { evals(m)[0].(map[string]any)["min_load"] = 9 }), `evaluator "ilo-amina": min_load 9 is larger than max_load 4`},
		{"unknown language", mutate(func(m map[string]any) { props(m)[1].(map[string]any)["language"] = "de" }), `proposal "CALL24-002": unknown language "de"`},
		{"evaluator language", mutate(func(m map[string]any) { evals(m)[1].(map[string]any)["languages"] = []string{"pt"} }), `evaluator "ilo-jorge": unknown language "pt"`},
		{"duplicate proposal", mutate(func(m map[string]any) { props(m)[1].(map[string]any)["id"] = "CALL24-001" }), `proposal "CALL24-001": duplicate id`},
		{"duplicate evaluator", mutate(func(m map[string]any) { evals(m)[1].(map[string]any)["id"] = "ilo-amina" }), `evaluator "ilo-amina": duplicate id`},
		{"k above pool", mutate(func(m map[string]any) { props(m)[2].(map[string]any)["k"] = 5 }), `proposal "CALL24-003": needs 5 evaluators but only 3 evaluators read es`},
		{"unknown evaluator in conflict", mutate(func(m map[string]any) {
			m["conflicts"] = []any{map[string]any{"evaluator": "nobody", "proposal": "CALL24-001"}}
		}), `conflict #1 (nobody, CALL24-001): unknown evaluator "nobody"`},
		{"unknown proposal in bid", mutate(func(m map[string]any) {
			m["bids"] = []any{map[string]any{"evaluator": "ilo-amina", "proposal": "X", "bid": 1}}
		}), `unknown proposal "X"`},
		{"fixed conflict", mutate(func(m map[string]any) {
			m["fixed"] = []any{map[string]any{"evaluator": "ext-kwame", "proposal": "CALL24-001"}}
		}), "fixed pair #1 (ext-kwame, CALL24-001): is also a conflict of interest"},
		{"fixed forbidden", mutate(func(m map[string]any) {
			m["fixed"] = []any{map[string]any{"evaluator": "ext-rahul", "proposal": "CALL24-006"}}
		}), "is also forbidden"},
		{"fixed language", mutate(func(m map[string]any) {
			m["fixed"] = []any{map[string]any{"evaluator": "ext-kwame", "proposal": "CALL24-002"}}
		}), "evaluator does not read fr"},
		{"bid range", mutate(func(m map[string]any) {
			m["bids"] = []any{map[string]any{"evaluator": "ilo-amina", "proposal": "CALL24-001", "bid": 1000}}
		}), "bid 1000 outside"},
		{"negative load weight", mutate(func(m map[string]any) { m["weights"].(map[string]any)["load"] = -1 }), "weights.load: must not be negative"},
		{"empty bound", mutate(func(m map[string]any) { m["bounds"] = []any{map[string]any{"min": 1}} }), "selects no group"},
		{"bound min above k", mutate(func(m map[string]any) { m["bounds"] = []any{map[string]any{"group": "ilo_specialist", "min": 4}} }), "asks for at least 4"},
		{"overlapping bounds", mutate(func(m map[string]any) {
			m["bounds"] = []any{map[string]any{"group": "external", "max": 2}, map[string]any{"constituency": "workers", "max": 1}}
		}), "group bounds overlap"},
		{"no proposals", mutate(func(m map[string]any) { m["proposals"] = []any{} }), "proposals: none given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadInstance(strings.NewReader(tc.input))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 2000, Evaluators: 600, GroupBounds: true, Seed: 5})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Solve(ctx, in, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("already cancelled: got %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	_, err := Solve(ctx, in, Options{Progress: func(done, total int) {
		calls++
		if calls == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled during the solve: got %v", err)
	}
	if calls != 3 {
		t.Fatalf("solver went on for %d progress reports after cancellation", calls-3)
	}
}

func TestDeterministicForSeed(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 400, Evaluators: 120, GroupBounds: true, Seed: 9})
	var first []byte
	for i := range 3 {
		res, err := Solve(context.Background(), in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res)
		if i == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatal("same instance and seed gave different results")
		}
	}
	// Another seed is still optimal (ties may be broken differently).
	in.Seed = 10
	res, err := Solve(context.Background(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var r0 Result
	_ = json.Unmarshal(first, &r0)
	if res.Objective != r0.Objective {
		t.Fatalf("seed changed the optimum: %d vs %d", res.Objective, r0.Objective)
	}
	if err := VerifyCertificate(in, res); err != nil {
		t.Fatal(err)
	}
}

func TestProgressReported(t *testing.T) {
	in := Generate(GenerateOptions{Proposals: 300, Evaluators: 90, GroupBounds: true, Seed: 2})
	last, calls := -1, 0
	res, err := Solve(context.Background(), in, Options{Progress: func(done, total int) {
		calls++
		if done < last || done > total || total <= 0 {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatalf("progress called %d times, last done %d", calls, last)
	}
	if res.Stats.Rounds == 1 && calls != res.Stats.Phases {
		t.Fatalf("progress called %d times for %d phases", calls, res.Stats.Phases)
	}
}

func TestGenerateIsSeededAndValid(t *testing.T) {
	a := Generate(GenerateOptions{Proposals: 50, Evaluators: 20, GroupBounds: true, Seed: 4})
	b := Generate(GenerateOptions{Proposals: 50, Evaluators: 20, GroupBounds: true, Seed: 4})
	if a.Hash() != b.Hash() {
		t.Fatal("Generate is not deterministic")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(a.Conflicts)+len(a.Bids) == 0 || len(a.Bounds) == 0 {
		t.Fatal("generated instance lacks conflicts, bids or bounds")
	}
}

func FuzzReadInstance(f *testing.F) {
	if b, err := os.ReadFile(examplePath); err == nil {
		f.Add(b)
	}
	small, _ := json.Marshal(smallInstance(1))
	f.Add(small)
	f.Add([]byte(`{"k":1,"languages":["en"],"proposals":[{"id":"p","language":"en"}],"evaluators":[{"id":"e","languages":["en"],"min_load":0,"max_load":1}],"weights":{"topic":1,"similarity":0,"bid":0,"expert_bonus":0,"knowledgeable_bonus":0,"load":0,"removal":0},"seed":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadInstance(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A valid instance round-trips to the same canonical form.
		out, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadInstance(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-reading a valid instance: %v", err)
		}
		if back.Hash() != in.Hash() {
			t.Fatal("round trip changed the instance")
		}
		_ = CheckFeasibility(in)
		var load int64
		for _, e := range in.Evaluators {
			load += int64(e.MaxLoad)
		}
		if len(in.Proposals)*len(in.Evaluators) <= 400 && load <= 1000 {
			res, err := Solve(context.Background(), in, Options{})
			if err == nil {
				if err := VerifyCertificate(in, res); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// cpuSeconds is the process's user+system CPU time; on a shared machine it
// is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// BenchmarkSolve: go test -run '^$' -bench BenchmarkSolve -benchtime 1x ./internal/assignment
func BenchmarkSolve(b *testing.B) {
	for _, sz := range []struct {
		name                  string
		proposals, evaluators int
		topics                int // 0: the generator's default
	}{
		{"1kx300", 1000, 300, 0},
		{"3kx1k", 3000, 1000, 0},
		{"10kx3k", 10000, 3000, 0},
		// Denser expertise: about 50 topical evaluators per proposal.
		{"10kx3k-dense", 10000, 3000, 400},
	} {
		b.Run(sz.name, func(b *testing.B) {
			in := Generate(GenerateOptions{Proposals: sz.proposals, Evaluators: sz.evaluators, K: 3, GroupBounds: true, Seed: 1, Topics: sz.topics})
			b.ResetTimer()
			c0, w0 := cpuSeconds(), time.Now()
			var res *Result
			for b.Loop() {
				var err error
				res, err = Solve(context.Background(), in, Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
			b.ReportMetric(time.Since(w0).Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric(float64(res.Stats.Arcs), "arcs")
			b.ReportMetric(float64(res.Stats.Phases), "phases")
		})
	}
}
