package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/database"
	"facility/internal/mail"
	"facility/internal/validate"
)

// resetLifetime bounds how long a reset link works.
const resetLifetime = 60 * time.Minute

// RequestPasswordReset e-mails a reset link if the address has an account.
// The answer is the same either way, so nobody learns who has an account.
func (s *Service) RequestPasswordReset(ctx context.Context, actor audit.Actor, email string) error {
	var errs validate.Errors
	email = errs.Email("email", email)
	if len(errs) > 0 {
		return errs
	}
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var id string
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		secret, err := s.newEmailToken(tx, u.ID, "reset", resetLifetime)
		if err != nil {
			return err
		}
		data := map[string]any{"Name": u.Name, "Link": s.set.PublicURL + "/reset-password/" + secret, "Minutes": int(resetLifetime.Minutes())}
		if id, err = mail.Queue(tx, mail.Message{To: u.Email, Kind: "password_reset",
			Subject: s.text.Translate(u.Locale, "mail_reset_subject", data),
			Body:    s.text.Translate(u.Locale, "mail_reset_body", data)}); err != nil {
			return err
		}
		actor.UserID = u.ID
		return audit.Append(tx, actor, audit.Entry{Action: "user.password_reset_request", ObjectType: "user", ObjectID: u.ID})
	})
	if err != nil {
		return err
	}
	s.mailQueued(ctx, id)
	return nil
}

// ResetPassword sets a new password with a reset link. It ends every session
// and does not sign the person in: they sign in again, second factor included.
func (s *Service) ResetPassword(ctx context.Context, actor audit.Actor, secret, password string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		userID, err := useEmailToken(tx, secret, "reset")
		if err != nil {
			return err
		}
		u, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		var errs validate.Errors
		checkNewPassword(&errs, "password", password, u.Email, u.Name)
		if len(errs) > 0 {
			return errs // rolls back, so the link still works for a better password
		}
		return s.setPassword(tx, actor, u, password, "", "user.password_reset")
	})
}

// ChangePassword replaces the password of a signed-in person, who proves it
// with the current one; other sessions end.
func (s *Service) ChangePassword(ctx context.Context, actor audit.Actor, sessionID, current, password string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, actor.UserID)
		if err != nil {
			return err
		}
		var errs validate.Errors
		if !checkPassword(current, u.PasswordHash) {
			errs.Add("current_password", "password_wrong", nil)
		}
		checkNewPassword(&errs, "password", password, u.Email, u.Name)
		if len(errs) > 0 {
			return errs
		}
		return s.setPassword(tx, actor, u, password, sessionID, "user.password_change")
	})
}

func (s *Service) setPassword(tx *gorm.DB, actor audit.Actor, u *User, password, keepSession, action string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	now, err := database.Now(tx)
	if err != nil {
		return err
	}
	if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
		return fmt.Errorf("store password: %w", err)
	}
	if err := revokeAllSessions(tx, u.ID, now, keepSession); err != nil {
		return err
	}
	actor.UserID = u.ID
	return audit.Append(tx, actor, audit.Entry{Action: action, ObjectType: "user", ObjectID: u.ID})
}

// SetPassword replaces a password without the old one: operators (the
// command line) and demo seeding. Every session of the account ends.
func (s *Service) SetPassword(ctx context.Context, actor audit.Actor, userID, password string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		var errs validate.Errors
		checkNewPassword(&errs, "password", password, u.Email, u.Name)
		if len(errs) > 0 {
			return errs
		}
		return s.setPassword(tx, actor, u, password, "", "user.password_set")
	})
}
