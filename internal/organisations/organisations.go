// Package organisations holds the bodies that apply to calls (trade unions,
// employers' organisations, start-ups, cooperatives, NGOs, public agencies,
// ...): their members and roles, invitations by e-mail, and declared
// relations to other organisations (consortium partners for joint bids,
// affiliation for conflict-of-interest detection).
//
// Membership is mirrored as a role grant in the organisation's
// authorisation domain, written in the same transaction.
package organisations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
	"facility/internal/validate"
)

// Organisation is an applicant body.
type Organisation struct {
	ID          string    `gorm:"column:id;primaryKey" json:"id"`
	Name        string    `gorm:"column:name" json:"name"`
	TypeCode    string    `gorm:"column:type_code" json:"type"`
	CountryISO2 string    `gorm:"column:country_iso2" json:"country"`
	YearFounded int       `gorm:"column:year_founded" json:"year_founded"`
	Website     string    `gorm:"column:website" json:"website"`
	CreatedBy   string    `gorm:"column:created_by" json:"-"`
	CreatedAt   time.Time `gorm:"column:created_at" json:"created_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at" json:"updated_at"`
}

// TableName maps Organisation to its table.
func (Organisation) TableName() string { return "organisations" }

// Member is a person in an organisation.
type Member struct {
	OrganisationID string    `gorm:"column:organisation_id" json:"-"`
	UserID         string    `gorm:"column:user_id" json:"user_id"`
	Role           string    `gorm:"column:role" json:"role"`
	CreatedAt      time.Time `gorm:"column:created_at" json:"created_at"`
	Name           string    `gorm:"column:name;->" json:"name"`
	Email          string    `gorm:"column:email;->" json:"email"`
}

// Membership roles.
const (
	RoleOwner  = "owner"
	RoleMember = "member"
)

var roleGrant = map[string]string{RoleOwner: authz.RoleOrgOwner, RoleMember: authz.RoleOrgMember}

// Relation kinds.
var RelationKinds = []string{"consortium_partner", "affiliate"}

// ErrNotFound covers both "does not exist" and "not yours to see".
var ErrNotFound = errors.New("organisation not found")

// Translator renders e-mail texts.
type Translator interface {
	Translate(locale, id string, data map[string]any) string
}

// Service is the organisations domain.
type Service struct {
	db         *gorm.DB
	text       Translator
	publicURL  string
	mailQueued func(context.Context, ...string)
	policy     interface{ Changed(context.Context) }
}

// New builds the service. policy is told after membership (and so role
// grants) changed.
func New(db *gorm.DB, text Translator, publicURL string, mailQueued func(context.Context, ...string), policy interface{ Changed(context.Context) }) *Service {
	return &Service{db: db, text: text, publicURL: publicURL, mailQueued: mailQueued, policy: policy}
}

// Input describes an organisation.
type Input struct {
	Name        string
	TypeCode    string
	CountryISO2 string
	YearFounded int
	Website     string
}

// Check validates the input against the reference tables, normalising it.
// Field names carry prefix ("organisation_" on the registration form).
func (s *Service) Check(ctx context.Context, in *Input, prefix string) validate.Errors {
	var errs validate.Errors
	db := s.db.WithContext(ctx)
	errs.Text(prefix+"name", in.Name, true, 200, false)
	in.Name = strings.TrimSpace(in.Name)
	in.CountryISO2 = strings.ToUpper(strings.TrimSpace(in.CountryISO2))
	if in.TypeCode == "" {
		errs.Add(prefix+"type", "required", nil)
	} else if !exists(db, "organisation_types", "code", in.TypeCode) {
		errs.Add(prefix+"type", "not_allowed", nil)
	}
	if in.CountryISO2 == "" {
		errs.Add(prefix+"country", "required", nil)
	} else if !exists(db, "countries", "iso2", in.CountryISO2) {
		errs.Add(prefix+"country", "not_allowed", nil)
	}
	year := time.Now().UTC().Year()
	if in.YearFounded == 0 {
		errs.Add(prefix+"year_founded", "required", nil)
	} else {
		errs.IntRange(prefix+"year_founded", in.YearFounded, 1800, year)
	}
	in.Website = errs.URL(prefix+"website", in.Website, false)
	return errs
}

func exists(db *gorm.DB, table, column, value string) bool {
	var n int64
	db.Table(table).Where(column+" = ?", value).Count(&n)
	return n > 0
}

// CreateTx creates an organisation owned by ownerID inside tx. The input
// must have passed Check.
func (s *Service) CreateTx(tx *gorm.DB, actor audit.Actor, ownerID string, in Input) (*Organisation, error) {
	now, err := database.Now(tx)
	if err != nil {
		return nil, err
	}
	o := &Organisation{ID: database.NewID(), Name: in.Name, TypeCode: in.TypeCode, CountryISO2: in.CountryISO2,
		YearFounded: in.YearFounded, Website: in.Website, CreatedBy: ownerID, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(o).Error; err != nil {
		return nil, fmt.Errorf("create organisation: %w", err)
	}
	if err := addMember(tx, o.ID, ownerID, RoleOwner, now); err != nil {
		return nil, err
	}
	actor.UserID = ownerID
	if err := audit.Append(tx, actor, audit.Entry{Action: "organisation.create", ObjectType: "organisation", ObjectID: o.ID,
		Domain: authz.OrgDomain(o.ID)}); err != nil {
		return nil, err
	}
	return o, nil
}

// Create makes a new organisation for a signed-in person.
func (s *Service) Create(ctx context.Context, actor audit.Actor, in Input) (*Organisation, error) {
	if errs := s.Check(ctx, &in, ""); len(errs) > 0 {
		return nil, errs
	}
	var o *Organisation
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		o, err = s.CreateTx(tx, actor, actor.UserID, in)
		return err
	})
	if err == nil {
		s.policy.Changed(ctx)
	}
	return o, err
}

func addMember(tx *gorm.DB, orgID, userID, role string, now time.Time) error {
	if err := tx.Create(&Member{OrganisationID: orgID, UserID: userID, Role: role, CreatedAt: now}).Error; err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	_, err := authz.GrantTx(tx, authz.Grant{UserID: userID, Role: roleGrant[role], Domain: authz.OrgDomain(orgID)})
	return err
}

// TableName maps Member to its table.
func (Member) TableName() string { return "organisation_members" }

// ForUser lists the organisations a person belongs to, with their role.
func (s *Service) ForUser(ctx context.Context, userID string) ([]Membership, error) {
	var out []Membership
	err := s.db.WithContext(ctx).Raw(`SELECT o.id, o.name, o.type_code, o.country_iso2, m.role
		FROM organisation_members m JOIN organisations o ON o.id = m.organisation_id
		WHERE m.user_id = ? ORDER BY o.name`, userID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return out, nil
}

// Membership is an organisation seen from one member.
type Membership struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	TypeCode    string `gorm:"column:type_code" json:"type"`
	CountryISO2 string `gorm:"column:country_iso2" json:"country"`
	Role        string `json:"role"`
}

// Get returns an organisation its caller has been allowed to read (the
// handler checked the permission in the organisation's domain).
func (s *Service) Get(ctx context.Context, id string) (*Organisation, error) {
	if !database.ValidID(id) {
		return nil, ErrNotFound
	}
	var o Organisation
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read organisation: %w", err)
	}
	return &o, nil
}

// Update changes an organisation's details.
func (s *Service) Update(ctx context.Context, actor audit.Actor, id string, in Input) (*Organisation, error) {
	if errs := s.Check(ctx, &in, ""); len(errs) > 0 {
		return nil, errs
	}
	var o *Organisation
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		res := tx.Model(&Organisation{}).Where("id = ?", id).Updates(map[string]any{
			"name": in.Name, "type_code": in.TypeCode, "country_iso2": in.CountryISO2,
			"year_founded": in.YearFounded, "website": in.Website, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("update organisation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := audit.Append(tx, actor, audit.Entry{Action: "organisation.update", ObjectType: "organisation", ObjectID: id,
			Domain: authz.OrgDomain(id)}); err != nil {
			return err
		}
		o = &Organisation{}
		return tx.Where("id = ?", id).Take(o).Error
	})
	return o, err
}

// Members lists the people in an organisation.
func (s *Service) Members(ctx context.Context, orgID string) ([]Member, error) {
	var out []Member
	err := s.db.WithContext(ctx).Raw(`SELECT m.organisation_id, m.user_id, m.role, m.created_at, u.name, u.email
		FROM organisation_members m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = ? ORDER BY u.name`, orgID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return out, nil
}

// RemoveMember takes a person out of an organisation. The last owner stays.
func (s *Service) RemoveMember(ctx context.Context, actor audit.Actor, orgID, userID string) error {
	if !database.ValidID(userID) {
		return ErrNotFound
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockOrganisation(tx, orgID); err != nil {
			return err
		}
		var m Member
		if err := tx.Where("organisation_id = ? AND user_id = ?", orgID, userID).Take(&m).Error; err != nil {
			return ErrNotFound
		}
		if m.Role == RoleOwner {
			n, err := otherOwners(tx, orgID, userID)
			if err != nil {
				return err
			}
			if n == 0 {
				return validate.One("user_id", "last_owner")
			}
		}
		if err := tx.Where("organisation_id = ? AND user_id = ?", orgID, userID).Delete(&Member{}).Error; err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		if _, err := authz.RevokeTx(tx, authz.Grant{UserID: userID, Role: roleGrant[m.Role], Domain: authz.OrgDomain(orgID)}); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.remove_member", ObjectType: "organisation", ObjectID: orgID,
			Domain: authz.OrgDomain(orgID), Details: map[string]any{"user_id": userID}})
	})
	if err == nil {
		s.policy.Changed(ctx)
	}
	return err
}

func toLike(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(strings.TrimSpace(q)))
}
