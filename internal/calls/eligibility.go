package calls

import (
	"fmt"
	"slices"

	"facility/internal/validate"
)

// Rule kinds.
const (
	RuleOrgType = "organisation_type" // the organisation's type is in Values
	RuleCountry = "country"           // the organisation's country is in Values
	RuleRegion  = "region"            // the organisation's ILO region is in Values
	RuleOrgAge  = "organisation_age"  // founded at least MinYears ago
	RuleAmount  = "amount"            // requested amount within the call's minimum and maximum grant
	RuleYesNo   = "yes_no"            // the answer to Question is Expect ("yes" or "no")
)

// RuleKinds lists every rule kind.
var RuleKinds = []string{RuleOrgType, RuleCountry, RuleRegion, RuleOrgAge, RuleAmount, RuleYesNo}

// Rule is an eligibility rule checked automatically at submission and shown
// to the screening manager.
type Rule struct {
	Kind     string   `json:"kind"`
	Values   []string `json:"values,omitempty"`
	MinYears int      `json:"min_years,omitempty"`
	Question string   `json:"question,omitempty"`
	Expect   string   `json:"expect,omitempty"`
}

// Facts are what the rules look at.
type Facts struct {
	OrgType     string
	Country     string
	Region      string
	YearFounded int
	Year        int // the current year, from the database clock
	Requested   int64
	Answers     map[string]any
}

// Outcome is one rule's result, with the reason as a message code and its
// parameters, for the applicant and the manager in their own language.
type Outcome struct {
	Rule   Rule           `json:"rule"`
	Passed bool           `json:"passed"`
	Reason string         `json:"reason"`
	Params map[string]any `json:"params,omitempty"`
}

// CheckEligibility applies every rule of the call.
func (c *Call) CheckEligibility(f Facts) []Outcome {
	out := make([]Outcome, 0, len(c.Eligibility.V))
	for _, r := range c.Eligibility.V {
		o := Outcome{Rule: r}
		switch r.Kind {
		case RuleOrgType:
			o.Passed, o.Reason, o.Params = slices.Contains(r.Values, f.OrgType), "eligibility_org_type", map[string]any{"Value": f.OrgType}
		case RuleCountry:
			o.Passed, o.Reason, o.Params = slices.Contains(r.Values, f.Country), "eligibility_country", map[string]any{"Value": f.Country}
		case RuleRegion:
			o.Passed, o.Reason, o.Params = slices.Contains(r.Values, f.Region), "eligibility_region", map[string]any{"Value": f.Region}
		case RuleOrgAge:
			age := f.Year - f.YearFounded
			o.Passed, o.Reason, o.Params = age >= r.MinYears, "eligibility_org_age", map[string]any{"Years": age, "Min": r.MinYears}
		case RuleAmount:
			o.Passed = f.Requested >= c.MinGrantMinor && f.Requested <= c.MaxGrantMinor
			o.Reason, o.Params = "eligibility_amount", map[string]any{"Requested": f.Requested, "Min": c.MinGrantMinor, "Max": c.MaxGrantMinor}
		case RuleYesNo:
			got := answerValues(f.Answers[r.Question])
			o.Passed, o.Reason, o.Params = len(got) == 1 && got[0] == r.Expect, "eligibility_yes_no", map[string]any{"Question": r.Question, "Expect": r.Expect}
		}
		out = append(out, o)
	}
	return out
}

// Eligible reports whether every outcome passed.
func Eligible(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if !o.Passed {
			return false
		}
	}
	return true
}

func checkRules(errs *validate.Errors, rules []Rule, form *Form, orgTypes, countries, regions map[string]bool) {
	for i, r := range rules {
		p := fmt.Sprintf("eligibility.%d.", i)
		switch r.Kind {
		case RuleOrgType, RuleCountry, RuleRegion:
			known := map[string]map[string]bool{RuleOrgType: orgTypes, RuleCountry: countries, RuleRegion: regions}[r.Kind]
			if len(r.Values) == 0 {
				errs.Add(p+"values", "required", nil)
			}
			for _, v := range r.Values {
				if !known[v] {
					errs.Add(p+"values", "not_allowed", nil)
					break
				}
			}
		case RuleOrgAge:
			errs.IntRange(p+"min_years", r.MinYears, 1, 100)
		case RuleAmount:
		case RuleYesNo:
			q, ok := form.Question(r.Question)
			if !ok || q.Kind != KindYesNo {
				errs.Add(p+"question", "condition_unknown_question", nil)
			}
			if r.Expect != "yes" && r.Expect != "no" {
				errs.Add(p+"expect", "not_allowed", nil)
			}
		default:
			errs.Add(p+"kind", "not_allowed", nil)
		}
	}
}
