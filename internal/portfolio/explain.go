package portfolio

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// feasibility answers whether some selection meets the active rules.
// known is false when a limit stopped the search before it could tell.
func feasibility(ctx context.Context, m *model, active []bool, nodeLimit int64) (feasible, known bool) {
	obj := make([]float64, m.n)
	for j := range obj {
		obj[j] = -float64(m.amount[j]) // cheap selections are the likeliest to fit
	}
	s := newSearcher(m, active, obj)
	if s.infeasible {
		return false, true
	}
	order := make([]int, m.n)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return m.amount[order[a]] < m.amount[order[b]] })
	if _, ok := s.greedy(order, s.baseLo, s.baseUp, false); ok {
		return true, true
	}
	r := s.run(ctx, bbLimits{nodeLimit: nodeLimit, firstFeasible: true})
	if s.haveBest {
		return true, true
	}
	return false, r.complete && !s.inexact
}

// explain finds an irreducible set of conflicting rules by deletion
// filtering: a rule is dropped for good when the others still conflict
// without it. Rules are tried in blocks first, so the many caps that play no
// part go in a few checks.
func explain(ctx context.Context, m *model, nodeLimit int64) *Explanation {
	ex, _ := explainRules(ctx, m, nodeLimit)
	return ex
}

// explainRules also returns the indices of the conflicting rules.
func explainRules(ctx context.Context, m *model, nodeLimit int64) (*Explanation, []int) {
	if nodeLimit == 0 {
		nodeLimit = 20000
	}
	active := make([]bool, len(m.rules))
	for k := range active {
		active[k] = true
	}
	minimal := true
	// Conflicting means proven infeasible; an unknown answer keeps the rule.
	conflicts := func() bool {
		f, known := feasibility(ctx, m, active, nodeLimit)
		if !known {
			minimal = false
		}
		return !f && known
	}
	// Later rules (exclusions, forced) are tried first, the budget last, so
	// the explanation prefers the rules a manager is likeliest to relax.
	order := make([]int, 0, len(m.rules))
	for k := len(m.rules) - 1; k >= 0; k-- {
		order = append(order, k)
	}
	const block = 8
	for i := 0; i < len(order); i += block {
		chunk := order[i:min(i+block, len(order))]
		if len(chunk) > 1 {
			for _, k := range chunk {
				active[k] = false
			}
			if conflicts() {
				continue
			}
			for _, k := range chunk {
				active[k] = true
			}
		}
		for _, k := range chunk {
			active[k] = false
			if !conflicts() {
				active[k] = true
			}
		}
	}
	var ex Explanation
	ex.Minimal = minimal
	var ids []int
	for k, on := range active {
		if on {
			ids = append(ids, k)
			ex.Rules = append(ex.Rules, m.rules[k].label)
		}
	}
	if len(ids) == 0 {
		ex.Summary = "no selection meets the rules, but no conflicting subset could be isolated within the limits"
		return &ex, nil
	}
	if len(ids) == 1 {
		ex.Summary = fmt.Sprintf("%s cannot be met on its own.", capitalise(m.rules[ids[0]].label))
	} else {
		ex.Summary = fmt.Sprintf("These %d rules cannot all be met together; dropping any one of them makes a selection possible: %s.",
			len(ids), strings.Join(ex.Rules, "; "))
	}
	ex.Details = details(m, active, ids)
	if !minimal {
		ex.Summary += " (A search limit was hit, so the list may hold more rules than needed.)"
	}
	return &ex, ids
}

// details says in plain words why each minimum rule of the conflict fails.
func details(m *model, active []bool, ids []int) []string {
	var out []string
	// Proposals the conflicting rules leave available, and money already
	// committed by forced-in proposals.
	avail := make([]bool, m.n)
	for j := range avail {
		avail[j] = true
	}
	var forced int64
	var forcedNames []string
	budget := int64(-1)
	for _, k := range ids {
		r := &m.rules[k]
		switch r.kind {
		case ruleThresholds, ruleForcedOut:
			for _, p := range r.members {
				avail[p] = false
			}
		case ruleForcedIn:
			forced += m.amount[r.members[0]]
			forcedNames = append(forcedNames, m.in.Proposals[r.members[0]].ID)
		case ruleBudget:
			budget = r.limit
		}
	}
	for _, k := range ids {
		r := &m.rules[k]
		if r.kind != ruleMinCount {
			continue
		}
		var amounts []int64
		for _, p := range r.members {
			if avail[p] {
				amounts = append(amounts, m.amount[p])
			}
		}
		others := otherLabels(m, ids, k)
		if int64(len(amounts)) < r.limit {
			out = append(out, fmt.Sprintf("%s cannot be met: only %d eligible proposals from %s exist (given %s)",
				capitalise(r.label), len(amounts), r.group, others))
			continue
		}
		if budget >= 0 {
			sort.Slice(amounts, func(a, b int) bool { return amounts[a] < amounts[b] })
			left := budget - forced
			fit := 0
			for _, a := range amounts {
				if a > left {
					break
				}
				left -= a
				fit++
			}
			if int64(fit) < r.limit {
				along := ""
				if len(forcedNames) > 0 {
					along = " alongside the forced-in " + strings.Join(forcedNames, ", ")
				}
				out = append(out, fmt.Sprintf("%s cannot be met: only %d eligible proposals from %s fit in %s%s",
					capitalise(r.label), fit, r.group, m.rules[m.budget].label, along))
				continue
			}
		}
		if others != "" {
			out = append(out, fmt.Sprintf("%s cannot be met together with %s", capitalise(r.label), others))
		}
	}
	return out
}

func otherLabels(m *model, ids []int, except int) string {
	var l []string
	for _, k := range ids {
		if k != except {
			l = append(l, m.rules[k].label)
		}
	}
	return strings.Join(l, "; ")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
