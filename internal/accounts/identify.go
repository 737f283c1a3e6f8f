package accounts

import (
	"context"
	"fmt"
	"strings"

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

// IdentifyAPIToken finds the user of a live token: not revoked, not
// expired, its user not disabled. Staff tokens count as having passed the
// second factor: they can only be created from a session that did. One statement reads all of it; the
// token's last use is written at most every touchEvery.
func (s *Service) IdentifyAPIToken(ctx context.Context, secret string) (*Identity, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 100 {
		return nil, ErrNoSession
	}
	db := s.db.WithContext(ctx)
	var r tokenRow
	res := db.Raw(`SELECT `+tokenColumns+`, u.*, `+database.ClockColumn(db)+` AS db_now, `+policyVersionColumn+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`, token.Hash(secret)).Scan(&r)
	if err := res.Error; err != nil {
		return nil, fmt.Errorf("read API token: %w", err)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNoSession
	}
	t, u, now := &r.Token, &r.User, r.DBNow.At
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return nil, ErrNoSession
	}
	if u.DisabledAt != nil {
		return nil, ErrNoSession
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := db.Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error; err != nil {
			return nil, fmt.Errorf("touch API token: %w", err)
		}
	}
	return &Identity{User: u, PolicyVersion: r.PolicyVersion}, nil
}

// IdentifySession finds the live session of a cookie token. A session is
// dead once revoked, past its absolute lifetime, idle too long, or when its
// user is disabled. One statement reads all of it; last_seen_at is written
// at most every touchEvery.
func (s *Service) IdentifySession(ctx context.Context, secret string) (*Identity, error) {
	if secret == "" || len(secret) > 100 {
		return nil, ErrNoSession
	}
	db := s.db.WithContext(ctx)
	var r sessionRow
	res := db.Raw(`SELECT `+sessionColumns+`, u.*, `+database.ClockColumn(db)+` AS db_now, `+policyVersionColumn+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.revoked_at IS NULL`, token.Hash(secret)).Scan(&r)
	if err := res.Error; err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNoSession
	}
	se, u, now := &r.Session, &r.User, r.DBNow.At
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) >= s.set.IdleTimeout {
		return nil, ErrNoSession
	}
	if u.DisabledAt != nil {
		return nil, ErrNoSession
	}
	if now.Sub(se.LastSeenAt) >= touchEvery {
		if err := db.Model(&Session{}).Where("id = ?", se.ID).Update("last_seen_at", now).Error; err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return &Identity{User: u, Session: se, PolicyVersion: r.PolicyVersion}, nil
}
