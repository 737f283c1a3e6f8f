package accounts_test

import (
	"errors"
	"testing"
	"time"

	"facility/internal/accounts"
	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/database"
)

var actor = audit.Actor{IP: "127.0.0.1", RequestID: "test"}

func dbNow(t *testing.T, env *apptest.Env) time.Time {
	t.Helper()
	now, err := database.Now(env.DB.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

func storedPolicyVersion(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var v int64
	if err := env.DB.Gorm.Raw("SELECT version FROM policy_version WHERE id = 1").Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	return v
}

func exec(t *testing.T, env *apptest.Env, sql string, args ...any) {
	t.Helper()
	if err := env.DB.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatal(err)
	}
}

// The single statement that identifies a token refuses what the separate
// reads refused: revoked, expired (on the database clock), a disabled
// user, an unknown or malformed token; and brings the policy version.
func TestAPITokenIdentifiedInOneStatementKeepsEveryRule(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("prog@example.org", "", "")
	mint := func() (string, string) {
		secret, tok, err := env.Accounts.CreateAPIToken(t.Context(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"}, "script", 30)
		if err != nil {
			t.Fatal(err)
		}
		return secret, tok.ID
	}
	identify := func(secret string) (*accounts.Identity, error) {
		return env.Accounts.IdentifyAPIToken(t.Context(), secret)
	}

	secret, id := mint()
	got, err := identify(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.User.ID != u.ID || got.User.Email != "prog@example.org" || got.Session != nil {
		t.Fatalf("identity %+v", got)
	}
	if want := storedPolicyVersion(t, env); got.PolicyVersion != want || want == 0 {
		t.Fatalf("policy version %d, stored %d", got.PolicyVersion, want)
	}
	// The first use is recorded with the database clock.
	var last *time.Time
	env.DB.Gorm.Raw("SELECT last_used_at FROM api_tokens WHERE id = ?", id).Scan(&last)
	if last == nil || dbNow(t, env).Sub(*last).Abs() > 5*time.Second {
		t.Fatalf("last use %v", last)
	}

	// Expiry is decided on the database clock, a second either side.
	exec(t, env, "UPDATE api_tokens SET expires_at = ? WHERE id = ?", dbNow(t, env).Add(time.Minute), id)
	if _, err := identify(secret); err != nil {
		t.Fatalf("token a minute before expiry: %v", err)
	}
	exec(t, env, "UPDATE api_tokens SET expires_at = ? WHERE id = ?", dbNow(t, env).Add(-time.Second), id)
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("expired token: %v", err)
	}

	secret, id = mint()
	if err := env.Accounts.SetDisabled(t.Context(), actor, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("token of a disabled user: %v", err)
	}
	if err := env.Accounts.SetDisabled(t.Context(), actor, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := identify(secret); err != nil {
		t.Fatalf("token of the re-enabled user: %v", err)
	}
	if err := env.Accounts.RevokeAPIToken(t.Context(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"}, id); err != nil {
		t.Fatal(err)
	}
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("revoked token: %v", err)
	}
	for _, bad := range []string{"", "fac_", "fac_unknown", secret[4:], secret + "x", "fac_" + string(make([]byte, 100))} {
		if _, err := identify(bad); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

// The same for sessions, with the idle timeout and the last-seen touch.
func TestSessionIdentifiedInOneStatementKeepsEveryRule(t *testing.T) {
	env := apptest.New(t)
	u, _ := env.User("ama@example.org", "", "")
	login := func() (string, string) {
		in, err := env.Accounts.Login(t.Context(), actor, "ama@example.org", apptest.Password, "test")
		if err != nil {
			t.Fatal(err)
		}
		return in.Token, in.Session.ID
	}
	identify := func(secret string) (*accounts.Identity, error) {
		return env.Accounts.IdentifySession(t.Context(), secret)
	}
	lastSeen := func(id string) time.Time {
		var at time.Time
		env.DB.Gorm.Raw("SELECT last_seen_at FROM sessions WHERE id = ?", id).Scan(&at)
		return at
	}

	secret, id := login()
	got, err := identify(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.User.ID != u.ID || got.Session == nil || got.Session.ID != id || !got.Session.MFAPassed || got.Session.UserAgent != "test" {
		t.Fatalf("identity %+v", got)
	}
	if want := storedPolicyVersion(t, env); got.PolicyVersion != want {
		t.Fatalf("policy version %d, stored %d", got.PolicyVersion, want)
	}

	// Idle for 29 minutes: still alive, and seen now. Idle for 31: dead.
	exec(t, env, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", dbNow(t, env).Add(-29*time.Minute), id)
	if _, err := identify(secret); err != nil {
		t.Fatalf("session idle 29 minutes: %v", err)
	}
	if d := dbNow(t, env).Sub(lastSeen(id)); d.Abs() > 5*time.Second {
		t.Fatalf("last seen %v ago after use", d)
	}
	exec(t, env, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", dbNow(t, env).Add(-31*time.Minute), id)
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("session idle 31 minutes: %v", err)
	}

	// Past its lifetime on the database clock, a second either side.
	secret, id = login()
	exec(t, env, "UPDATE sessions SET expires_at = ? WHERE id = ?", dbNow(t, env).Add(time.Minute), id)
	if _, err := identify(secret); err != nil {
		t.Fatalf("session a minute before its end: %v", err)
	}
	exec(t, env, "UPDATE sessions SET expires_at = ? WHERE id = ?", dbNow(t, env).Add(-time.Second), id)
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("session past its lifetime: %v", err)
	}

	// A disabled user (written directly, so the session itself stays live).
	secret, _ = login()
	exec(t, env, "UPDATE users SET disabled_at = ? WHERE id = ?", dbNow(t, env), u.ID)
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	exec(t, env, "UPDATE users SET disabled_at = NULL WHERE id = ?", u.ID)
	if _, err := identify(secret); err != nil {
		t.Fatalf("session of the re-enabled user: %v", err)
	}

	if err := env.Accounts.Logout(t.Context(), actor, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := identify(secret); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("session after sign-out: %v", err)
	}
	for _, bad := range []string{"", "unknown", secret + "x", string(make([]byte, 101))} {
		if _, err := identify(bad); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("session token %q: %v", bad, err)
		}
	}
}

// Tokens identified together, as under load, each get what they would
// alone: two people's live tokens (one of them twice in the batch), an
// expired, a revoked and an unknown token; the live ones are touched once.
func TestAPITokensIdentifiedTogether(t *testing.T) {
	env := apptest.New(t)
	mint := func(email string) (string, string, string) {
		u, _ := env.User(email, "", "")
		secret, tok, err := env.Accounts.CreateAPIToken(t.Context(), audit.Actor{UserID: u.ID, IP: "127.0.0.1"}, "script", 30)
		if err != nil {
			t.Fatal(err)
		}
		return secret, tok.ID, u.ID
	}
	ann, annToken, annID := mint("ann@example.org")
	bob, bobToken, bobID := mint("bob@example.org")
	expired, expiredToken, _ := mint("cy@example.org")
	exec(t, env, "UPDATE api_tokens SET expires_at = ? WHERE id = ?", dbNow(t, env).Add(-time.Second), expiredToken)
	revoked, revokedToken, revokedUser := mint("dee@example.org")
	if err := env.Accounts.RevokeAPIToken(t.Context(), audit.Actor{UserID: revokedUser, IP: "127.0.0.1"}, revokedToken); err != nil {
		t.Fatal(err)
	}

	ids, errs := env.Accounts.IdentifyAPITokens(t.Context(), []string{ann, expired, bob, revoked, "fac_unknown", ann})
	for i, want := range []string{annID, "", bobID, "", "", annID} {
		switch {
		case want == "" && !errors.Is(errs[i], accounts.ErrNoSession):
			t.Errorf("request %d: %v, want ErrNoSession", i, errs[i])
		case want != "" && (errs[i] != nil || ids[i].User.ID != want):
			t.Errorf("request %d: %+v %v, want user %s", i, ids[i], errs[i], want)
		}
	}
	if ids[0].User == ids[5].User {
		t.Error("two requests share one user value")
	}
	for _, id := range []string{annToken, bobToken} {
		var last *time.Time
		env.DB.Gorm.Raw("SELECT last_used_at FROM api_tokens WHERE id = ?", id).Scan(&last)
		if last == nil {
			t.Errorf("token %s: last use not recorded", id)
		}
	}
}
