package organisations

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
	"facility/internal/validate"
)

// Member returns one person's membership, with their name and e-mail.
func (s *Service) Member(ctx context.Context, orgID, userID string) (*Member, error) {
	if !database.ValidID(userID) {
		return nil, ErrNotFound
	}
	var out []Member
	err := s.db.WithContext(ctx).Raw(`SELECT m.organisation_id, m.user_id, m.role, m.created_at, u.name, u.email
		FROM organisation_members m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = ? AND m.user_id = ?`, orgID, userID).
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read member: %w", err)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

// lockOrganisation serialises changes to one organisation's owners, so two
// owners demoting or removing each other at once cannot leave none. SQLite
// transactions already take the write lock when they begin.
func lockOrganisation(tx *gorm.DB, orgID string) error {
	q := tx.Model(&Organisation{}).Select("id").Where("id = ?", orgID)
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var ids []string
	if err := q.Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("lock organisation: %w", err)
	}
	if len(ids) == 0 {
		return ErrNotFound
	}
	return nil
}

// otherOwners counts the owners of orgID other than userID.
func otherOwners(tx *gorm.DB, orgID, userID string) (int64, error) {
	var n int64
	err := tx.Model(&Member{}).Where("organisation_id = ? AND role = ? AND user_id <> ?", orgID, RoleOwner, userID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}

// ChangeRole makes a member an owner or an owner a member, moving their
// role grant in the organisation's domain with it. The last owner stays an
// owner. Asking for the role a person already has changes nothing.
func (s *Service) ChangeRole(ctx context.Context, actor audit.Actor, orgID, userID, role string) (*Member, error) {
	var errs validate.Errors
	errs.OneOf("role", role, []string{RoleOwner, RoleMember})
	if len(errs) > 0 {
		return nil, errs
	}
	if !database.ValidID(userID) {
		return nil, ErrNotFound
	}
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockOrganisation(tx, orgID); err != nil {
			return err
		}
		var m Member
		err := tx.Where("organisation_id = ? AND user_id = ?", orgID, userID).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read member: %w", err)
		}
		if m.Role == role {
			return nil
		}
		if m.Role == RoleOwner {
			n, err := otherOwners(tx, orgID, userID)
			if err != nil {
				return err
			}
			if n == 0 {
				return validate.One("role", "last_owner")
			}
		}
		if err := tx.Model(&Member{}).Where("organisation_id = ? AND user_id = ?", orgID, userID).Update("role", role).Error; err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		dom := authz.OrgDomain(orgID)
		if _, err := authz.RevokeTx(tx, authz.Grant{UserID: userID, Role: roleGrant[m.Role], Domain: dom}); err != nil {
			return err
		}
		if _, err := authz.GrantTx(tx, authz.Grant{UserID: userID, Role: roleGrant[role], Domain: dom}); err != nil {
			return err
		}
		changed = true
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.change_role", ObjectType: "organisation", ObjectID: orgID,
			Domain: dom, Details: map[string]any{"user_id": userID, "from": m.Role, "to": role}})
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.policy.Changed(ctx)
	}
	return s.Member(ctx, orgID, userID)
}
