// Command facility is the whole of Facility in one binary: the web
// application and API (serve), database migrations, demo data, operator
// tasks and the evaluation engine on files (solve).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
	// Call timezones must resolve on hosts without zoneinfo (distroless images).
	_ "time/tzdata"

	"facility/internal/app"
	"facility/internal/config"
	"facility/internal/database"
	"facility/internal/demo"
	"facility/internal/web"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `facility — challenge calls of the ILO Innovation Facility

Usage:
  facility serve [--demo]                 run the web application and API
  facility migrate up|down|status         apply, roll back one, or list migrations
  facility seed demo                      add the demo accounts (prints their passwords)
  facility user create --email E --name N [--role R] [--facility F] [--password P]
  facility audit verify                   check the audit log's hash chain
  facility solve assign|calibrate|select --in FILE [--out FILE]
  facility version

Every command reads configs/facility.yaml defaults, the file named by
--config or FACILITY_CONFIG, then FACILITY_* environment variables.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "facility:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "facility", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "solve":
		return solve(ctx, rest, stdout)
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("FACILITY_CONFIG"), "configuration file")
	demoFlag := fs.Bool("demo", false, "serve: seed demo data and print the demo accounts")
	email := fs.String("email", "", "user create: e-mail address")
	name := fs.String("name", "", "user create: full name")
	role := fs.String("role", "", "user create: role to grant (admin, auditor, manager, evaluator, mentor, donor)")
	facility := fs.String("facility", "", "user create: facility code for facility roles")
	password := fs.String("password", "", "user create: password (a random one is printed when empty)")
	sub := ""
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		sub, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath, os.Environ())
	if err != nil {
		return err
	}
	log := app.Logger(cfg.LogLevel)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, *demoFlag, stdout)
	case "migrate":
		return migrate(ctx, cfg, log, sub, stdout)
	case "seed":
		if sub != "demo" {
			return fmt.Errorf("seed: unknown data set %q (try: seed demo)", sub)
		}
		return withApp(ctx, cfg, log, func(a *app.App) error { return seedDemo(ctx, a, stdout) })
	case "user":
		if sub != "create" {
			return fmt.Errorf("user: unknown command %q (try: user create)", sub)
		}
		return withApp(ctx, cfg, log, func(a *app.App) error {
			return createUser(ctx, a, stdout, *email, *name, *role, *facility, *password)
		})
	case "audit":
		if sub != "verify" {
			return fmt.Errorf("audit: unknown command %q (try: audit verify)", sub)
		}
		return auditVerify(ctx, cfg, log, stdout)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// withApp opens and migrates the database and builds the application
// without serving, for one-off commands.
func withApp(ctx context.Context, cfg *config.Config, log *slog.Logger, f func(*app.App) error) error {
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.MigrateUp(ctx, log); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, db, log, version)
	if err != nil {
		return err
	}
	defer a.Authz.Close()
	return f(a)
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger, sub string, stdout io.Writer) error {
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "up":
		return db.MigrateUp(ctx, log)
	case "down":
		return db.MigrateDown(ctx, log)
	case "status":
		return db.MigrationStatus(ctx, stdout)
	}
	return fmt.Errorf("migrate: unknown command %q (try: up, down, status)", sub)
}

// serve listens at once, answering /healthz while the database is reached
// and migrated (and 503 elsewhere), so an orchestrator sees a live process
// that is not ready yet rather than a crash loop when PostgreSQL is late.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, seed bool, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	var handler atomic.Pointer[http.Handler]
	starting := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ok"}`)
			return
		}
		w.Header().Set("Retry-After", "5")
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	handler.Store(&starting)
	srv := web.HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}), log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "version", version)

	db, a, err := startApp(ctx, cfg, log)
	if err != nil {
		_ = srv.Close()
		return err
	}
	defer db.Close()
	if seed {
		if err := seedDemo(ctx, a, stdout); err != nil {
			_ = srv.Close()
			return err
		}
	}
	if err := a.Start(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	h := a.Web.Handler()
	handler.Store(&h)
	log.Info("ready", "url", "http://"+ln.Addr().String(), "database", db.Dialect)
	fmt.Fprintf(stdout, "Facility is ready at http://%s\n", ln.Addr().String())

	select {
	case err := <-errc:
		a.Stop(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		log.Warn("http shutdown", "error", err)
	}
	a.Stop(shut)
	return nil
}

// startApp retries until the database answers and is migrated.
func startApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database.DB, *app.App, error) {
	for {
		db, err := app.OpenDatabase(ctx, cfg)
		if err == nil {
			if err = db.MigrateUp(ctx, log); err == nil {
				a, err := app.New(ctx, cfg, db, log, version)
				if err == nil {
					return db, a, nil
				}
				db.Close()
				return nil, nil, err
			}
			db.Close()
		}
		if cfg.DatabaseURL == "" {
			return nil, nil, err // a local file that fails will not heal by waiting
		}
		log.Warn("database not ready; retrying", "error", err)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func seedDemo(ctx context.Context, a *app.App, stdout io.Writer) error {
	accts, err := demo.Seed(ctx, a.DB.Gorm, a.Accounts, a.Organisations, a.Authz, a.Calls)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Demo accounts (new passwords at every start; staff set up two-step sign-in at first sign-in):")
	for _, ac := range accts {
		fmt.Fprintf(stdout, "  %-45s %-26s %s\n", ac.Role, ac.Email, ac.Password)
	}
	return nil
}
