// Package calls holds challenge calls: what a Facility manager designs and
// publishes (ISO 56002 8.3.2, identify opportunities). A call frames a
// problem in the call's languages, says who may answer and until when,
// carries the application form, the eligibility rules and the evaluation
// criteria, and passes the G0 approval gate before it can be published.
package calls

import (
	"slices"
	"time"

	"facility/internal/database"
)

// Statuses of a call.
const (
	StatusDraft     = "draft"
	StatusInReview  = "in_review"
	StatusApproved  = "approved"
	StatusPublished = "published"
	StatusCancelled = "cancelled"
)

// Text is a text in several languages: language code -> text.
type Text map[string]string

// In returns the text in lang, else in the first language that has it.
func (t Text) In(lang string, fallbacks []string) string {
	if s := t[lang]; s != "" {
		return s
	}
	for _, l := range fallbacks {
		if s := t[l]; s != "" {
			return s
		}
	}
	for _, s := range t {
		return s
	}
	return ""
}

// Call is a challenge call.
type Call struct {
	ID            string                     `gorm:"column:id;primaryKey" json:"id"`
	Reference     string                     `gorm:"column:reference" json:"reference"`
	FacilityCode  string                     `gorm:"column:facility_code" json:"facility"`
	Origin        string                     `gorm:"column:origin" json:"origin"`
	Scope         string                     `gorm:"column:scope" json:"scope"`
	Languages     database.JSON[[]string]    `gorm:"column:languages" json:"languages"`
	Title         database.JSON[Text]        `gorm:"column:title" json:"title"`
	Challenge     database.JSON[Text]        `gorm:"column:challenge" json:"challenge"`
	Status        string                     `gorm:"column:status" json:"status"`
	TwoRound      bool                       `gorm:"column:two_round" json:"two_round"`
	OpensAt       time.Time                  `gorm:"column:opens_at" json:"opens_at"`
	ClosesAt      time.Time                  `gorm:"column:closes_at" json:"closes_at"`
	Timezone      string                     `gorm:"column:timezone" json:"timezone"`
	GraceMinutes  int                        `gorm:"column:grace_minutes" json:"grace_minutes"`
	Currency      string                     `gorm:"column:currency" json:"currency"`
	BudgetMinor   int64                      `gorm:"column:budget_minor" json:"budget_minor"`
	MinGrantMinor int64                      `gorm:"column:min_grant_minor" json:"min_grant_minor"`
	MaxGrantMinor int64                      `gorm:"column:max_grant_minor" json:"max_grant_minor"`
	Regions       database.JSON[[]string]    `gorm:"column:regions" json:"regions"`
	Countries     database.JSON[[]string]    `gorm:"column:countries" json:"countries"`
	OrgTypes      database.JSON[[]string]    `gorm:"column:org_types" json:"organisation_types"`
	Indicators    database.JSON[[]string]    `gorm:"column:indicators" json:"indicators"`
	Donors        database.JSON[[]string]    `gorm:"column:donors" json:"donors"`
	Form          database.JSON[Form]        `gorm:"column:form" json:"form"`
	Eligibility   database.JSON[[]Rule]      `gorm:"column:eligibility" json:"eligibility"`
	Criteria      database.JSON[[]Criterion] `gorm:"column:criteria" json:"criteria"`
	Version       int                        `gorm:"column:version" json:"version"`
	CreatedBy     string                     `gorm:"column:created_by" json:"-"`
	CreatedAt     time.Time                  `gorm:"column:created_at" json:"created_at"`
	UpdatedAt     time.Time                  `gorm:"column:updated_at" json:"updated_at"`
	PublishedAt   *time.Time                 `gorm:"column:published_at" json:"published_at"`

	// FullProposalClosesAt closes round 2 of a two-round call (nil otherwise).
	FullProposalClosesAt *time.Time `gorm:"column:full_proposal_closes_at" json:"full_proposal_closes_at"`
}

// TableName maps Call to its table.
func (Call) TableName() string { return "calls" }

// Deadline is the closing time plus the grace period: submissions received
// by then are accepted.
func (c *Call) Deadline() time.Time {
	return c.ClosesAt.Add(time.Duration(c.GraceMinutes) * time.Minute)
}

// OpenAt reports whether the call accepts submissions at t (before any
// individual extension).
func (c *Call) OpenAt(t time.Time) bool {
	return c.Status == StatusPublished && !t.Before(c.OpensAt) && !t.After(c.Deadline())
}

// Speaks reports whether lang is one of the call's languages.
func (c *Call) Speaks(lang string) bool { return slices.Contains(c.Languages.V, lang) }

// Criterion is an evaluation criterion, used by the review workflow.
type Criterion struct {
	ID          string   `json:"id"`
	Name        Text     `json:"name"`
	Description Text     `json:"description"`
	Weight      float64  `json:"weight"`
	ScaleMin    float64  `json:"scale_min"`
	ScaleMax    float64  `json:"scale_max"`
	Step        float64  `json:"step"`
	Threshold   *float64 `json:"threshold,omitempty"`
}
