package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"facility/internal/accounts"
	"facility/internal/app"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/config"
)

// TestRevocationReachesASecondServerProcess runs two `facility serve`
// processes on one database: a role revoked through the first is refused by
// the second within 5 seconds.
func TestRevocationReachesASecondServerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts two servers")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "facility")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := []string{"FACILITY_DATA_DIR=" + filepath.Join(dir, "data"), "FACILITY_LOG_LEVEL=warn"}
	if base := os.Getenv("FACILITY_TEST_DATABASE_URL"); base != "" {
		_, url := commandEnv(t)
		env = append(env, "FACILITY_DATABASE_URL="+url)
	}

	// Accounts and tokens, written straight into the database.
	ctx := context.Background()
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	if err := db.MigrateUp(ctx, log); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, db, log, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Authz.Close()
	sys := audit.Actor{IP: "127.0.0.1", RequestID: "test"}
	token := func(email string, g *authz.Grant) (string, string) {
		u, err := a.Accounts.CreateUser(ctx, sys, accounts.RegisterInput{Email: email, Name: "Test Person", Password: "a long and unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if g != nil {
			g.UserID = u.ID
			if err := a.Authz.Grant(ctx, sys, *g); err != nil {
				t.Fatal(err)
			}
		}
		// Staff must have a second factor; as if they had set it up.
		if err := db.Gorm.Exec("UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP', totp_enabled_at = ? WHERE id = ?", time.Now().UTC(), u.ID).Error; err != nil {
			t.Fatal(err)
		}
		tok, _, err := a.Accounts.CreateAPIToken(ctx, audit.Actor{UserID: u.ID, IP: "127.0.0.1"}, "test", 1)
		if err != nil {
			t.Fatal(err)
		}
		return tok, u.ID
	}
	adminToken, _ := token("admin@example.org", &authz.Grant{Role: authz.RoleAdmin, Domain: "system"})
	auditorToken, auditorID := token("auditor@example.org", &authz.Grant{Role: authz.RoleAuditor, Domain: "system"})

	first, second := serveProcess(t, bin, env), serveProcess(t, bin, env)
	call := func(base, tok, method, path, body string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if s := call(second, auditorToken, http.MethodGet, "/api/v1/audit", ""); s != http.StatusOK {
		t.Fatalf("auditor on the second server before revocation: %d", s)
	}
	body := fmt.Sprintf(`{"user_id": %q, "role": "auditor", "domain": "system"}`, auditorID)
	if s := call(first, adminToken, http.MethodDelete, "/api/v1/admin/roles", body); s/100 != 2 {
		t.Fatalf("revoke on the first server: %d", s)
	}
	revoked := time.Now()
	for call(second, auditorToken, http.MethodGet, "/api/v1/audit", "") != http.StatusForbidden {
		if time.Since(revoked) > 5*time.Second {
			t.Fatal("the second server still allowed the revoked role after 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("refused on the second server %v after the revocation", time.Since(revoked).Round(time.Millisecond))
}

// serveProcess starts `facility serve` on a free port and returns its URL
// once ready; the process stops with the test.
func serveProcess(t *testing.T, bin string, env []string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), env...), "FACILITY_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server on %s not ready", addr)
	return ""
}
