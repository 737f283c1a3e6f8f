package proposals

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
	"facility/internal/validate"
)

// Rights lists the rights a team member may be given, weakest first.
var RightsList = []string{RightView, RightEdit, RightSubmit}

// Members lists the proposal's team (people added to it; organisation
// members have their rights through the organisation).
func (s *Service) Members(ctx context.Context, proposalID string) ([]Member, error) {
	var out []Member
	err := s.db.WithContext(ctx).Raw(`SELECT pm.proposal_id, pm.user_id, pm.rights, pm.added_by, pm.created_at, u.name, u.email
		FROM proposal_members pm JOIN users u ON u.id = pm.user_id WHERE pm.proposal_id = ? ORDER BY u.name, u.email`, proposalID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list proposal members: %w", err)
	}
	return out, nil
}

// AddMember gives the person with an existing account at email rights on
// the proposal; someone already on the team gets the new rights.
func (s *Service) AddMember(ctx context.Context, actor audit.Actor, proposalID, email, rights string) (*Member, error) {
	var errs validate.Errors
	email = errs.Email("email", email)
	errs.OneOf("rights", rights, RightsList)
	if len(errs) > 0 {
		return nil, errs
	}
	var m *Member
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := get(tx, proposalID, true)
		if err != nil {
			return err
		}
		var u struct{ ID, Name, Email string }
		err = tx.Table("users").Select("id, name, email").Where("email = ? AND disabled_at IS NULL", strings.ToLower(email)).Take(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return validate.One("email", "no_account")
		}
		if err != nil {
			return fmt.Errorf("find person: %w", err)
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		m = &Member{ProposalID: p.ID, UserID: u.ID, Rights: rights, AddedBy: actor.UserID, CreatedAt: now, Name: u.Name, Email: u.Email}
		res := tx.Model(&Member{}).Where("proposal_id = ? AND user_id = ?", p.ID, u.ID).Update("rights", rights)
		if res.Error != nil {
			return fmt.Errorf("change proposal member: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			if err := tx.Create(m).Error; err != nil {
				return fmt.Errorf("add proposal member: %w", err)
			}
		}
		return audit.Append(tx, actor, audit.Entry{Action: "proposal.member_add", ObjectType: "proposal", ObjectID: p.ID,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"user_id": u.ID, "rights": rights}})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// RemoveMember takes a person off the proposal's team.
func (s *Service) RemoveMember(ctx context.Context, actor audit.Actor, proposalID, userID string) error {
	if !database.ValidID(userID) {
		return ErrNotFound
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := get(tx, proposalID, true)
		if err != nil {
			return err
		}
		res := tx.Where("proposal_id = ? AND user_id = ?", p.ID, userID).Delete(&Member{})
		if res.Error != nil {
			return fmt.Errorf("remove proposal member: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return audit.Append(tx, actor, audit.Entry{Action: "proposal.member_remove", ObjectType: "proposal", ObjectID: p.ID,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"user_id": userID}})
	})
}

// AttachmentsOf lists the stored files of a proposal, oldest first.
func (s *Service) AttachmentsOf(ctx context.Context, proposalID string) ([]Attachment, error) {
	var out []Attachment
	if err := s.db.WithContext(ctx).Where("proposal_id = ? AND deleted_at IS NULL", proposalID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return out, nil
}
