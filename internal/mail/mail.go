// Package mail sends Facility's e-mail. Every message is first written to
// the outbox table inside the transaction of the action that caused it, so a
// receipt exists exactly when the action committed. With an SMTP server
// configured, a job delivers it; without one (the bare-machine default) it
// stays in the outbox, where an administrator reads it, and is logged.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"gorm.io/gorm"

	"facility/internal/config"
	"facility/internal/database"
)

// Message is an e-mail to one recipient, plain text.
type Message struct {
	To      string
	Subject string
	Body    string
	Kind    string // e.g. "verify_email", for filtering the outbox
	// At is the database clock, for a caller that has read it in this
	// transaction already; zero reads it here.
	At time.Time
}

// Stored is a message in the outbox.
type Stored struct {
	ID        string     `gorm:"column:id;primaryKey" json:"id"`
	ToAddress string     `gorm:"column:to_address" json:"to"`
	Subject   string     `gorm:"column:subject" json:"subject"`
	Body      string     `gorm:"column:body" json:"body"`
	Kind      string     `gorm:"column:kind" json:"kind"`
	CreatedAt time.Time  `gorm:"column:created_at" json:"created_at"`
	SentAt    *time.Time `gorm:"column:sent_at" json:"sent_at"`
	Attempts  int        `gorm:"column:attempts" json:"attempts"`
	LastError string     `gorm:"column:last_error" json:"last_error"`
	// ClaimedUntil is set while a sender is delivering the message.
	ClaimedUntil *time.Time `gorm:"column:claimed_until" json:"-"`
}

// TableName maps Stored to the outbox.
func (Stored) TableName() string { return "outbox" }

// Queue writes m to the outbox inside tx and returns its id (QueueMany of
// one, at the database clock if m carries no time).
func Queue(tx *gorm.DB, m Message) (string, error) {
	if m.At.IsZero() {
		var err error
		if m.At, err = database.Now(tx); err != nil {
			return "", err
		}
	}
	ids, err := QueueMany(tx, []Message{m})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// Outbox reads the outbox for administrators and tests.
func Outbox(ctx context.Context, db *gorm.DB, to string, limit int) ([]Stored, error) {
	q := db.WithContext(ctx).Order("created_at DESC, id DESC")
	if to != "" {
		q = q.Where("to_address = ?", strings.ToLower(to))
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []Stored
	if err := q.Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// Sender delivers outbox messages over SMTP.
type Sender struct {
	db   *gorm.DB
	smtp config.SMTP
	log  *slog.Logger
}

// NewSender returns a sender; Enabled is false when no SMTP host is set.
func NewSender(db *gorm.DB, smtp config.SMTP, log *slog.Logger) *Sender {
	return &Sender{db: db, smtp: smtp, log: log}
}

// Enabled reports whether an SMTP server is configured.
func (s *Sender) Enabled() bool { return s.smtp.Host != "" }

// ErrAlreadySent means another worker delivered the message first.
var ErrAlreadySent = errors.New("message already sent")

// claimFor outlasts one SMTP attempt (15 s timeout) with room to spare; a
// sender that died mid-delivery gives the message back when it runs out.
const claimFor = 2 * time.Minute

// Deliver sends one outbox message and marks it sent. A sender first claims
// the message for a short while, so two workers never send it at once, and
// talks to the SMTP server outside any transaction: no lock is held while
// waiting on the network.
func (s *Sender) Deliver(ctx context.Context, id string) error {
	db := s.db.WithContext(ctx)
	now, err := database.Now(db)
	if err != nil {
		return err
	}
	res := db.Model(&Stored{}).
		Where("id = ? AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)", id, now).
		Updates(map[string]any{"claimed_until": now.Add(claimFor), "attempts": gorm.Expr("attempts + 1")})
	if res.Error != nil {
		return fmt.Errorf("claim outbox message %s: %w", id, res.Error)
	}
	var m Stored
	if err := db.Where("id = ?", id).Take(&m).Error; err != nil {
		return fmt.Errorf("read outbox message %s: %w", id, err)
	}
	if res.RowsAffected == 0 {
		if m.SentAt != nil {
			return ErrAlreadySent
		}
		return nil // another sender holds it; the sweep comes back if it fails
	}
	sendErr := s.send(ctx, m)
	done, err := database.Now(db)
	if err != nil {
		return err
	}
	fields := map[string]any{"claimed_until": nil, "sent_at": done, "last_error": ""}
	if sendErr != nil {
		fields = map[string]any{"claimed_until": nil, "last_error": sendErr.Error()}
	}
	if err := db.Model(&Stored{}).Where("id = ?", id).Updates(fields).Error; err != nil {
		return fmt.Errorf("record delivery of %s: %w", id, err)
	}
	if sendErr == nil {
		s.log.Info("mail sent", "outbox_id", id, "kind", m.Kind)
	}
	return nil // a failure is retried by the sweep; the job itself is done
}

func (s *Sender) send(ctx context.Context, m Stored) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.smtp.From); err != nil {
		return fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.ToAddress); err != nil {
		return fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	opts := []gomail.Option{gomail.WithPort(s.smtp.Port), gomail.WithTimeout(15 * time.Second)}
	switch s.smtp.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	}
	if s.smtp.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.smtp.Username), gomail.WithPassword(s.smtp.Password))
	}
	c, err := gomail.NewClient(s.smtp.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return nil
}

// Unsent lists messages still waiting, oldest first, for the sweep.
func (s *Sender) Unsent(ctx context.Context, olderThan time.Duration, limit int) ([]string, error) {
	var ids []string
	cutoff := time.Now().UTC().Add(-olderThan)
	err := s.db.WithContext(ctx).Model(&Stored{}).
		Where("sent_at IS NULL AND attempts < ? AND created_at < ?", 20, cutoff).
		Order("created_at").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list unsent mail: %w", err)
	}
	return ids, nil
}
