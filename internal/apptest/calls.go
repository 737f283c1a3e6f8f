package apptest

import (
	"context"
	"time"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
)

// CallInput is a small, complete call design for sustainable enterprises in
// English and French: a conditional question, a file question, an
// eligibility rule and two criteria. Times are relative to now.
func CallInput(opens, closes time.Duration) calls.Input {
	en := func(e, f string) calls.Text { return calls.Text{"en": e, "fr": f} }
	three := 3.0
	return calls.Input{
		FacilityCode: "sustainable_enterprises", Origin: "external", Scope: "global", Languages: []string{"en", "fr"},
		Title:     en("Green jobs for small enterprises", "Emplois verts pour les petites entreprises"),
		Challenge: en("How can small enterprises create decent green jobs?", "Comment les petites entreprises peuvent-elles créer des emplois verts décents ?"),
		Opens:     time.Now().UTC().Add(opens).Format("2006-01-02T15:04"),
		Closes:    time.Now().UTC().Add(closes).Format("2006-01-02T15:04"),
		Timezone:  "UTC", GraceMinutes: 0, Currency: "USD",
		BudgetMinor: 50_000_000, MinGrantMinor: 1_000_000, MaxGrantMinor: 10_000_000,
		OrgTypes: []string{}, Regions: []string{}, Countries: []string{}, Indicators: []string{"8.3.1"}, Donors: []string{"Government of Sweden"},
		Form: calls.Form{Sections: []calls.Section{{ID: "idea", Round: 1, Title: en("Your idea", "Votre idée"), Questions: []calls.Question{
			{ID: "summary", Kind: calls.KindLongText, Label: en("Summary", "Résumé"), Required: true, MaxWords: 300},
			{ID: "pilot", Kind: calls.KindYesNo, Label: en("Has it been piloted?", "A-t-elle été testée ?"), Required: true},
			{ID: "pilot_results", Kind: calls.KindLongText, Label: en("Pilot results", "Résultats du test"), Required: true,
				VisibleIf: &calls.Condition{Question: "pilot", Values: []string{"yes"}}},
			{ID: "country", Kind: calls.KindCountry, Label: en("Main country", "Pays principal"), Required: true},
			{ID: "plan", Kind: calls.KindFile, Label: en("Work plan", "Plan de travail"), Required: false, FileTypes: []string{"pdf"}, MaxFileMB: 10},
		}}}},
		Eligibility: []calls.Rule{{Kind: calls.RuleAmount}, {Kind: calls.RuleOrgAge, MinYears: 2}},
		Criteria: []calls.Criterion{
			{ID: "impact", Name: en("Impact", "Impact"), Weight: 2, ScaleMin: 0, ScaleMax: 5, Step: 0.5, Threshold: &three},
			{ID: "feasibility", Name: en("Feasibility", "Faisabilité"), Weight: 1, ScaleMin: 0, ScaleMax: 5, Step: 0.5},
		},
	}
}

// PublishedCall designs, approves (G0) and publishes a call with in, as a
// manager of its facility, and returns it with that manager's id.
func (e *Env) PublishedCall(in calls.Input) (*calls.Call, string) {
	e.t.Helper()
	ctx := context.Background()
	mgr, _ := e.User(time.Now().Format("150405.000000")+"-mgr@example.org", authz.RoleManager, authz.FacilityDomain(in.FacilityCode))
	a := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "test"}
	c, err := e.Calls.Create(ctx, a, in)
	if err != nil {
		e.t.Fatalf("create call: %v", err)
	}
	if err := e.Calls.SubmitForApproval(ctx, a, c.ID); err != nil {
		e.t.Fatalf("submit call for approval: %v", err)
	}
	if err := e.Calls.DecideG0(ctx, a, c.ID, "approve", "ready"); err != nil {
		e.t.Fatalf("approve call: %v", err)
	}
	if err := e.Calls.Publish(ctx, a, c.ID); err != nil {
		e.t.Fatalf("publish call: %v", err)
	}
	c, err = e.Calls.Get(ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, mgr.ID
}
