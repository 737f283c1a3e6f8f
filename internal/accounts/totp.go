package accounts

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/database"
	"facility/internal/validate"
)

const totpPeriod = 30

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrolment is what a person needs to add Facility to an authenticator app.
type Enrolment struct {
	Secret    string `json:"secret"`
	URL       string `json:"otpauth_url"`
	QRDataURI string `json:"qr_png_data_uri"`
}

// BeginTOTP creates (or shows again) a pending secret for the user.
func (s *Service) BeginTOTP(ctx context.Context, userID string) (*Enrolment, error) {
	var en *Enrolment
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		if u.TOTPEnabledAt != nil {
			return validate.One("code", "totp_already_enabled")
		}
		secret := u.TOTPSecret
		if secret == "" {
			key, err := totp.Generate(totp.GenerateOpts{Issuer: "Facility", AccountName: u.Email})
			if err != nil {
				return fmt.Errorf("generate second-factor secret: %w", err)
			}
			secret = key.Secret()
			if err := tx.Model(&User{}).Where("id = ?", userID).Update("totp_secret", secret).Error; err != nil {
				return fmt.Errorf("store second-factor secret: %w", err)
			}
		}
		key, err := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/Facility:%s?secret=%s&issuer=Facility&period=%d&digits=6&algorithm=SHA1",
			strings.ReplaceAll(u.Email, "@", "%40"), secret, totpPeriod))
		if err != nil {
			return fmt.Errorf("second-factor key: %w", err)
		}
		img, err := key.Image(200, 200)
		if err != nil {
			return fmt.Errorf("second-factor QR code: %w", err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return fmt.Errorf("encode QR code: %w", err)
		}
		en = &Enrolment{Secret: secret, URL: key.URL(), QRDataURI: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}
		return nil
	})
	return en, err
}

// matchStep returns the time step whose code equals code, allowing one step
// of clock drift either way, or 0.
func matchStep(secret, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0
	}
	for _, d := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod
		}
	}
	return 0
}

// useCode checks a code and consumes its time step: a code works once.
func useCode(tx *gorm.DB, u *User, code string, now time.Time) error {
	step := matchStep(u.TOTPSecret, code, now)
	if step == 0 {
		return validate.One("code", "totp_wrong")
	}
	res := tx.Model(&User{}).Where("id = ? AND totp_last_step < ?", u.ID, step).Update("totp_last_step", step)
	if res.Error != nil {
		return fmt.Errorf("consume code: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrTOTPReplay
	}
	return nil
}

// ConfirmTOTP turns the second factor on with a first code from the app and
// completes the sign-in of the session that did it.
func (s *Service) ConfirmTOTP(ctx context.Context, actor audit.Actor, sessionID, code string) (newToken string, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, actor.UserID)
		if err != nil {
			return err
		}
		if u.TOTPSecret == "" || u.TOTPEnabledAt != nil {
			return validate.One("code", "totp_not_pending")
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if err := useCode(tx, u, code, now); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("totp_enabled_at", now).Error; err != nil {
			return fmt.Errorf("enable second factor: %w", err)
		}
		if newToken, err = s.passSecondFactor(tx, sessionID, now); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: "user.totp_enable", ObjectType: "user", ObjectID: u.ID})
	})
	return newToken, err
}

// VerifyTOTP completes a sign-in with a code. A replayed code is refused and
// logged.
func (s *Service) VerifyTOTP(ctx context.Context, actor audit.Actor, sessionID, code string) (newToken string, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, actor.UserID)
		if err != nil {
			return err
		}
		if u.TOTPEnabledAt == nil {
			return validate.One("code", "totp_not_pending")
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if err := useCode(tx, u, code, now); err != nil {
			return err
		}
		if newToken, err = s.passSecondFactor(tx, sessionID, now); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: "session.second_factor", ObjectType: "session", ObjectID: sessionID})
	})
	if err == ErrTOTPReplay {
		_ = audit.Write(ctx, s.db, actor, audit.Entry{Action: "session.totp_replay", ObjectType: "session", ObjectID: sessionID})
	}
	return newToken, err
}

// DisableTOTP turns the second factor off for an applicant (staff cannot).
func (s *Service) DisableTOTP(ctx context.Context, actor audit.Actor, code string) error {
	staff, err := s.staff.HasStaffRole(ctx, actor.UserID)
	if err != nil {
		return err
	}
	if staff {
		return validate.One("code", "totp_required_for_role")
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := userByID(tx, actor.UserID)
		if err != nil {
			return err
		}
		if u.TOTPEnabledAt == nil {
			return nil
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if err := useCode(tx, u, code, now); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"totp_enabled_at": nil, "totp_secret": ""}).Error; err != nil {
			return fmt.Errorf("disable second factor: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "user.totp_disable", ObjectType: "user", ObjectID: u.ID})
	})
}
