package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/database"
	"facility/internal/token"
	"facility/internal/validate"
)

// APIToken is a personal token a program sends as "Authorization: Bearer".
// Only its hash and a short prefix (to recognise it in a list) are stored.
type APIToken struct {
	ID         string     `gorm:"column:id;primaryKey" json:"id"`
	UserID     string     `gorm:"column:user_id" json:"-"`
	Name       string     `gorm:"column:name" json:"name"`
	TokenHash  string     `gorm:"column:token_hash" json:"-"`
	Prefix     string     `gorm:"column:prefix" json:"prefix"`
	CreatedAt  time.Time  `gorm:"column:created_at" json:"created_at"`
	LastUsedAt *time.Time `gorm:"column:last_used_at" json:"last_used_at"`
	ExpiresAt  *time.Time `gorm:"column:expires_at" json:"expires_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at" json:"revoked_at"`
}

// TableName maps APIToken to its table.
func (APIToken) TableName() string { return "api_tokens" }

const tokenPrefix = "fac_"

// CreateAPIToken makes a token valid for days days (1 to 366) and returns
// the token once; it cannot be shown again.
func (s *Service) CreateAPIToken(ctx context.Context, actor audit.Actor, name string, days int) (string, *APIToken, error) {
	var errs validate.Errors
	errs.Text("name", name, true, 100, false)
	errs.IntRange("days", days, 1, 366)
	if len(errs) > 0 {
		return "", nil, errs
	}
	secret, hash := token.New(tokenPrefix)
	var t *APIToken
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		exp := now.Add(time.Duration(days) * 24 * time.Hour)
		t = &APIToken{ID: database.NewID(), UserID: actor.UserID, Name: strings.TrimSpace(name), TokenHash: hash,
			Prefix: secret[:len(tokenPrefix)+6], CreatedAt: now, ExpiresAt: &exp}
		if err := tx.Create(t).Error; err != nil {
			return fmt.Errorf("create API token: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "api_token.create", ObjectType: "api_token", ObjectID: t.ID})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// APITokens lists a user's tokens that are not revoked.
func (s *Service) APITokens(ctx context.Context, userID string) ([]APIToken, error) {
	var out []APIToken
	if err := s.db.WithContext(ctx).Where("user_id = ? AND revoked_at IS NULL", userID).Order("created_at DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken ends one of the user's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, actor audit.Actor, id string) error {
	return s.revokeOwn(ctx, actor, &APIToken{}, id, "api_token")
}
