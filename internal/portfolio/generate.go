package portfolio

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GenerateOptions shape a synthetic instance.
type GenerateOptions struct {
	Seed      uint64
	Proposals int // default 200
	// BudgetShare is the budget as a fraction of all money requested;
	// default 1/3, as when a first round admits about three times the budget.
	BudgetShare float64
	// Objective of the instance; default "score".
	Objective string
	// NoRules leaves out the ten share and region rules and the caps.
	NoRules bool
}

// Generate makes a seeded synthetic instance: amounts between USD 20,000
// and 500,000 (in cents), calibrated scores around 6 on a 1–10 scale, five
// organisation types, the five ILO regions, about 60 countries and
// organisations with one to three proposals each, and ten rules on money
// shares and regions plus country and organisation caps. The rules are
// chosen so that the instance is feasible.
func Generate(opt GenerateOptions) *Instance {
	n := opt.Proposals
	if n <= 0 {
		n = 200
	}
	share := opt.BudgetShare
	if share <= 0 || share > 1 {
		share = 1.0 / 3
	}
	obj := opt.Objective
	if obj == "" {
		obj = ObjectiveScore
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed_f0c1_11a7))
	types := []string{"workers_org_trade_union", "employers_org", "startup", "cooperative", "ngo"}
	typeWeight := []float64{0.18, 0.17, 0.25, 0.15, 0.25}
	regions := ILORegions()
	regionWeight := []float64{0.30, 0.22, 0.08, 0.25, 0.15}
	pick := func(w []float64) int {
		u := rng.Float64()
		for i, v := range w {
			if u < v {
				return i
			}
			u -= v
		}
		return len(w) - 1
	}
	const countriesPerRegion = 12
	in := &Instance{Currency: "USD", Objective: obj}
	var total int64
	org := 0
	for len(in.Proposals) < n {
		org++
		// Organisations submit one to three proposals, same type and country.
		k := 1 + int(math.Floor(-math.Log(1-rng.Float64())*0.5))
		t := pick(typeWeight)
		reg := pick(regionWeight)
		country := fmt.Sprintf("%c%c", 'A'+reg, 'A'+rng.IntN(countriesPerRegion))
		for i := 0; i < k && len(in.Proposals) < n; i++ {
			// Log-uniform amounts, rounded to whole dollars.
			usd := math.Exp(math.Log(20_000) + rng.Float64()*math.Log(25))
			amount := int64(usd) * 100
			score := math.Max(1, math.Min(10, 6+1.5*rng.NormFloat64()))
			in.Proposals = append(in.Proposals, Proposal{
				ID:               fmt.Sprintf("P%05d", len(in.Proposals)+1),
				Amount:           amount,
				Score:            math.Round(score*1000) / 1000,
				OrganisationType: types[t],
				Region:           regions[reg],
				Country:          country,
				OrganisationID:   fmt.Sprintf("ORG%05d", org),
				PassesThresholds: rng.Float64() > 0.05,
			})
			total += amount
		}
	}
	in.Budget = int64(float64(total) * share)
	if opt.NoRules {
		return in
	}
	// Expect about share·n selected proposals; bounds are set well inside
	// what the pool can give.
	sel := float64(n) * share
	f := func(x float64) *float64 { return &x }
	c := func(x float64) *int { v := int(math.Max(0, math.Floor(x))); return &v }
	in.Rules = Rules{
		OrganisationTypes: []TypeRule{
			{OrganisationType: "workers_org_trade_union", MinShare: f(0.20)},
			{OrganisationType: "employers_org", MinShare: f(0.15)},
			{OrganisationType: "startup", MaxShare: f(0.30)},
			{OrganisationType: "cooperative", MinShare: f(0.12), MinCount: c(sel * 0.1)},
		},
		Regions: []RegionRule{
			{Region: "Africa", MinCount: c(sel * 0.30)},
			{Region: "Americas", MinCount: c(sel * 0.15)},
			{Region: "Arab States", MinCount: c(sel * 0.06)},
			{Region: "Asia and the Pacific", MinCount: c(sel * 0.18)},
			{Region: "Europe and Central Asia", MaxCount: c(sel*0.15 + 1)},
		},
		CountryCap:      int(math.Max(2, math.Ceil(sel/float64(countriesPerRegion*5)*2.5))),
		OrganisationCap: 2,
	}
	return in
}
