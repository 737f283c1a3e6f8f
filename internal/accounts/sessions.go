package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/database"
	"facility/internal/token"
	"facility/internal/validate"
)

// Session is a signed-in browser. Its token lives only in the cookie; the
// database keeps a hash.
type Session struct {
	ID         string     `gorm:"column:id;primaryKey" json:"id"`
	TokenHash  string     `gorm:"column:token_hash" json:"-"`
	UserID     string     `gorm:"column:user_id" json:"-"`
	MFAPassed  bool       `gorm:"column:mfa_passed" json:"mfa_passed"`
	IP         string     `gorm:"column:ip" json:"ip"`
	UserAgent  string     `gorm:"column:user_agent" json:"user_agent"`
	CreatedAt  time.Time  `gorm:"column:created_at" json:"created_at"`
	LastSeenAt time.Time  `gorm:"column:last_seen_at" json:"last_seen_at"`
	ExpiresAt  time.Time  `gorm:"column:expires_at" json:"expires_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at" json:"-"`
}

// TableName maps Session to its table.
func (Session) TableName() string { return "sessions" }

// Throttling: an account refuses attempts after accountFailures failures in
// accountWindow (the owner can still reset the password, so nobody is locked
// out for good), and a client address after ipAttempts attempts in ipWindow.
const (
	accountFailures = 10
	accountWindow   = 15 * time.Minute
	ipAttempts      = 30
	ipWindow        = 5 * time.Minute
	// A session waiting for its second factor lives briefly.
	pendingMFALifetime = 10 * time.Minute
	// last_seen_at is written at most this often, so reads stay reads.
	touchEvery = time.Minute
)

// SignIn is the outcome of a correct password.
type SignIn struct {
	Token   string
	Session *Session
	User    *User
	// NeedsTOTP: enter a code before anything else. NeedsEnrolment: the
	// account's role requires a second factor it has not set up yet.
	NeedsTOTP, NeedsEnrolment bool
}

// ThrottledError says how long to wait.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return ErrThrottled.Error() }
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Login checks a password and opens a session.
func (s *Service) Login(ctx context.Context, actor audit.Actor, email, password, userAgent string) (*SignIn, error) {
	var errs validate.Errors
	email = errs.Email("email", email)
	if password == "" {
		errs.Add("password", "required", nil)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	db := s.db.WithContext(ctx)
	now, err := database.Now(db)
	if err != nil {
		return nil, err
	}
	if err := s.checkThrottle(db, email, actor.IP, now); err != nil {
		_ = audit.Write(ctx, s.db, actor, audit.Entry{Action: "session.login_throttled", ObjectType: "account", ObjectID: email})
		return nil, err
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	ok := false
	if u != nil {
		ok = checkPassword(password, u.PasswordHash) && u.DisabledAt == nil
	} else {
		checkPassword(password, dummyHash)
	}
	if !ok {
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := recordAttempt(tx, email, actor.IP, false, now); err != nil {
				return err
			}
			return audit.Append(tx, actor, audit.Entry{Action: "session.login_failed", ObjectType: "account", ObjectID: email})
		})
		if err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	staff, err := s.staff.HasStaffRole(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	res := &SignIn{User: u, NeedsTOTP: u.TOTPEnabledAt != nil, NeedsEnrolment: staff && u.TOTPEnabledAt == nil}
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := recordAttempt(tx, email, actor.IP, true, now); err != nil {
			return err
		}
		mfaDone := !res.NeedsTOTP && !res.NeedsEnrolment
		res.Token, res.Session, err = s.newSession(tx, u.ID, mfaDone, actor.IP, userAgent, now)
		if err != nil {
			return err
		}
		actor.UserID = u.ID
		return audit.Append(tx, actor, audit.Entry{Action: "session.login", ObjectType: "session", ObjectID: res.Session.ID,
			Details: map[string]any{"second_factor_pending": !mfaDone}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) checkThrottle(db *gorm.DB, email, ip string, now time.Time) error {
	var failures int64
	if err := db.Table("login_attempts").Where("account = ? AND succeeded = ? AND created_at > ?", email, false, now.Add(-accountWindow)).
		Count(&failures).Error; err != nil {
		return fmt.Errorf("count sign-in failures: %w", err)
	}
	if failures >= accountFailures {
		return &ThrottledError{RetryAfter: accountWindow}
	}
	var fromIP int64
	if err := db.Table("login_attempts").Where("ip = ? AND created_at > ?", ip, now.Add(-ipWindow)).
		Count(&fromIP).Error; err != nil {
		return fmt.Errorf("count sign-in attempts: %w", err)
	}
	if fromIP >= ipAttempts {
		return &ThrottledError{RetryAfter: ipWindow}
	}
	return nil
}

func recordAttempt(tx *gorm.DB, email, ip string, ok bool, now time.Time) error {
	err := tx.Exec("INSERT INTO login_attempts (id, account, ip, succeeded, created_at) VALUES (?, ?, ?, ?, ?)",
		database.NewID(), email, ip, ok, now).Error
	if err != nil {
		return fmt.Errorf("record sign-in attempt: %w", err)
	}
	return nil
}

func (s *Service) newSession(tx *gorm.DB, userID string, mfaPassed bool, ip, ua string, now time.Time) (string, *Session, error) {
	secret, hash := token.New("")
	life := s.set.AbsoluteTimeout
	if !mfaPassed {
		life = pendingMFALifetime
	}
	if len(ua) > 300 {
		ua = ua[:300]
	}
	se := &Session{ID: database.NewID(), TokenHash: hash, UserID: userID, MFAPassed: mfaPassed, IP: ip, UserAgent: ua,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(life)}
	if err := tx.Create(se).Error; err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return secret, se, nil
}

// Logout ends the session of this token.
func (s *Service) Logout(ctx context.Context, actor audit.Actor, secret string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		var se Session
		if err := tx.Where("token_hash = ? AND revoked_at IS NULL", token.Hash(secret)).Take(&se).Error; err != nil {
			return nil // nothing to end
		}
		if err := tx.Model(&Session{}).Where("id = ?", se.ID).Update("revoked_at", now).Error; err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "session.logout", ObjectType: "session", ObjectID: se.ID})
	})
}

// Sessions lists a user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	db := s.db.WithContext(ctx)
	now, err := database.Now(db)
	if err != nil {
		return nil, err
	}
	var out []Session
	err = db.Where("user_id = ? AND revoked_at IS NULL AND expires_at > ? AND last_seen_at > ?",
		userID, now, now.Add(-s.set.IdleTimeout)).Order("created_at DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// RevokeSession ends one of the user's own sessions.
func (s *Service) RevokeSession(ctx context.Context, actor audit.Actor, sessionID string) error {
	return s.revokeOwn(ctx, actor, &Session{}, sessionID, "session")
}

// revokeOwn marks one of the actor's own sessions or tokens revoked, with
// its audit record; anyone else's, or an unknown id, is not found.
func (s *Service) revokeOwn(ctx context.Context, actor audit.Actor, model any, id, objectType string) error {
	if !database.ValidID(id) {
		return ErrNotFound
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		res := tx.Model(model).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, actor.UserID).Update("revoked_at", now)
		if res.Error != nil {
			return fmt.Errorf("revoke %s: %w", objectType, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return audit.Append(tx, actor, audit.Entry{Action: objectType + ".revoke", ObjectType: objectType, ObjectID: id})
	})
}

// revokeAllSessions ends every session of a user but the one kept (by id).
func revokeAllSessions(tx *gorm.DB, userID string, now time.Time, keepID string) error {
	q := tx.Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL", userID)
	if keepID != "" {
		q = q.Where("id <> ?", keepID)
	}
	if err := q.Update("revoked_at", now).Error; err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// passSecondFactor marks a session as fully signed in and gives it a new
// token, so a token seen before the second factor is worth nothing after.
func (s *Service) passSecondFactor(tx *gorm.DB, sessionID string, now time.Time) (string, error) {
	secret, hash := token.New("")
	err := tx.Model(&Session{}).Where("id = ?", sessionID).Updates(map[string]any{
		"token_hash": hash, "mfa_passed": true, "last_seen_at": now, "expires_at": now.Add(s.set.AbsoluteTimeout),
	}).Error
	if err != nil {
		return "", fmt.Errorf("complete sign-in: %w", err)
	}
	return secret, nil
}
