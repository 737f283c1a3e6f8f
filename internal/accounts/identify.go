package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/batch"
	"facility/internal/database"
	"facility/internal/token"
)

// Identity is who a request comes from, read in one statement together
// with what deciding anything about it needs next: the database clock
// (expiry and idle timeout) and the stored authorisation policy version.
type Identity struct {
	User    *User
	Session *Session // nil for an API token
	// PolicyVersion is the policy version stored when the identity was read,
	// so the caller can bring its policy up to date without a round trip of
	// its own (accounts knows nothing of authorisation beyond this number).
	PolicyVersion int64
}

// The statements join the token or session with its user and read the
// clock and the policy version beside them; the token's or session's own
// columns are prefixed so they do not collide with the user's.
const (
	tokenColumns = `t.id AS t_id, t.user_id AS t_user_id, t.name AS t_name, t.token_hash AS t_token_hash,
		t.prefix AS t_prefix, t.created_at AS t_created_at, t.last_used_at AS t_last_used_at,
		t.expires_at AS t_expires_at, t.revoked_at AS t_revoked_at`
	sessionColumns = `s.id AS s_id, s.token_hash AS s_token_hash, s.user_id AS s_user_id, s.mfa_passed AS s_mfa_passed,
		s.ip AS s_ip, s.user_agent AS s_user_agent, s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at,
		s.expires_at AS s_expires_at, s.revoked_at AS s_revoked_at`
	policyVersionColumn = `COALESCE((SELECT version FROM policy_version WHERE id = 1), 0) AS policy_version`
)

type tokenRow struct {
	Token         APIToken `gorm:"embedded;embeddedPrefix:t_"`
	User          User     `gorm:"embedded"`
	DBNow         database.Clock
	PolicyVersion int64
}

type sessionRow struct {
	Session       Session `gorm:"embedded;embeddedPrefix:s_"`
	User          User    `gorm:"embedded"`
	DBNow         database.Clock
	PolicyVersion int64
}

// identified is what a lookup found for one request.
type identified struct {
	id  *Identity
	err error
}

// lookups is the most requests one identifying statement serves.
const lookups = 64

// newIdentifiers makes the batch groups that identify requests: under
// load, every request waiting to be identified is read by one statement.
func (s *Service) newIdentifiers() {
	s.tokens = batch.New(batch.Options{Max: lookups, Timeout: 15 * time.Second, Linger: time.Millisecond}, s.identifyTokens)
	s.sessions = batch.New(batch.Options{Max: lookups, Timeout: 15 * time.Second, Linger: time.Millisecond}, s.identifySessions)
}

// StartBatches lets requests be identified together (see package batch); until
// then each is read alone.
func (s *Service) StartBatches() {
	s.tokens.Start()
	s.sessions.Start()
}

// StopBatches returns once the requests waiting to be identified are.
func (s *Service) StopBatches() {
	s.tokens.Stop()
	s.sessions.Stop()
}

// IdentifyAPIToken finds the user of a live token: not revoked, not
// expired, its user not disabled. Staff tokens count as having passed the
// second factor: they can only be created from a session that did. One
// statement reads it, with the other requests waiting; the token's last use
// is written at most every touchEvery.
func (s *Service) IdentifyAPIToken(ctx context.Context, secret string) (*Identity, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 100 {
		return nil, ErrNoSession
	}
	got, err := s.tokens.Do(ctx, token.Hash(secret))
	if err != nil {
		return nil, err
	}
	return got.id, got.err
}

// identifyTokens identifies the requests bearing the tokens of hashes.
func (s *Service) identifyTokens(ctx context.Context, hashes []string) []identified {
	out := make([]identified, len(hashes))
	db := s.db.WithContext(ctx)
	var rows []tokenRow
	if err := db.Raw(`SELECT `+tokenColumns+`, u.*, `+database.ClockColumn(db)+` AS db_now, `+policyVersionColumn+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash IN ? AND t.revoked_at IS NULL`, database.Pad(hashes)).Scan(&rows).Error; err != nil {
		return failed(out, fmt.Errorf("read API tokens: %w", err))
	}
	byHash := make(map[string]*tokenRow, len(rows))
	for i := range rows {
		byHash[rows[i].Token.TokenHash] = &rows[i]
	}
	var due []string
	var now time.Time
	for i, h := range hashes {
		r := byHash[h]
		if r == nil {
			out[i].err = ErrNoSession
			continue
		}
		t := &r.Token
		now = r.DBNow.At
		if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) || r.User.DisabledAt != nil {
			out[i].err = ErrNoSession
			continue
		}
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
			due = append(due, t.ID)
			t.LastUsedAt = &now // once for the batch
		}
		u := r.User // each request its own copy
		out[i].id = &Identity{User: &u, PolicyVersion: r.PolicyVersion}
	}
	if err := touch(db, &APIToken{}, "last_used_at", due, now); err != nil {
		return failed(out, fmt.Errorf("touch API tokens: %w", err))
	}
	return out
}

// IdentifySession finds the live session of a cookie token. A session is
// dead once revoked, past its absolute lifetime, idle too long, or when its
// user is disabled. One statement reads it, with the other requests
// waiting; last_seen_at is written at most every touchEvery.
func (s *Service) IdentifySession(ctx context.Context, secret string) (*Identity, error) {
	if secret == "" || len(secret) > 100 {
		return nil, ErrNoSession
	}
	got, err := s.sessions.Do(ctx, token.Hash(secret))
	if err != nil {
		return nil, err
	}
	return got.id, got.err
}

// identifySessions identifies the requests bearing the session cookies of
// hashes.
func (s *Service) identifySessions(ctx context.Context, hashes []string) []identified {
	out := make([]identified, len(hashes))
	db := s.db.WithContext(ctx)
	var rows []sessionRow
	if err := db.Raw(`SELECT `+sessionColumns+`, u.*, `+database.ClockColumn(db)+` AS db_now, `+policyVersionColumn+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash IN ? AND s.revoked_at IS NULL`, database.Pad(hashes)).Scan(&rows).Error; err != nil {
		return failed(out, fmt.Errorf("read sessions: %w", err))
	}
	byHash := make(map[string]*sessionRow, len(rows))
	for i := range rows {
		byHash[rows[i].Session.TokenHash] = &rows[i]
	}
	var due []string
	var now time.Time
	for i, h := range hashes {
		r := byHash[h]
		if r == nil {
			out[i].err = ErrNoSession
			continue
		}
		se := r.Session // each request its own copy, as of the read
		now = r.DBNow.At
		if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) >= s.set.IdleTimeout || r.User.DisabledAt != nil {
			out[i].err = ErrNoSession
			continue
		}
		if now.Sub(r.Session.LastSeenAt) >= touchEvery {
			due = append(due, se.ID)
			r.Session.LastSeenAt = now // once for the batch
		}
		u := r.User
		out[i].id = &Identity{User: &u, Session: &se, PolicyVersion: r.PolicyVersion}
	}
	if err := touch(db, &Session{}, "last_seen_at", due, now); err != nil {
		return failed(out, fmt.Errorf("touch sessions: %w", err))
	}
	return out
}

// touch records that the tokens or sessions ids were used at now.
func touch(db *gorm.DB, model any, column string, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Model(model).Where("id IN ?", database.Pad(ids)).Update(column, now).Error
}

// failed gives every request of a batch err.
func failed(out []identified, err error) []identified {
	for i := range out {
		out[i] = identified{err: err}
	}
	return out
}
