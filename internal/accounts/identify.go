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

// credential is a token or a session read with its user, the database
// clock and the stored policy version; a statement reading tokens fills
// Token, one reading sessions fills Session.
type credential struct {
	Token         APIToken `gorm:"embedded;embeddedPrefix:t_"`
	Session       Session  `gorm:"embedded;embeddedPrefix:s_"`
	User          User     `gorm:"embedded"`
	DBNow         database.Clock
	PolicyVersion int64
}

// secrets is how one kind of secret (API tokens, session cookies) is read
// and judged.
type secrets struct {
	what  string // in errors
	query string // the live rows of the hashes listed
	hash  func(*credential) string
	// use judges a credential at now: the identity it gives (nil when it is
	// dead), and the id whose use is due to be recorded, if any.
	use     func(c *credential, now time.Time) (*Identity, string)
	model   any    // the table whose use is recorded
	touched string // and its column
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
	tokens, sessions := s.tokenSecrets(), s.sessionSecrets()
	opt := batch.Options{Max: lookups, Timeout: 15 * time.Second, Linger: time.Millisecond}
	s.tokens = batch.New(opt, func(ctx context.Context, hashes []string) []identified { return s.identify(ctx, tokens, hashes) })
	s.sessions = batch.New(opt, func(ctx context.Context, hashes []string) []identified { return s.identify(ctx, sessions, hashes) })
}

// The statements join the token or session with its user and read the
// clock and the policy version beside them. The token's or session's own
// columns are prefixed so they do not collide with the user's; they are
// listed from the models, so a column added to a model is read too.
const policyVersionColumn = `COALESCE((SELECT version FROM policy_version WHERE id = 1), 0) AS policy_version`

func (s *Service) tokenSecrets() *secrets {
	return &secrets{what: "API tokens", model: &APIToken{}, touched: "last_used_at",
		query: `SELECT ` + prefixed(s.db, &APIToken{}, "t") + `, u.*, ` + database.ClockColumn(s.db) + ` AS db_now, ` + policyVersionColumn + `
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash IN ? AND t.revoked_at IS NULL`,
		hash: func(c *credential) string { return c.Token.TokenHash },
		use: func(c *credential, now time.Time) (*Identity, string) {
			t := &c.Token
			if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) || c.User.DisabledAt != nil {
				return nil, ""
			}
			u, due := c.User, "" // each request its own copy
			if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
				due, t.LastUsedAt = t.ID, &now // once for the batch
			}
			return &Identity{User: &u, PolicyVersion: c.PolicyVersion}, due
		}}
}

func (s *Service) sessionSecrets() *secrets {
	return &secrets{what: "sessions", model: &Session{}, touched: "last_seen_at",
		query: `SELECT ` + prefixed(s.db, &Session{}, "s") + `, u.*, ` + database.ClockColumn(s.db) + ` AS db_now, ` + policyVersionColumn + `
			FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash IN ? AND s.revoked_at IS NULL`,
		hash: func(c *credential) string { return c.Session.TokenHash },
		use: func(c *credential, now time.Time) (*Identity, string) {
			se := c.Session // as read, whatever the batch records
			if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) >= s.set.IdleTimeout || c.User.DisabledAt != nil {
				return nil, ""
			}
			u, due := c.User, ""
			if now.Sub(c.Session.LastSeenAt) >= touchEvery {
				due, c.Session.LastSeenAt = se.ID, now // once for the batch
			}
			return &Identity{User: &u, Session: &se, PolicyVersion: c.PolicyVersion}, due
		}}
}

// prefixed lists model's columns as "alias.column AS alias_column".
func prefixed(db *gorm.DB, model any, alias string) string {
	st := &gorm.Statement{DB: db}
	if err := st.Parse(model); err != nil {
		panic(fmt.Sprintf("accounts: model %T: %v", model, err)) // a programming error
	}
	cols := make([]string, len(st.Schema.DBNames))
	for i, c := range st.Schema.DBNames {
		cols[i] = alias + "." + c + " AS " + alias + "_" + c
	}
	return strings.Join(cols, ", ")
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

// identify identifies the requests bearing the secrets of kind k whose
// hashes are listed.
func (s *Service) identify(ctx context.Context, k *secrets, hashes []string) []identified {
	out := make([]identified, len(hashes))
	db := s.db.WithContext(ctx)
	var rows []credential
	if err := db.Raw(k.query, database.Pad(hashes)).Scan(&rows).Error; err != nil {
		return failed(out, fmt.Errorf("read %s: %w", k.what, err))
	}
	byHash := make(map[string]*credential, len(rows))
	for i := range rows {
		byHash[k.hash(&rows[i])] = &rows[i]
	}
	var due []string
	var now time.Time
	for i, h := range hashes {
		c := byHash[h]
		if c == nil {
			out[i].err = ErrNoSession
			continue
		}
		now = c.DBNow.At
		id, touch := k.use(c, now)
		if id == nil {
			out[i].err = ErrNoSession
			continue
		}
		if touch != "" {
			due = append(due, touch)
		}
		out[i].id = id
	}
	if len(due) > 0 {
		if err := db.Model(k.model).Where("id IN ?", database.Pad(due)).Update(k.touched, now).Error; err != nil {
			return failed(out, fmt.Errorf("record use of %s: %w", k.what, err))
		}
	}
	return out
}

// failed gives every request of a batch err.
func failed(out []identified, err error) []identified {
	for i := range out {
		out[i] = identified{err: err}
	}
	return out
}
