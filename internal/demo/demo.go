// Package demo fills an empty database with a small, realistic cast so a
// newcomer can sign in and look around: an administrator, a Facility
// manager, an evaluator, an auditor and two applicant organisations.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"gorm.io/gorm"

	"facility/internal/accounts"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/organisations"
)

// Account is a demo sign-in.
type Account struct {
	Role     string
	Email    string
	Password string
}

type person struct {
	role, email, name, locale string
	grant                     *authz.Grant // UserID filled in
	org                       *organisations.Input
}

var cast = []person{
	{role: "administrator", email: "admin@facility.demo", name: "Amina Diallo", locale: "fr",
		grant: &authz.Grant{Role: authz.RoleAdmin, Domain: "system"}},
	{role: "Facility manager (sustainable enterprises)", email: "manager@facility.demo", name: "Carlos Mendoza", locale: "es",
		grant: &authz.Grant{Role: authz.RoleManager, Domain: authz.FacilityDomain("sustainable_enterprises")}},
	{role: "evaluator (sustainable enterprises)", email: "evaluator@facility.demo", name: "Priya Raman", locale: "en",
		grant: &authz.Grant{Role: authz.RoleEvaluator, Domain: authz.FacilityDomain("sustainable_enterprises")}},
	{role: "auditor", email: "auditor@facility.demo", name: "Jonas Berg", locale: "en",
		grant: &authz.Grant{Role: authz.RoleAuditor, Domain: "system"}},
	{role: "applicant (trade union, Ghana)", email: "applicant@facility.demo", name: "Kwame Mensah", locale: "en",
		org: &organisations.Input{Name: "Ghana General Agricultural Workers' Union", TypeCode: "workers_org_trade_union",
			CountryISO2: "GH", YearFounded: 1959, Website: "https://gawu.example.org"}},
	{role: "applicant (employers' organisation, Peru)", email: "employer@facility.demo", name: "Lucía Quispe", locale: "es",
		org: &organisations.Input{Name: "Confederación de Empresarios Andinos", TypeCode: "employers_org",
			CountryISO2: "PE", YearFounded: 1984, Website: "https://cea.example.org"}},
}

// Seed creates the demo accounts that are missing and gives every demo
// account a fresh random password, which it returns for printing: a demo
// password is never written down anywhere else.
func Seed(ctx context.Context, db *gorm.DB, acc *accounts.Service, orgs *organisations.Service, enf *authz.Enforcer, cs *calls.Service) ([]Account, error) {
	a := audit.Actor{IP: "127.0.0.1", RequestID: "seed-demo"}
	var out []Account
	for _, p := range cast {
		pw := password()
		u, err := acc.UserByEmail(ctx, p.email)
		switch {
		case errors.Is(err, accounts.ErrNotFound):
			u, err = acc.CreateUser(ctx, a, accounts.RegisterInput{Email: p.email, Name: p.name, Password: pw, Locale: p.locale})
			if err != nil {
				return nil, fmt.Errorf("demo account %s: %w", p.email, err)
			}
			if p.grant != nil {
				g := *p.grant
				g.UserID = u.ID
				if err := enf.Grant(ctx, a, g); err != nil {
					return nil, fmt.Errorf("demo role for %s: %w", p.email, err)
				}
			}
			if p.org != nil {
				in := *p.org
				if errs := orgs.Check(ctx, &in, ""); len(errs) > 0 {
					return nil, fmt.Errorf("demo organisation %s: %w", in.Name, errs)
				}
				err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					_, err := orgs.CreateTx(tx, a, u.ID, in)
					return err
				})
				if err != nil {
					return nil, fmt.Errorf("demo organisation %s: %w", in.Name, err)
				}
				enf.Changed(ctx)
			}
		case err != nil:
			return nil, err
		default:
			if err := acc.SetPassword(ctx, a, u.ID, pw); err != nil {
				return nil, fmt.Errorf("demo password for %s: %w", p.email, err)
			}
		}
		out = append(out, Account{Role: p.role, Email: p.email, Password: pw})
	}
	if err := seedCall(ctx, db, acc, cs); err != nil {
		return nil, err
	}
	return out, nil
}

// seedCall publishes one open call, designed by the demo manager, when the
// database has none, so an applicant has something to answer.
func seedCall(ctx context.Context, db *gorm.DB, acc *accounts.Service, cs *calls.Service) error {
	var n int64
	if err := db.WithContext(ctx).Table("calls").Count(&n).Error; err != nil || n > 0 {
		return err
	}
	mgr, err := acc.UserByEmail(ctx, "manager@facility.demo")
	if err != nil {
		return err
	}
	a := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "seed-demo"}
	in := GreenJobsCall(-24*time.Hour, 30*24*time.Hour)
	in.Languages = []string{"en", "fr", "es"}
	in.Title["es"] = "Empleos verdes para pequeñas empresas"
	in.Challenge["es"] = "¿Cómo pueden las pequeñas empresas crear empleos verdes decentes?"
	in.Form.Sections[0].Title["es"] = "Su idea"
	for i, q := range in.Form.Sections[0].Questions {
		in.Form.Sections[0].Questions[i].Label["es"] = map[string]string{"summary": "Resumen", "pilot": "¿Se ha probado?",
			"pilot_results": "Resultados de la prueba", "country": "País principal", "plan": "Plan de trabajo"}[q.ID]
	}
	for i, c := range in.Criteria {
		in.Criteria[i].Name["es"] = map[string]string{"impact": "Impacto", "feasibility": "Viabilidad"}[c.ID]
	}
	c, err := cs.Create(ctx, a, in)
	if err != nil {
		return fmt.Errorf("demo call: %w", err)
	}
	if err := cs.SubmitForApproval(ctx, a, c.ID); err != nil {
		return fmt.Errorf("demo call: %w", err)
	}
	if err := cs.DecideG0(ctx, a, c.ID, "approve", "Demo call, approved for the tour."); err != nil {
		return fmt.Errorf("demo call: %w", err)
	}
	return cs.Publish(ctx, a, c.ID)
}

// password makes a random passphrase-like password: four groups of five
// letters and digits, easy to type from a terminal.
func password() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 0, 23)
	for i := 0; i < 20; i++ {
		if i > 0 && i%5 == 0 {
			b = append(b, '-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b = append(b, alphabet[n.Int64()])
	}
	return string(b)
}

// GreenJobsCall is a small, complete call design for sustainable enterprises in
// English and French: a conditional question, a file question, an
// eligibility rule and two criteria. Times are relative to now.
func GreenJobsCall(opens, closes time.Duration) calls.Input {
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
