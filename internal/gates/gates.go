// Package gates records the decisions taken between ISO 56002 innovation
// processes: G0 call approval, G1 eligibility screening, G2 selection, G3
// and G4 readiness to scale, G5 periodic review. Records are append-only;
// a correction is a new record, and the latest record for a subject and
// gate is the one in force. Time in stage and conversion between stages are
// computed from them.
package gates

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/database"
)

// Gates and the decisions each allows.
var Decisions = map[string][]string{
	"G0": {"approve", "revise", "cancel"},
	"G1": {"eligible", "ineligible", "more_information"},
	"G2": {"go", "conditional_go", "waitlist", "reject"},
	"G3": {"go", "conditional_go", "hold", "recycle", "kill", "transfer"},
	"G4": {"go", "conditional_go", "hold", "recycle", "kill", "transfer"},
	"G5": {"continue", "expand", "hand_over", "sunset"},
}

// Condition is something a conditional decision requires, with its owner
// and due date.
type Condition struct {
	Text  string `json:"text"`
	Owner string `json:"owner"`
	Due   string `json:"due"`
}

// Decision is one recorded gate decision.
type Decision struct {
	ID          string                     `gorm:"column:id;primaryKey" json:"id"`
	SubjectType string                     `gorm:"column:subject_type" json:"subject_type"`
	SubjectID   string                     `gorm:"column:subject_id" json:"subject_id"`
	Gate        string                     `gorm:"column:gate" json:"gate"`
	Decision    string                     `gorm:"column:decision" json:"decision"`
	Reason      string                     `gorm:"column:reason" json:"reason"`
	Conditions  database.JSON[[]Condition] `gorm:"column:conditions" json:"conditions"`
	DecidedBy   string                     `gorm:"column:decided_by" json:"decided_by"`
	CreatedAt   time.Time                  `gorm:"column:created_at" json:"created_at"`
}

// TableName maps Decision to its table.
func (Decision) TableName() string { return "gate_decisions" }

// Allowed reports whether decision is one of gate's.
func Allowed(gate, decision string) bool {
	for _, d := range Decisions[gate] {
		if d == decision {
			return true
		}
	}
	return false
}

// Record writes a decision inside tx, with its audit record. The caller has
// validated it and applies its consequence in the same transaction.
func Record(tx *gorm.DB, actor audit.Actor, d *Decision) error {
	if !Allowed(d.Gate, d.Decision) {
		return fmt.Errorf("gate %s has no decision %q", d.Gate, d.Decision)
	}
	now, err := database.Now(tx)
	if err != nil {
		return err
	}
	d.ID, d.CreatedAt, d.DecidedBy = database.NewID(), now, actor.UserID
	if d.Conditions.V == nil {
		d.Conditions.V = []Condition{}
	}
	if err := tx.Create(d).Error; err != nil {
		return fmt.Errorf("record gate decision: %w", err)
	}
	return audit.Append(tx, actor, audit.Entry{Action: "gate." + d.Gate, ObjectType: d.SubjectType, ObjectID: d.SubjectID,
		Details: map[string]any{"decision": d.Decision, "decision_id": d.ID}})
}

// History lists a subject's decisions, oldest first.
func History(ctx context.Context, db *gorm.DB, subjectType, subjectID string) ([]Decision, error) {
	var out []Decision
	err := db.WithContext(ctx).Where("subject_type = ? AND subject_id = ?", subjectType, subjectID).
		Order("created_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read gate decisions: %w", err)
	}
	return out, nil
}
