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
	"facility/internal/mail"
	"facility/internal/token"
	"facility/internal/validate"
)

const invitationLifetime = 14 * 24 * time.Hour

// Invitation asks a person, by e-mail address, to join an organisation.
type Invitation struct {
	ID             string     `gorm:"column:id;primaryKey" json:"id"`
	OrganisationID string     `gorm:"column:organisation_id" json:"organisation_id"`
	Email          string     `gorm:"column:email" json:"email"`
	Role           string     `gorm:"column:role" json:"role"`
	TokenHash      string     `gorm:"column:token_hash" json:"-"`
	InvitedBy      string     `gorm:"column:invited_by" json:"-"`
	CreatedAt      time.Time  `gorm:"column:created_at" json:"created_at"`
	ExpiresAt      time.Time  `gorm:"column:expires_at" json:"expires_at"`
	AcceptedAt     *time.Time `gorm:"column:accepted_at" json:"accepted_at"`
	RevokedAt      *time.Time `gorm:"column:revoked_at" json:"-"`
}

// TableName maps Invitation to its table.
func (Invitation) TableName() string { return "organisation_invitations" }

// ErrInvitationInvalid means the link is unknown, used, revoked, expired,
// or meant for another address.
var ErrInvitationInvalid = errors.New("invitation invalid")

// ErrInvitationOtherAddress means a live invitation was opened by someone
// signed in with another address than the one it was sent to. It is also an
// ErrInvitationInvalid.
var ErrInvitationOtherAddress = fmt.Errorf("%w: sent to another address", ErrInvitationInvalid)

// Invite e-mails a link to join orgID with role; locale is the inviter's
// language, used for the e-mail.
func (s *Service) Invite(ctx context.Context, actor audit.Actor, orgID, email, role, locale string) (*Invitation, error) {
	var errs validate.Errors
	email = errs.Email("email", email)
	errs.OneOf("role", role, []string{RoleOwner, RoleMember})
	if len(errs) > 0 {
		return nil, errs
	}
	secret, secretHash := token.New("")
	var inv *Invitation
	var mailID string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var o Organisation
		if err := tx.Where("id = ?", orgID).Take(&o).Error; err != nil {
			return ErrNotFound
		}
		var n int64
		if err := tx.Raw(`SELECT COUNT(*) FROM organisation_members m JOIN users u ON u.id = m.user_id
			WHERE m.organisation_id = ? AND u.email = ?`, orgID, email).Scan(&n).Error; err != nil {
			return fmt.Errorf("check membership: %w", err)
		}
		if n > 0 {
			return validate.One("email", "already_member")
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		inv = &Invitation{ID: database.NewID(), OrganisationID: orgID, Email: email, Role: role, TokenHash: secretHash,
			InvitedBy: actor.UserID, CreatedAt: now, ExpiresAt: now.Add(invitationLifetime)}
		if err := tx.Create(inv).Error; err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		data := map[string]any{"Organisation": o.Name, "Link": s.publicURL + "/invitations/" + secret}
		if mailID, err = mail.Queue(tx, mail.Message{To: email, Kind: "organisation_invitation",
			Subject: s.text.Translate(locale, "mail_invite_subject", data),
			Body:    s.text.Translate(locale, "mail_invite_body", data)}); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.invite", ObjectType: "invitation", ObjectID: inv.ID,
			Domain: authz.OrgDomain(orgID), Details: map[string]any{"role": role}})
	})
	if err != nil {
		return nil, err
	}
	s.mailQueued(ctx, mailID)
	return inv, nil
}

// Invitations lists an organisation's pending invitations.
func (s *Service) Invitations(ctx context.Context, orgID string) ([]Invitation, error) {
	var out []Invitation
	err := s.db.WithContext(ctx).Where("organisation_id = ? AND accepted_at IS NULL AND revoked_at IS NULL", orgID).
		Order("created_at DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation withdraws a pending invitation.
func (s *Service) RevokeInvitation(ctx context.Context, actor audit.Actor, orgID, id string) error {
	if !database.ValidID(id) {
		return ErrNotFound
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		res := tx.Model(&Invitation{}).Where("id = ? AND organisation_id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id, orgID).
			Update("revoked_at", now)
		if res.Error != nil {
			return fmt.Errorf("revoke invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.revoke_invitation", ObjectType: "invitation", ObjectID: id,
			Domain: authz.OrgDomain(orgID)})
	})
}

// PendingInvitation describes an invitation link for its landing page.
func (s *Service) PendingInvitation(ctx context.Context, secret string) (*Invitation, *Organisation, error) {
	db := s.db.WithContext(ctx)
	now, err := database.Now(db)
	if err != nil {
		return nil, nil, err
	}
	var inv Invitation
	if err := db.Where("token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", token.Hash(secret), now).
		Take(&inv).Error; err != nil {
		return nil, nil, ErrInvitationInvalid
	}
	var o Organisation
	if err := db.Where("id = ?", inv.OrganisationID).Take(&o).Error; err != nil {
		return nil, nil, ErrInvitationInvalid
	}
	return &inv, &o, nil
}

// AcceptInvitation adds the signed-in person to the organisation, if the
// invitation was sent to their address.
func (s *Service) AcceptInvitation(ctx context.Context, actor audit.Actor, userEmail, secret string) (*Organisation, error) {
	var o Organisation
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		var inv Invitation
		if err := tx.Where("token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", token.Hash(secret), now).
			Take(&inv).Error; err != nil {
			return ErrInvitationInvalid
		}
		if !strings.EqualFold(inv.Email, strings.TrimSpace(userEmail)) {
			return ErrInvitationOtherAddress
		}
		res := tx.Model(&Invitation{}).Where("id = ? AND accepted_at IS NULL", inv.ID).Update("accepted_at", now)
		if res.Error != nil {
			return fmt.Errorf("accept invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrInvitationInvalid
		}
		var n int64
		if err := tx.Model(&Member{}).Where("organisation_id = ? AND user_id = ?", inv.OrganisationID, actor.UserID).Count(&n).Error; err != nil {
			return fmt.Errorf("check membership: %w", err)
		}
		if n == 0 {
			if err := addMember(tx, inv.OrganisationID, actor.UserID, inv.Role, now); err != nil {
				return err
			}
		}
		if err := tx.Where("id = ?", inv.OrganisationID).Take(&o).Error; err != nil {
			return fmt.Errorf("read organisation: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.join", ObjectType: "organisation", ObjectID: inv.OrganisationID,
			Domain: authz.OrgDomain(inv.OrganisationID), Details: map[string]any{"invitation_id": inv.ID, "role": inv.Role}})
	})
	if err != nil {
		return nil, err
	}
	s.policy.Changed(ctx)
	return &o, nil
}

// Relation links two organisations.
type Relation struct {
	ID                    string    `gorm:"column:id;primaryKey" json:"id"`
	OrganisationID        string    `gorm:"column:organisation_id" json:"organisation_id"`
	RelatedOrganisationID string    `gorm:"column:related_organisation_id" json:"related_organisation_id"`
	Kind                  string    `gorm:"column:kind" json:"kind"`
	CreatedBy             string    `gorm:"column:created_by" json:"-"`
	CreatedAt             time.Time `gorm:"column:created_at" json:"created_at"`
	RelatedName           string    `gorm:"column:related_name;->" json:"related_name"`
}

// TableName maps Relation to its table.
func (Relation) TableName() string { return "organisation_relations" }

// AddRelation declares that orgID relates to another organisation.
func (s *Service) AddRelation(ctx context.Context, actor audit.Actor, orgID, relatedID, kind string) (*Relation, error) {
	var errs validate.Errors
	errs.OneOf("kind", kind, RelationKinds)
	if !database.ValidID(relatedID) {
		errs.Add("related_organisation_id", "not_found", nil)
	} else if relatedID == orgID {
		errs.Add("related_organisation_id", "relation_self", nil)
	} else if !exists(s.db.WithContext(ctx), "organisations", "id", relatedID) {
		errs.Add("related_organisation_id", "not_found", nil)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var r *Relation
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		r = &Relation{ID: database.NewID(), OrganisationID: orgID, RelatedOrganisationID: relatedID, Kind: kind,
			CreatedBy: actor.UserID, CreatedAt: now}
		if err := tx.Omit("related_name").Create(r).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return validate.One("related_organisation_id", "relation_exists")
			}
			return fmt.Errorf("add relation: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.add_relation", ObjectType: "organisation", ObjectID: orgID,
			Domain: authz.OrgDomain(orgID), Details: map[string]any{"related": relatedID, "kind": kind}})
	})
	return r, err
}

// Relations lists an organisation's declared relations.
func (s *Service) Relations(ctx context.Context, orgID string) ([]Relation, error) {
	var out []Relation
	err := s.db.WithContext(ctx).Raw(`SELECT r.*, o.name AS related_name FROM organisation_relations r
		JOIN organisations o ON o.id = r.related_organisation_id WHERE r.organisation_id = ? ORDER BY o.name`, orgID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	return out, nil
}

// RemoveRelation deletes a declared relation.
func (s *Service) RemoveRelation(ctx context.Context, actor audit.Actor, orgID, id string) error {
	if !database.ValidID(id) {
		return ErrNotFound
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND organisation_id = ?", id, orgID).Delete(&Relation{})
		if res.Error != nil {
			return fmt.Errorf("remove relation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return audit.Append(tx, actor, audit.Entry{Action: "organisation.remove_relation", ObjectType: "organisation", ObjectID: orgID,
			Domain: authz.OrgDomain(orgID), Details: map[string]any{"relation_id": id}})
	})
}

// Directory finds organisations by name, for choosing a consortium partner.
func (s *Service) Directory(ctx context.Context, query string, limit int) ([]Organisation, error) {
	var out []Organisation
	q := s.db.WithContext(ctx).Order("name").Limit(limit)
	if query != "" {
		q = q.Where("LOWER(name) LIKE ? ESCAPE '\\'", "%"+toLike(query)+"%")
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("search organisations: %w", err)
	}
	return out, nil
}
