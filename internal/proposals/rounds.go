package proposals

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/calls"
	"facility/internal/database"
)

// Round is what was submitted in one round of a proposal: the concept note
// (round 1) or the full proposal (round 2) of a two-round call, or the one
// submission of a one-round call. Records are append-only: the proposal row
// carries the round in progress, and an invitation to the full proposal
// clears its receipt, which stays here.
type Round struct {
	ProposalID     string                        `gorm:"column:proposal_id;primaryKey" json:"-"`
	Round          int                           `gorm:"column:round;primaryKey" json:"round"`
	SubmittedAt    time.Time                     `gorm:"column:submitted_at" json:"submitted_at"`
	SubmittedBy    string                        `gorm:"column:submitted_by" json:"-"`
	ContentHash    string                        `gorm:"column:content_hash" json:"content_hash"`
	ReceiptNumber  string                        `gorm:"column:receipt_number" json:"receipt_number"`
	Title          string                        `gorm:"column:title" json:"title"`
	RequestedMinor int64                         `gorm:"column:requested_minor" json:"requested_minor"`
	Answers        database.JSON[map[string]any] `gorm:"column:answers" json:"answers"`
	CreatedAt      time.Time                     `gorm:"column:created_at" json:"-"`
}

// TableName maps Round to its table.
func (Round) TableName() string { return "proposal_rounds" }

// receiptNumber is what a submission's receipt says: the call's reference
// and part of the proposal's id, with the round's suffix.
func receiptNumber(c *calls.Call, p *Proposal) string {
	return c.Reference + "-" + strings.ToUpper(strings.ReplaceAll(p.ID, "-", "")[20:28]) + roundSuffix(p.Round)
}

// roundSuffix tells a full proposal's receipt number from its concept
// note's (receipt numbers are unique).
func roundSuffix(round int) string {
	if round > 1 {
		return "-F"
	}
	return ""
}

// RecordRounds keeps what the proposals ids submitted in their current
// round, inside the submitting transaction: their rows carry the
// submission (time, submitter, hash, receipt, answers) and are copied in
// one statement, so the answers never leave the database. The submission
// time is the record's time.
func RecordRounds(tx *gorm.DB, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	res := tx.Exec(`INSERT INTO proposal_rounds (proposal_id, round, submitted_at, submitted_by, content_hash, receipt_number,
			title, requested_minor, answers, created_at)
		SELECT id, round, submitted_at, submitted_by, content_hash, receipt_number,
			title, requested_minor, COALESCE(NULLIF(answers, 'null'), '{}'), submitted_at
		FROM proposals WHERE id IN ? AND status = ?`, database.Pad(ids), StatusSubmitted)
	if res.Error != nil {
		return fmt.Errorf("record rounds: %w", res.Error)
	}
	if want := len(uniqueFold(ids)); res.RowsAffected != int64(want) {
		return fmt.Errorf("record rounds: %d of %d proposals submitted", res.RowsAffected, want)
	}
	return nil
}

// uniqueFold is ids without repetitions, ignoring case.
func uniqueFold(ids []string) map[string]bool {
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[strings.ToLower(id)] = true
	}
	return out
}

// Rounds lists a proposal's submitted rounds, first round first. The caller
// has checked access.
func (s *Service) Rounds(ctx context.Context, proposalID string) ([]Round, error) {
	return Rounds(s.db.WithContext(ctx), proposalID)
}

// Rounds lists a proposal's submitted rounds with db.
func Rounds(db *gorm.DB, proposalID string) ([]Round, error) {
	out := []Round{}
	if !database.ValidID(proposalID) {
		return out, nil
	}
	if err := db.Where("proposal_id = ?", proposalID).Order("round").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read proposal rounds: %w", err)
	}
	for i := range out {
		out[i].SubmittedAt = out[i].SubmittedAt.UTC()
	}
	return out, nil
}
