// Package accounts holds the people who use Facility and how they prove who
// they are: registration with e-mail verification, passwords (argon2id),
// second factor (TOTP), sessions stored in the database so any instance can
// serve any request, personal API tokens for programs, password reset, and
// sign-in throttling per account and per client address.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/batch"
	"facility/internal/database"
	"facility/internal/mail"
	"facility/internal/token"
	"facility/internal/validate"
)

// User is a person with an account.
type User struct {
	ID              string     `gorm:"column:id;primaryKey" json:"id"`
	Email           string     `gorm:"column:email" json:"email"`
	Name            string     `gorm:"column:name" json:"name"`
	PasswordHash    string     `gorm:"column:password_hash" json:"-"`
	Locale          string     `gorm:"column:locale" json:"locale"`
	Timezone        string     `gorm:"column:timezone" json:"timezone"`
	EmailVerifiedAt *time.Time `gorm:"column:email_verified_at" json:"email_verified_at"`
	TOTPSecret      string     `gorm:"column:totp_secret" json:"-"`
	TOTPEnabledAt   *time.Time `gorm:"column:totp_enabled_at" json:"totp_enabled_at"`
	TOTPLastStep    int64      `gorm:"column:totp_last_step" json:"-"`
	DisabledAt      *time.Time `gorm:"column:disabled_at" json:"disabled_at"`
	CreatedAt       time.Time  `gorm:"column:created_at" json:"created_at"`
	UpdatedAt       time.Time  `gorm:"column:updated_at" json:"updated_at"`
}

// TableName maps User to its table.
func (User) TableName() string { return "users" }

// Locales a person can choose.
var Locales = []string{"en", "fr", "es"}

// Translator renders a message in a language (e-mail texts).
type Translator interface {
	Translate(locale, id string, data map[string]any) string
}

// StaffChecker says whether a user holds a role that requires a second factor.
type StaffChecker interface {
	HasStaffRole(ctx context.Context, userID string) (bool, error)
}

// Settings are the knobs operators set.
type Settings struct {
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	PublicURL       string
}

// Service is the accounts domain.
type Service struct {
	db         *gorm.DB
	set        Settings
	text       Translator
	staff      StaffChecker
	mailQueued func(ctx context.Context, ids ...string)
	log        *slog.Logger

	tokens, sessions *batch.Group[string, identified] // by token hash
}

// New builds the service. mailQueued is called after a commit that queued mail.
func New(db *gorm.DB, set Settings, text Translator, staff StaffChecker, mailQueued func(context.Context, ...string), log *slog.Logger) *Service {
	s := &Service{db: db, set: set, text: text, staff: staff, mailQueued: mailQueued, log: log}
	s.newIdentifiers()
	return s
}

// Errors a person can cause; handlers map them to messages.
var (
	ErrBadCredentials = errors.New("wrong e-mail address or password")
	ErrThrottled      = errors.New("too many sign-in attempts")
	ErrNoSession      = errors.New("not signed in")
	ErrBadToken       = errors.New("link invalid, used or expired")
	ErrNotFound       = errors.New("not found")
	ErrTOTPReplay     = errors.New("code already used")
)

// RegisterInput is what a new applicant gives.
type RegisterInput struct {
	Email    string
	Name     string
	Password string
	Locale   string
}

// Check validates and normalises the input.
func (in *RegisterInput) Check() validate.Errors {
	var errs validate.Errors
	in.Email = errs.Email("email", in.Email)
	errs.Text("name", in.Name, true, 200, false)
	if in.Locale == "" {
		in.Locale = "en"
	}
	errs.OneOf("locale", in.Locale, Locales)
	checkNewPassword(&errs, "password", in.Password, in.Email, in.Name)
	return errs
}

// Register creates an account and, in the same transaction, whatever
// withinTx adds (the applicant's organisation), then e-mails a verification
// link. Invalid input returns validate.Errors and writes nothing; callers
// that add more input check it beforehand and merge the errors with Check's.
func (s *Service) Register(ctx context.Context, actor audit.Actor, in RegisterInput, withinTx func(tx *gorm.DB, u *User) error) (*User, error) {
	if errs := in.Check(); len(errs) > 0 {
		return nil, errs
	}
	var u *User
	var mailID string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = s.createUser(tx, in, false); err != nil {
			return err
		}
		actor.UserID = u.ID
		if withinTx != nil {
			if err := withinTx(tx, u); err != nil {
				return err
			}
		}
		if err := audit.Append(tx, actor, audit.Entry{Action: "user.register", ObjectType: "user", ObjectID: u.ID}); err != nil {
			return err
		}
		mailID, err = s.queueVerification(tx, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mailQueued(ctx, mailID)
	return u, nil
}

func (s *Service) createUser(tx *gorm.DB, in RegisterInput, verified bool) (*User, error) {
	hash, err := hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	now, err := database.Now(tx)
	if err != nil {
		return nil, err
	}
	u := &User{ID: database.NewID(), Email: in.Email, Name: strings.TrimSpace(in.Name), PasswordHash: hash,
		Locale: in.Locale, Timezone: "UTC", CreatedAt: now, UpdatedAt: now}
	if verified {
		u.EmailVerifiedAt = &now
	}
	if err := tx.Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, validate.One("email", "email_taken")
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// CreateUser makes an account directly (operators, demo data), already verified.
func (s *Service) CreateUser(ctx context.Context, actor audit.Actor, in RegisterInput) (*User, error) {
	if errs := in.Check(); len(errs) > 0 {
		return nil, errs
	}
	var u *User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = s.createUser(tx, in, true); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: u.ID})
	})
	return u, err
}

func (s *Service) queueVerification(tx *gorm.DB, u *User) (string, error) {
	secret, err := s.newEmailToken(tx, u.ID, "verify", 48*time.Hour)
	if err != nil {
		return "", err
	}
	data := map[string]any{"Name": u.Name, "Link": s.set.PublicURL + "/verify-email/" + secret}
	return mail.Queue(tx, mail.Message{To: u.Email, Kind: "verify_email",
		Subject: s.text.Translate(u.Locale, "mail_verify_subject", data),
		Body:    s.text.Translate(u.Locale, "mail_verify_body", data)})
}

func (s *Service) newEmailToken(tx *gorm.DB, userID, purpose string, ttl time.Duration) (string, error) {
	now, err := database.Now(tx)
	if err != nil {
		return "", err
	}
	secret, hash := token.New("")
	err = tx.Exec("INSERT INTO email_tokens (id, user_id, purpose, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		database.NewID(), userID, purpose, hash, now, now.Add(ttl)).Error
	if err != nil {
		return "", fmt.Errorf("store %s token: %w", purpose, err)
	}
	return secret, nil
}

// useEmailToken consumes a one-time token inside tx and returns its user.
func useEmailToken(tx *gorm.DB, secret, purpose string) (string, error) {
	now, err := database.Now(tx)
	if err != nil {
		return "", err
	}
	var row struct {
		ID, UserID string
	}
	err = tx.Raw("SELECT id, user_id FROM email_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?",
		token.Hash(secret), purpose, now).Scan(&row).Error
	if err != nil {
		return "", fmt.Errorf("read %s token: %w", purpose, err)
	}
	if row.ID == "" {
		return "", ErrBadToken
	}
	res := tx.Exec("UPDATE email_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL", now, row.ID)
	if res.Error != nil {
		return "", fmt.Errorf("use %s token: %w", purpose, res.Error)
	}
	if res.RowsAffected == 0 {
		return "", ErrBadToken // used by a concurrent request
	}
	return row.UserID, nil
}

// VerifyEmail consumes a verification link.
func (s *Service) VerifyEmail(ctx context.Context, actor audit.Actor, secret string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		userID, err := useEmailToken(tx, secret, "verify")
		if err != nil {
			return err
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ? AND email_verified_at IS NULL", userID).
			Update("email_verified_at", now).Error; err != nil {
			return fmt.Errorf("mark e-mail verified: %w", err)
		}
		actor.UserID = userID
		return audit.Append(tx, actor, audit.Entry{Action: "user.verify_email", ObjectType: "user", ObjectID: userID})
	})
}

// ResendVerification sends a new link to a signed-in user not yet verified.
func (s *Service) ResendVerification(ctx context.Context, actor audit.Actor) error {
	userID := actor.UserID
	var id string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		if u.EmailVerifiedAt != nil {
			return nil
		}
		if id, err = s.queueVerification(tx, u); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: "user.resend_verification", ObjectType: "user", ObjectID: userID})
	})
	if err == nil && id != "" {
		s.mailQueued(ctx, id)
	}
	return err
}

func userByID(tx *gorm.DB, id string) (*User, error) {
	var u User
	if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read user: %w", err)
	}
	return &u, nil
}

// User returns one account.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	if !database.ValidID(id) {
		return nil, ErrNotFound
	}
	return userByID(s.db.WithContext(ctx), id)
}

// UserByEmail returns the account with this address.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return &u, nil
}

// Users lists accounts for administrators, matching query in e-mail or name.
func (s *Service) Users(ctx context.Context, query string, limit int) ([]User, error) {
	q := s.db.WithContext(ctx).Order("email")
	if query = strings.ToLower(strings.TrimSpace(query)); query != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(query) + "%"
		q = q.Where("email LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\'", like, like)
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []User
	if err := q.Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetDisabled disables or re-enables an account. Disabling ends every
// session and API token use at once.
func (s *Service) SetDisabled(ctx context.Context, actor audit.Actor, userID string, disabled bool) error {
	if !database.ValidID(userID) {
		return ErrNotFound
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := userByID(tx, userID); err != nil {
			return err
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		var at any
		action := "user.enable"
		if disabled {
			at, action = now, "user.disable"
			if err := revokeAllSessions(tx, userID, now, ""); err != nil {
				return err
			}
		}
		if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"disabled_at": at, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: action, ObjectType: "user", ObjectID: userID})
	})
}

// ProfileInput is what a person may change about themselves.
type ProfileInput struct {
	Name     string
	Locale   string
	Timezone string
}

// UpdateProfile changes name, language and timezone.
func (s *Service) UpdateProfile(ctx context.Context, actor audit.Actor, in ProfileInput) error {
	var errs validate.Errors
	errs.Text("name", in.Name, true, 200, false)
	errs.OneOf("locale", in.Locale, Locales)
	if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "" || in.Timezone == "Local" {
		errs.Add("timezone", "invalid_timezone", nil)
	}
	if len(errs) > 0 {
		return errs
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", actor.UserID).Updates(map[string]any{
			"name": strings.TrimSpace(in.Name), "locale": in.Locale, "timezone": in.Timezone, "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "user.update_profile", ObjectType: "user", ObjectID: actor.UserID})
	})
}
