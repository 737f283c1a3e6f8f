package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"facility/internal/apptest"
	"facility/internal/database"
)

// commandEnv points the command at a fresh database: SQLite in a temporary
// folder, or a PostgreSQL schema of its own in the PostgreSQL suite.
func commandEnv(t *testing.T) (dataDir, url string) {
	dataDir = t.TempDir()
	t.Setenv("FACILITY_DATA_DIR", dataDir)
	if base := apptest.PostgresURL(); base != "" {
		url = apptest.NewSchema(t, base)
		t.Setenv("FACILITY_DATABASE_URL", url)
	}
	return dataDir, url
}

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestCommands(t *testing.T) {
	dataDir, url := commandEnv(t)
	if out, err := runCmd(t, "version"); err != nil || !strings.HasPrefix(out, "facility ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if _, err := runCmd(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := runCmd(t, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "migrate", "status")
	if err != nil || strings.Count(out, "applied") < 4 || strings.Contains(out, "pending") {
		t.Fatalf("status: %q %v", out, err)
	}
	out, err = runCmd(t, "user", "create", "--email", "carlos@example.org", "--name", "Carlos Mendoza",
		"--role", "manager", "--facility", "sustainable_enterprises")
	if err != nil || !strings.Contains(out, "created carlos@example.org") || !strings.Contains(out, "password: ") {
		t.Fatalf("user create: %q %v", out, err)
	}
	// A bad role or facility is refused before anything is written.
	for _, args := range [][]string{
		{"--email", "x@example.org", "--name", "X", "--role", "manager"},
		{"--email", "x@example.org", "--name", "X", "--role", "manager", "--facility", "*"},
		{"--email", "x@example.org", "--name", "X", "--role", "emperor"},
	} {
		if _, err := runCmd(t, append([]string{"user", "create"}, args...)...); err == nil {
			t.Errorf("user create %v accepted", args)
		}
	}
	out, err = runCmd(t, "audit", "verify")
	if err != nil || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %q %v", out, err)
	}

	// Someone with direct database access edits a record: verify fails.
	db, err := database.Open(context.Background(), url, filepath.Join(dataDir, "facility.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect == database.Postgres {
		db.Gorm.Exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
	} else {
		db.Gorm.Exec("DROP TRIGGER audit_log_no_update")
	}
	if err := db.Gorm.Exec("UPDATE audit_log SET ip = '10.6.6.6' WHERE seq = 1").Error; err != nil {
		t.Fatal(err)
	}
	out, err = runCmd(t, "audit", "verify")
	if err == nil || !strings.Contains(out, "record 1: content differs") {
		t.Fatalf("tampered audit log passed: %q %v", out, err)
	}
}

func TestSolveRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"solve"},
		{"solve", "paint"},
		{"solve", "assign"},
		{"solve", "assign", "--in", "/nonexistent.json"},
	} {
		if _, err := runCmd(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	for _, kind := range []string{"assign", "calibrate", "select"} {
		out := filepath.Join(t.TempDir(), "out.json")
		if _, err := runCmd(t, "solve", kind, "--in", filepath.Join("..", "..", "configs", "examples", kind+".json"), "--out", out); err != nil {
			t.Errorf("solve %s on the example: %v", kind, err)
		}
	}
}
