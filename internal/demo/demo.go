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

	"gorm.io/gorm"

	"facility/internal/accounts"
	"facility/internal/audit"
	"facility/internal/authz"
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
func Seed(ctx context.Context, db *gorm.DB, acc *accounts.Service, orgs *organisations.Service, enf *authz.Enforcer) ([]Account, error) {
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
	return out, nil
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
