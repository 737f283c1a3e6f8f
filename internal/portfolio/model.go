package portfolio

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// ruleKind says how a rule constrains the selection.
type ruleKind int

const (
	ruleBudget     ruleKind = iota // money of all selected <= limit
	ruleThresholds                 // no member (failing proposal) selected
	ruleForcedIn                   // the member is selected
	ruleForcedOut                  // the member is not selected
	ruleExclusion                  // at most one member
	ruleMinCount                   // at least limit members
	ruleMaxCount                   // at most limit members
	ruleMinShare                   // members' money >= share of all money
	ruleMaxShare                   // members' money <= share of all money
)

// rule is one constraint in the users' sense: dropping it is one step of an
// infeasibility explanation, and diversity rules are dropped together for
// the price of diversity.
type rule struct {
	kind      ruleKind
	label     string // plain words, e.g. "at least 3 proposals from Arab States"
	group     string // plain words for the members, e.g. "Arab States"
	members   []int  // proposal indices the rule counts
	limit     int64  // count, or money for the budget
	num, den  int64  // share = num/den exactly as written in decimal
	diversity bool   // type, region, country and organisation rules
}

// upper reports whether adding proposals can only break the rule, never
// repair it.
func (r *rule) upper() bool {
	switch r.kind {
	case ruleBudget, ruleThresholds, ruleForcedOut, ruleExclusion, ruleMaxCount:
		return true
	}
	return false
}

// model is an instance compiled into indexed rules.
type model struct {
	in       *Instance
	n        int
	amount   []int64
	score    []float64
	rules    []rule
	memberOf [][]int // proposal -> rules counting it (not budget or shares)
	shares   []int   // share rules: every proposal changes the total money
	budget   int     // index of the budget rule
}

func compile(in *Instance) (*model, error) {
	m := &model{in: in, n: len(in.Proposals)}
	m.amount = make([]int64, m.n)
	m.score = make([]float64, m.n)
	index := make(map[string]int, m.n)
	byType := map[string][]int{}
	byRegion := map[string][]int{}
	byCountry := map[string][]int{}
	byOrg := map[string][]int{}
	var failing []int
	for i, p := range in.Proposals {
		m.amount[i] = p.Amount
		m.score[i] = p.Score
		index[p.ID] = i
		byType[p.OrganisationType] = append(byType[p.OrganisationType], i)
		byRegion[p.Region] = append(byRegion[p.Region], i)
		byCountry[p.Country] = append(byCountry[p.Country], i)
		byOrg[p.OrganisationID] = append(byOrg[p.OrganisationID], i)
		if !p.PassesThresholds {
			failing = append(failing, i)
		}
	}
	cur := in.Currency
	m.budget = len(m.rules)
	m.rules = append(m.rules, rule{kind: ruleBudget, limit: in.Budget,
		label: "the budget of " + formatMoney(in.Budget, cur), group: "all proposals"})
	m.rules = append(m.rules, rule{kind: ruleThresholds, members: failing,
		label: fmt.Sprintf("the evaluation thresholds (%s)", plural(len(failing), "proposal fails them", "proposals fail them")), group: "proposals failing a threshold"})
	r := &in.Rules
	for _, t := range r.OrganisationTypes {
		mem := byType[t.OrganisationType]
		g := "organisation type " + t.OrganisationType
		if t.MinShare != nil {
			num, den, err := shareFraction(*t.MinShare)
			if err != nil {
				return nil, err
			}
			m.rules = append(m.rules, rule{kind: ruleMinShare, members: mem, num: num, den: den, diversity: true, group: g,
				label: fmt.Sprintf("%s at least %s of the money", g, formatShare(*t.MinShare))})
		}
		if t.MaxShare != nil {
			num, den, err := shareFraction(*t.MaxShare)
			if err != nil {
				return nil, err
			}
			m.rules = append(m.rules, rule{kind: ruleMaxShare, members: mem, num: num, den: den, diversity: true, group: g,
				label: fmt.Sprintf("%s at most %s of the money", g, formatShare(*t.MaxShare))})
		}
		if t.MinCount != nil {
			m.rules = append(m.rules, rule{kind: ruleMinCount, members: mem, limit: int64(*t.MinCount), diversity: true, group: g,
				label: fmt.Sprintf("at least %d proposals of %s", *t.MinCount, g)})
		}
		if t.MaxCount != nil {
			m.rules = append(m.rules, rule{kind: ruleMaxCount, members: mem, limit: int64(*t.MaxCount), diversity: true, group: g,
				label: fmt.Sprintf("at most %d proposals of %s", *t.MaxCount, g)})
		}
	}
	for _, g := range r.Regions {
		mem := byRegion[g.Region]
		if g.MinCount != nil {
			m.rules = append(m.rules, rule{kind: ruleMinCount, members: mem, limit: int64(*g.MinCount), diversity: true, group: g.Region,
				label: fmt.Sprintf("the %s minimum of %d proposals", g.Region, *g.MinCount)})
		}
		if g.MaxCount != nil {
			m.rules = append(m.rules, rule{kind: ruleMaxCount, members: mem, limit: int64(*g.MaxCount), diversity: true, group: g.Region,
				label: fmt.Sprintf("the %s maximum of %d proposals", g.Region, *g.MaxCount)})
		}
	}
	addCaps := func(by map[string][]int, general int, special map[string]int, what string) {
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c, ok := special[k]
			if !ok {
				c = general
				if c == 0 {
					continue
				}
			}
			if len(by[k]) <= c {
				continue // cannot bind; leaving it out keeps explanations short
			}
			m.rules = append(m.rules, rule{kind: ruleMaxCount, members: by[k], limit: int64(c), diversity: true,
				group: what + " " + k, label: fmt.Sprintf("the cap of %d proposals per %s (%s)", c, what, k)})
		}
	}
	addCaps(byCountry, r.CountryCap, r.CountryCaps, "country")
	addCaps(byOrg, r.OrganisationCap, r.OrganisationCaps, "organisation")
	for i, e := range r.Exclusions {
		mem := make([]int, len(e.Proposals))
		for k, id := range e.Proposals {
			mem[k] = index[id]
		}
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("exclusion %d", i+1)
		}
		m.rules = append(m.rules, rule{kind: ruleExclusion, members: mem, limit: 1, group: name,
			label: fmt.Sprintf("at most one of %s (%s)", strings.Join(e.Proposals, ", "), name)})
	}
	for _, id := range r.ForcedIn {
		m.rules = append(m.rules, rule{kind: ruleForcedIn, members: []int{index[id]}, limit: 1, group: id,
			label: fmt.Sprintf("proposal %s forced in", id)})
	}
	for _, id := range r.ForcedOut {
		m.rules = append(m.rules, rule{kind: ruleForcedOut, members: []int{index[id]}, group: id,
			label: fmt.Sprintf("proposal %s forced out", id)})
	}
	m.memberOf = make([][]int, m.n)
	for k := range m.rules {
		ru := &m.rules[k]
		switch ru.kind {
		case ruleBudget:
		case ruleMinShare, ruleMaxShare:
			m.shares = append(m.shares, k)
			fallthrough
		default:
			for _, p := range ru.members {
				m.memberOf[p] = append(m.memberOf[p], k)
			}
		}
	}
	return m, nil
}

// shareFraction turns a share written in decimal (0.2) into the exact
// fraction the user meant (1/5), not the nearest binary float.
func shareFraction(s float64) (num, den int64, err error) {
	q, ok := new(big.Rat).SetString(strconv.FormatFloat(s, 'g', -1, 64))
	if !ok || q.Sign() < 0 || q.Cmp(big.NewRat(1, 1)) > 0 {
		return 0, 0, fmt.Errorf("%w: share %v is outside 0..1", ErrInvalidInstance, s)
	}
	if !q.Denom().IsInt64() || q.Denom().Int64() > 1_000_000_000 {
		return 0, 0, fmt.Errorf("%w: share %v has too many decimals (at most 9)", ErrInvalidInstance, s)
	}
	return q.Num().Int64(), q.Denom().Int64(), nil
}

// cmpProducts compares a*b with c*d for non-negative a, b, c, d exactly.
func cmpProducts(a, b, c, d int64) int {
	h1, l1 := bits.Mul64(uint64(a), uint64(b))
	h2, l2 := bits.Mul64(uint64(c), uint64(d))
	switch {
	case h1 != h2:
		if h1 < h2 {
			return -1
		}
		return 1
	case l1 < l2:
		return -1
	case l1 > l2:
		return 1
	}
	return 0
}

// tally is the exact state of a selection against the rules.
type tally struct {
	m     *model
	sel   []bool
	count []int64 // per rule: members selected
	money []int64 // per rule: members' money
	total int64   // money of the selection
}

func newTally(m *model) *tally {
	return &tally{m: m, sel: make([]bool, m.n), count: make([]int64, len(m.rules)), money: make([]int64, len(m.rules))}
}

func (t *tally) reset() {
	clear(t.sel)
	clear(t.count)
	clear(t.money)
	t.total = 0
}

func (t *tally) set(p int, on bool) {
	if t.sel[p] == on {
		return
	}
	t.sel[p] = on
	s := int64(1)
	if !on {
		s = -1
	}
	a := t.m.amount[p] * s
	t.total += a
	for _, k := range t.m.memberOf[p] {
		t.count[k] += s
		t.money[k] += a
	}
}

// ok reports whether rule k holds for the current selection.
func (t *tally) ok(k int) bool {
	r := &t.m.rules[k]
	switch r.kind {
	case ruleBudget:
		return t.total <= r.limit
	case ruleThresholds, ruleForcedOut:
		return t.count[k] == 0
	case ruleForcedIn:
		return t.count[k] == 1
	case ruleExclusion, ruleMaxCount:
		return t.count[k] <= r.limit
	case ruleMinCount:
		return t.count[k] >= r.limit
	case ruleMinShare:
		return cmpProducts(t.money[k], r.den, r.num, t.total) >= 0
	case ruleMaxShare:
		return cmpProducts(t.money[k], r.den, r.num, t.total) <= 0
	}
	return false
}

// shortfall measures how far rule k is from holding (0 when it holds), in
// the rule's own units; used only to tell whether a step made things worse.
func (t *tally) shortfall(k int) float64 {
	if t.ok(k) {
		return 0
	}
	r := &t.m.rules[k]
	switch r.kind {
	case ruleMinShare:
		return float64(r.num)*float64(t.total) - float64(r.den)*float64(t.money[k])
	case ruleMaxShare:
		return float64(r.den)*float64(t.money[k]) - float64(r.num)*float64(t.total)
	case ruleMinCount:
		return float64(r.limit - t.count[k])
	}
	return math.Inf(1)
}

// feasible reports whether every active rule holds; the index of a broken
// rule is returned otherwise.
func (t *tally) feasible(active []bool) (bool, int) {
	for k := range t.m.rules {
		if active[k] && !t.ok(k) {
			return false, k
		}
	}
	return true, -1
}

func formatShare(s float64) string {
	return strconv.FormatFloat(s*100, 'f', -1, 64) + "%"
}

// formatMoney writes minor units as "USD 1,234.50".
func formatMoney(v int64, currency string) string {
	digits := 2
	switch currency {
	case "JPY", "KRW", "CLP", "VND", "XOF", "XAF", "UGX", "RWF", "PYG", "ISK":
		digits = 0
	case "BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD":
		digits = 3
	}
	neg := v < 0
	if neg {
		v = -v
	}
	unit := int64(math.Pow10(digits))
	whole := strconv.FormatInt(v/unit, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	s := b.String()
	if digits > 0 {
		s += fmt.Sprintf(".%0*d", digits, v%unit)
	}
	if neg {
		s = "-" + s
	}
	return currency + " " + s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
