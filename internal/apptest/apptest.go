// Package apptest builds a real Facility for tests: the same wiring as the
// binary, on a fresh database per test (an SQLite file, or a PostgreSQL
// schema of its own when FACILITY_TEST_DATABASE_URL is set), with a client
// that keeps cookies and sends what a browser sends.
package apptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	gcblob "gocloud.dev/blob"

	"facility/internal/accounts"
	"facility/internal/app"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/config"
	"facility/internal/database"
)

// Env is one application on its own database.
type Env struct {
	*app.App
	t testing.TB
}

// PostgresURL is the test server, or "" to use SQLite only.
func PostgresURL() string { return os.Getenv("FACILITY_TEST_DATABASE_URL") }

// Config returns a test configuration on a fresh database.
func Config(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.BaseURL = "http://facility.test"
	if base := PostgresURL(); base != "" {
		cfg.DatabaseURL = NewSchema(t, base)
	}
	return cfg
}

// NewSchema creates an empty schema on the test server, dropped when the
// test ends, and returns a URL whose connections use it.
func NewSchema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// New starts an application on a fresh, migrated database. Background work
// (jobs, policy watcher) runs too, and stops with the test.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWithConfig(t, Config(t))
}

// NewWithConfig starts an application with cfg.
func NewWithConfig(t testing.TB, cfg *config.Config) *Env {
	t.Helper()
	return NewWithOptions(t, cfg, Options{})
}

// Options change how the application is built.
type Options struct {
	// WrapBlobs, if set, replaces the file store's bucket before anything
	// uses it (tests wrap it to inject storage faults, see blobtest).
	WrapBlobs func(*gcblob.Bucket) *gcblob.Bucket
}

// NewWithOptions starts an application with cfg, changed as o says.
func NewWithOptions(t testing.TB, cfg *config.Config, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := database.Open(ctx, cfg.DatabaseURL, filepath.Join(cfg.DataDir, "facility.db"), database.Options{MaxOpenConns: cfg.DatabaseMaxConns})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateUp(ctx, log); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, db, log, "test")
	if err != nil {
		t.Fatal(err)
	}
	if o.WrapBlobs != nil {
		// The store is shared by pointer, so every user sees the new bucket.
		a.Blobs.Bucket = o.WrapBlobs(a.Blobs.Bucket)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(stop)
		db.Close()
	})
	return &Env{App: a, t: t}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Password is the password every test account gets.
const Password = "correct horse battery staple"

// User creates a verified account and grants it role in domain (role may
// be empty). Staff accounts also get a second factor, whose secret is
// returned so the client can sign in.
func (e *Env) User(email, role, domain string) (*accounts.User, string) {
	e.t.Helper()
	ctx := context.Background()
	a := audit.Actor{IP: "127.0.0.1", RequestID: "test"}
	u, err := e.Accounts.CreateUser(ctx, a, accounts.RegisterInput{Email: email, Name: nameOf(email), Password: Password, Locale: "en"})
	if err != nil {
		e.t.Fatalf("create user %s: %v", email, err)
	}
	if role != "" {
		if err := e.Authz.Grant(ctx, a, authz.Grant{UserID: u.ID, Role: role, Domain: domain}); err != nil {
			e.t.Fatalf("grant %s to %s: %v", role, email, err)
		}
	}
	secret := ""
	if staff, _ := e.Authz.HasStaffRole(ctx, u.ID); staff {
		en, err := e.Accounts.BeginTOTP(ctx, u.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		secret = en.Secret
		now := time.Now()
		if err := e.DB.Gorm.Exec("UPDATE users SET totp_enabled_at = ? WHERE id = ?", now, u.ID).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	u, err = e.Accounts.User(ctx, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, secret
}

func nameOf(email string) string {
	n := strings.Split(email, "@")[0]
	return strings.ToUpper(n[:1]) + n[1:] + " Tester"
}

// Applicant creates an applicant with an organisation and returns both ids.
func (e *Env) Applicant(email, orgName string) (*accounts.User, string) {
	e.t.Helper()
	u, _ := e.User(email, "", "")
	o, err := e.Organisations.Create(context.Background(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"}, orgInput(orgName))
	if err != nil {
		e.t.Fatalf("create organisation: %v", err)
	}
	return u, o.ID
}
