package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"

	"facility/internal/accounts"
	"facility/internal/app"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/config"
)

var cliActor = audit.Actor{IP: "local", RequestID: "cli"}

func createUser(ctx context.Context, a *app.App, stdout io.Writer, email, name, role, facility, password string) error {
	printed := false
	if password == "" {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password, printed = base64.RawURLEncoding.EncodeToString(b), true
	}
	var g *authz.Grant
	if role != "" {
		g = &authz.Grant{Role: role, Domain: "system"}
		if facility != "" {
			g.Domain = authz.FacilityDomain(facility)
		}
	}
	if g != nil {
		// Check the grant before anything is written, so a typo creates nothing.
		probe := *g
		probe.UserID = "00000000-0000-7000-8000-000000000000"
		if err := a.Authz.ValidateGrant(ctx, probe); err != nil {
			return err
		}
	}
	u, err := a.Accounts.CreateUser(ctx, cliActor, accounts.RegisterInput{Email: email, Name: name, Password: password, Locale: "en"})
	if err != nil {
		return err
	}
	if g != nil {
		g.UserID = u.ID
		if err := a.Authz.Grant(ctx, cliActor, *g); err != nil {
			return fmt.Errorf("account %s created, but the role was not granted: %w", u.Email, err)
		}
	}
	fmt.Fprintf(stdout, "created %s (%s)\n", u.Email, u.ID)
	if printed {
		fmt.Fprintf(stdout, "password: %s\n", password)
	}
	return nil
}

func auditVerify(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	checked, problems, err := audit.Verify(ctx, db.Gorm)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "record %d: %s\n", p.Seq, p.Reason)
	}
	if len(problems) > 0 {
		return fmt.Errorf("audit log damaged: %d problem(s) in %d records", len(problems), checked)
	}
	fmt.Fprintf(stdout, "audit log intact: %d records\n", checked)
	return nil
}
