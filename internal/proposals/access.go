package proposals

import (
	"context"
	"fmt"

	"facility/internal/database"
)

// ForPerson reads a proposal together with what the person may do with it
// on the applicant side (the rights of Rights), in one statement. A
// proposal that exists but is not theirs comes back with rights "": the
// caller must refuse it, and can name its organisation when recording the
// refusal. A proposal that does not exist is ErrNotFound.
func (s *Service) ForPerson(ctx context.Context, userID, proposalID string) (*Proposal, string, error) {
	if !database.ValidID(proposalID) {
		return nil, "", ErrNotFound
	}
	var row struct {
		Proposal   Proposal `gorm:"embedded"`
		OrgRole    *string  `gorm:"column:org_role"`
		TeamRights *string  `gorm:"column:team_rights"`
	}
	// organisation_members and proposal_members have one row per person at
	// most (their primary keys), so each subquery yields one value or NULL.
	res := s.db.WithContext(ctx).Raw(`SELECT p.*,
		(SELECT m.role FROM organisation_members m WHERE m.organisation_id = p.organisation_id AND m.user_id = ?) AS org_role,
		(SELECT pm.rights FROM proposal_members pm WHERE pm.proposal_id = p.id AND pm.user_id = ?) AS team_rights
		FROM proposals p WHERE p.id = ?`, userID, userID, proposalID).Scan(&row)
	if res.Error != nil {
		return nil, "", fmt.Errorf("read proposal and rights: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, "", ErrNotFound
	}
	return &row.Proposal, bestRights(row.OrgRole, row.TeamRights), nil
}

// bestRights combines an organisation role (owners submit, members edit)
// with rights given on the team, the stronger winning, as Rights does.
func bestRights(orgRole, teamRights *string) string {
	best := ""
	if orgRole != nil {
		switch *orgRole {
		case "owner":
			best = RightSubmit
		case "member":
			best = RightEdit
		}
	}
	if teamRights != nil && rightRank[*teamRights] > rightRank[best] {
		best = *teamRights
	}
	return best
}
