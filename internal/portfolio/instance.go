// Package portfolio chooses which proposals of a call to fund under a budget
// and a set of rules (money shares per organisation type, bounds per ILO
// region, caps per country and organisation, thresholds, mutual exclusions,
// proposals forced in or out).
//
// Selection is exact: a 0-1 branch and bound whose bounds come from a
// bounded-variable dual simplex written here, with a greedy-and-repair
// heuristic for an early incumbent and reduced-cost fixing. When stopped
// early it returns the best selection found with an honest bound on how far
// from optimal it may be. Infeasible rule sets are explained by an
// irreducible set of conflicting rules, in plain words. Money is always in
// integer minor units (cents); shares are fractions of the money awarded.
package portfolio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Objectives a manager can choose.
const (
	// ObjectiveScore maximises the sum of calibrated scores; it favours many
	// cheap proposals.
	ObjectiveScore = "score"
	// ObjectiveScoreMoney maximises the sum of score × requested amount; it
	// favours large, good proposals.
	ObjectiveScoreMoney = "score_money"
	// ObjectiveRankFill takes proposals in rank order and keeps each one
	// whenever the rules can still be met with it (rank-order fill with
	// constraint repair): the lexicographically best feasible selection.
	ObjectiveRankFill = "rank_fill"
)

// ILO regions, as the ILO names them. Proposal and rule regions must be one
// of these.
func iloRegions() [5]string {
	return [5]string{"Africa", "Americas", "Arab States", "Asia and the Pacific", "Europe and Central Asia"}
}

// ILORegions returns the region names accepted in an instance.
func ILORegions() []string { r := iloRegions(); return r[:] }

func isILORegion(s string) bool {
	for _, r := range iloRegions() {
		if r == s {
			return true
		}
	}
	return false
}

// ErrInvalidInstance is wrapped by every error that Validate and ReadInstance
// report about the content of an instance.
var ErrInvalidInstance = errors.New("invalid selection instance")

// Instance is one selection problem: the proposals of a call, the budget and
// the rules.
type Instance struct {
	// Currency is the ISO 4217 code of Budget and of the requested amounts.
	Currency string `json:"currency"`
	// Budget is the money available, in minor units (cents for USD).
	Budget int64 `json:"budget"`
	// Objective is one of "score" (default), "score_money", "rank_fill".
	Objective string `json:"objective,omitempty"`
	// Proposals are the candidates; ids must be unique.
	Proposals []Proposal `json:"proposals"`
	// Rules the selection must meet.
	Rules Rules `json:"rules"`
	// Limits stop the search early; Options given to Select take precedence.
	Limits Limits `json:"limits,omitempty"`
}

// Proposal is one candidate for funding.
type Proposal struct {
	ID string `json:"id"`
	// Amount requested, in minor units of the instance currency.
	Amount int64 `json:"amount"`
	// Score is the calibrated score (higher is better).
	Score float64 `json:"score"`
	// Rank is the position in the ranking (1 = best), 0 when unranked. Only
	// the rank_fill objective uses it; unranked proposals follow the ranked
	// ones by score.
	Rank int `json:"rank,omitempty"`
	// OrganisationType is the constituent type, e.g.
	// "workers_org_trade_union", "employers_org", "startup", "cooperative".
	OrganisationType string `json:"organisation_type"`
	// Region is the ILO region of the applicant, see ILORegions.
	Region string `json:"region"`
	// Country is the applicant's country (ISO 3166 alpha-2 recommended).
	Country string `json:"country"`
	// OrganisationID identifies the applicant organisation.
	OrganisationID string `json:"organisation_id"`
	// PassesThresholds is false when the proposal failed a per-criterion
	// threshold; such proposals are never selected. It must be present in
	// JSON so that a missing field does not silently exclude a proposal.
	PassesThresholds bool `json:"passes_thresholds"`
}

// UnmarshalJSON decodes a proposal strictly and requires passes_thresholds.
func (p *Proposal) UnmarshalJSON(b []byte) error {
	type plain Proposal
	var aux struct {
		plain
		PassesThresholds *bool `json:"passes_thresholds"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	if aux.PassesThresholds == nil {
		return fmt.Errorf("proposal %q: passes_thresholds is missing", aux.ID)
	}
	*p = Proposal(aux.plain)
	p.PassesThresholds = *aux.PassesThresholds
	return nil
}

// Rules are the linear rules a selection must meet. The budget and the
// thresholds always apply.
type Rules struct {
	// OrganisationTypes bound money shares or counts per organisation type.
	OrganisationTypes []TypeRule `json:"organisation_types,omitempty"`
	// Regions bound the number of selected proposals per ILO region.
	Regions []RegionRule `json:"regions,omitempty"`
	// CountryCap is the most proposals selected from any one country; 0 means
	// no general cap. CountryCaps overrides it for named countries.
	CountryCap  int            `json:"country_cap,omitempty"`
	CountryCaps map[string]int `json:"country_caps,omitempty"`
	// OrganisationCap is the most proposals selected from any one
	// organisation; 0 means no general cap. OrganisationCaps overrides it.
	OrganisationCap  int            `json:"organisation_cap,omitempty"`
	OrganisationCaps map[string]int `json:"organisation_caps,omitempty"`
	// Exclusions are groups of proposals of which at most one is selected.
	Exclusions []Exclusion `json:"exclusions,omitempty"`
	// ForcedIn proposals must be selected; ForcedOut must not be.
	ForcedIn  []string `json:"forced_in,omitempty"`
	ForcedOut []string `json:"forced_out,omitempty"`
}

// TypeRule bounds one organisation type. Shares are fractions (0..1) of the
// total money awarded; nil means no bound.
type TypeRule struct {
	OrganisationType string   `json:"organisation_type"`
	MinShare         *float64 `json:"min_share,omitempty"`
	MaxShare         *float64 `json:"max_share,omitempty"`
	MinCount         *int     `json:"min_count,omitempty"`
	MaxCount         *int     `json:"max_count,omitempty"`
}

// RegionRule bounds the number of proposals selected from one ILO region.
type RegionRule struct {
	Region   string `json:"region"`
	MinCount *int   `json:"min_count,omitempty"`
	MaxCount *int   `json:"max_count,omitempty"`
}

// Exclusion is a group of proposals of which at most one may be selected,
// e.g. two versions of the same project.
type Exclusion struct {
	Name      string   `json:"name,omitempty"`
	Proposals []string `json:"proposals"`
}

// Limits stop the search early. Zero means no limit.
type Limits struct {
	TimeLimitSeconds float64 `json:"time_limit_seconds,omitempty"`
	NodeLimit        int64   `json:"node_limit,omitempty"`
}

// maxAmount keeps sums of amounts and share products far from int64 overflow.
const maxAmount = int64(1) << 50

// ReadInstance decodes an instance strictly (unknown fields and trailing data
// are errors) and validates it.
func ReadInstance(r io.Reader) (*Instance, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var in Instance
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: decoding JSON: %v", ErrInvalidInstance, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the instance object", ErrInvalidInstance)
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &in, nil
}

// Validate reports every problem it finds in the instance, each wrapped with
// ErrInvalidInstance. Contradictory rules that are individually valid (a
// region minimum that cannot be met, say) are not errors here: Select
// explains them.
func (in *Instance) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidInstance}, a...)...))
		}
	}
	if len(in.Currency) != 3 || strings.ToUpper(in.Currency) != in.Currency || strings.ContainsAny(in.Currency, " 0123456789") {
		bad("currency %q is not a three-letter ISO 4217 code", in.Currency)
	}
	if in.Budget <= 0 {
		bad("budget must be positive, got %d", in.Budget)
	} else if in.Budget > maxAmount {
		bad("budget %d is too large (at most %d minor units)", in.Budget, maxAmount)
	}
	switch in.Objective {
	case "", ObjectiveScore, ObjectiveScoreMoney, ObjectiveRankFill:
	default:
		bad("objective %q is not one of score, score_money, rank_fill", in.Objective)
	}
	if len(in.Proposals) == 0 {
		bad("there are no proposals")
	}
	ids := make(map[string]bool, len(in.Proposals))
	types := map[string]bool{}
	countries := map[string]bool{}
	orgs := map[string]bool{}
	var total int64
	for i, p := range in.Proposals {
		where := fmt.Sprintf("proposal %d (%q)", i, p.ID)
		if p.ID == "" {
			bad("proposal %d has no id", i)
		} else if ids[p.ID] {
			bad("duplicate proposal id %q", p.ID)
		}
		ids[p.ID] = true
		switch {
		case p.Amount < 0:
			bad("%s: requested amount is negative (%d)", where, p.Amount)
		case p.Amount == 0:
			bad("%s: requested amount is zero", where)
		case p.Amount > maxAmount:
			bad("%s: requested amount %d is too large", where, p.Amount)
		default:
			total += p.Amount
			if total > maxAmount {
				bad("the requested amounts add up to more than %d minor units", maxAmount)
				total = 0
			}
		}
		if math.IsNaN(p.Score) || math.IsInf(p.Score, 0) {
			bad("%s: score is not a finite number", where)
		}
		if p.Rank < 0 {
			bad("%s: rank is negative", where)
		}
		if p.OrganisationType == "" {
			bad("%s: organisation_type is empty", where)
		}
		if !isILORegion(p.Region) {
			bad("%s: region %q is not an ILO region (%s)", where, p.Region, strings.Join(ILORegions(), ", "))
		}
		if p.Country == "" {
			bad("%s: country is empty", where)
		}
		if p.OrganisationID == "" {
			bad("%s: organisation_id is empty", where)
		}
		types[p.OrganisationType] = true
		countries[p.Country] = true
		orgs[p.OrganisationID] = true
	}
	r := &in.Rules
	seenType := map[string]bool{}
	for _, t := range r.OrganisationTypes {
		where := fmt.Sprintf("rule for organisation type %q", t.OrganisationType)
		if !types[t.OrganisationType] {
			bad("%s: no proposal has this organisation type", where)
		}
		if seenType[t.OrganisationType] {
			bad("%s: the type has more than one rule; merge them", where)
		}
		seenType[t.OrganisationType] = true
		for _, s := range []*float64{t.MinShare, t.MaxShare} {
			if s != nil && (math.IsNaN(*s) || *s < 0 || *s > 1) {
				bad("%s: share %v is outside 0..1", where, *s)
			}
		}
		if t.MinShare != nil && t.MaxShare != nil && *t.MinShare > *t.MaxShare {
			bad("%s: min_share %v is above max_share %v", where, *t.MinShare, *t.MaxShare)
		}
		checkCounts(bad, where, t.MinCount, t.MaxCount)
		if t.MinShare == nil && t.MaxShare == nil && t.MinCount == nil && t.MaxCount == nil {
			bad("%s: sets no bound", where)
		}
	}
	seenRegion := map[string]bool{}
	for _, g := range r.Regions {
		where := fmt.Sprintf("rule for region %q", g.Region)
		if !isILORegion(g.Region) {
			bad("%s: not an ILO region (%s)", where, strings.Join(ILORegions(), ", "))
		}
		if seenRegion[g.Region] {
			bad("%s: the region has more than one rule; merge them", where)
		}
		seenRegion[g.Region] = true
		checkCounts(bad, where, g.MinCount, g.MaxCount)
		if g.MinCount == nil && g.MaxCount == nil {
			bad("%s: sets no bound", where)
		}
	}
	if r.CountryCap < 0 {
		bad("country_cap is negative (%d)", r.CountryCap)
	}
	for _, c := range sortedKeys(r.CountryCaps) {
		if !countries[c] {
			bad("country_caps: no proposal is from country %q", c)
		}
		if r.CountryCaps[c] < 0 {
			bad("country_caps: cap for %q is negative", c)
		}
	}
	if r.OrganisationCap < 0 {
		bad("organisation_cap is negative (%d)", r.OrganisationCap)
	}
	for _, o := range sortedKeys(r.OrganisationCaps) {
		if !orgs[o] {
			bad("organisation_caps: no proposal is from organisation %q", o)
		}
		if r.OrganisationCaps[o] < 0 {
			bad("organisation_caps: cap for %q is negative", o)
		}
	}
	for i, e := range r.Exclusions {
		where := fmt.Sprintf("exclusion %d (%q)", i, e.Name)
		if len(e.Proposals) < 2 {
			bad("%s: needs at least two proposals", where)
		}
		seen := map[string]bool{}
		for _, id := range e.Proposals {
			if !ids[id] {
				bad("%s: unknown proposal %q", where, id)
			}
			if seen[id] {
				bad("%s: proposal %q listed twice", where, id)
			}
			seen[id] = true
		}
	}
	forced := map[string]string{}
	for _, list := range []struct {
		name string
		ids  []string
	}{{"forced_in", r.ForcedIn}, {"forced_out", r.ForcedOut}} {
		for _, id := range list.ids {
			if !ids[id] {
				bad("%s: unknown proposal %q", list.name, id)
			}
			if prev, ok := forced[id]; ok {
				if prev == list.name {
					bad("%s: proposal %q listed twice", list.name, id)
				} else {
					bad("proposal %q is both forced in and forced out", id)
				}
			}
			forced[id] = list.name
		}
	}
	if in.Limits.TimeLimitSeconds < 0 || math.IsNaN(in.Limits.TimeLimitSeconds) {
		bad("limits: time_limit_seconds is negative")
	}
	if in.Limits.NodeLimit < 0 {
		bad("limits: node_limit is negative")
	}
	return errors.Join(errs...)
}

func checkCounts(bad func(string, ...any), where string, lo, hi *int) {
	if lo != nil && *lo < 0 {
		bad("%s: min_count is negative (%d)", where, *lo)
	}
	if hi != nil && *hi < 0 {
		bad("%s: max_count is negative (%d)", where, *hi)
	}
	if lo != nil && hi != nil && *lo > *hi {
		bad("%s: min_count %d is above max_count %d", where, *lo, *hi)
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
