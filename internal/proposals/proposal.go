// Package proposals holds what organisations submit to calls (ISO 56002
// 8.3.3, create concepts): drafts edited by a team with autosave and
// optimistic versions, consortium partners, submission against the
// deadline read from the database clock, receipts with a hash of what was
// submitted, and withdrawal.
package proposals

import (
	"time"

	"facility/internal/calls"
	"facility/internal/database"
)

// Statuses of a proposal.
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusWithdrawn = "withdrawn"
)

// Screening states (G1).
const (
	ScreeningPending    = "pending"
	ScreeningEligible   = "eligible"
	ScreeningIneligible = "ineligible"
	ScreeningMoreInfo   = "more_information"
)

// Rights of a team member, each including the ones before it.
const (
	RightView   = "view"
	RightEdit   = "edit"
	RightSubmit = "submit"
)

var rightRank = map[string]int{"": 0, RightView: 1, RightEdit: 2, RightSubmit: 3}

// Includes reports whether having right r allows need.
func Includes(r, need string) bool { return rightRank[r] >= rightRank[need] }

// Partner is an organisation in the consortium.
type Partner struct {
	OrganisationID string `json:"organisation_id,omitempty"`
	Name           string `json:"name"`
	Country        string `json:"country"`
	Lead           bool   `json:"lead"`
}

// Proposal is an organisation's answer to a call.
type Proposal struct {
	ID              string                         `gorm:"column:id;primaryKey" json:"id"`
	CallID          string                         `gorm:"column:call_id" json:"call_id"`
	OrganisationID  string                         `gorm:"column:organisation_id" json:"organisation_id"`
	Round           int                            `gorm:"column:round" json:"round"`
	Title           string                         `gorm:"column:title" json:"title"`
	Language        string                         `gorm:"column:language" json:"language"`
	RequestedMinor  int64                          `gorm:"column:requested_minor" json:"requested_minor"`
	Answers         database.JSON[map[string]any]  `gorm:"column:answers" json:"answers"`
	Partners        database.JSON[[]Partner]       `gorm:"column:partners" json:"partners"`
	Status          string                         `gorm:"column:status" json:"status"`
	Screening       string                         `gorm:"column:screening" json:"screening"`
	ScreeningReason string                         `gorm:"column:screening_reason" json:"screening_reason"`
	Eligibility     database.JSON[[]calls.Outcome] `gorm:"column:eligibility" json:"eligibility"`
	Version         int                            `gorm:"column:version" json:"version"`
	CreatedBy       string                         `gorm:"column:created_by" json:"-"`
	CreatedAt       time.Time                      `gorm:"column:created_at" json:"created_at"`
	UpdatedAt       time.Time                      `gorm:"column:updated_at" json:"updated_at"`
	UpdatedBy       string                         `gorm:"column:updated_by" json:"-"`
	SubmittedAt     *time.Time                     `gorm:"column:submitted_at" json:"submitted_at"`
	SubmittedBy     *string                        `gorm:"column:submitted_by" json:"-"`
	ContentHash     string                         `gorm:"column:content_hash" json:"content_hash"`
	ReceiptNumber   string                         `gorm:"column:receipt_number" json:"receipt_number"`
	WithdrawnAt     *time.Time                     `gorm:"column:withdrawn_at" json:"withdrawn_at"`
}

// TableName maps Proposal to its table.
func (Proposal) TableName() string { return "proposals" }

// Member is a person on the applicant's team.
type Member struct {
	ProposalID string    `gorm:"column:proposal_id" json:"-"`
	UserID     string    `gorm:"column:user_id" json:"user_id"`
	Rights     string    `gorm:"column:rights" json:"rights"`
	AddedBy    string    `gorm:"column:added_by" json:"-"`
	CreatedAt  time.Time `gorm:"column:created_at" json:"created_at"`
	Name       string    `gorm:"column:name;->" json:"name"`
	Email      string    `gorm:"column:email;->" json:"email"`
}

// TableName maps Member to its table.
func (Member) TableName() string { return "proposal_members" }

// Attachment is a stored file of a proposal.
type Attachment struct {
	ID          string     `gorm:"column:id;primaryKey" json:"id"`
	ProposalID  string     `gorm:"column:proposal_id" json:"-"`
	QuestionID  string     `gorm:"column:question_id" json:"question_id"`
	Filename    string     `gorm:"column:filename" json:"filename"`
	ContentType string     `gorm:"column:content_type" json:"content_type"`
	SizeBytes   int64      `gorm:"column:size_bytes" json:"size_bytes"`
	SHA256      string     `gorm:"column:sha256" json:"sha256"`
	BlobKey     string     `gorm:"column:blob_key" json:"-"`
	Status      string     `gorm:"column:status" json:"status"`
	UploadedBy  string     `gorm:"column:uploaded_by" json:"-"`
	CreatedAt   time.Time  `gorm:"column:created_at" json:"created_at"`
	DeletedAt   *time.Time `gorm:"column:deleted_at" json:"-"`
}

// TableName maps Attachment to its table.
func (Attachment) TableName() string { return "attachments" }
