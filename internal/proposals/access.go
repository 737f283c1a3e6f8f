package proposals

import (
	"context"
	"fmt"
	"strings"

	"facility/internal/database"
)

// ForPerson reads a proposal together with what the person may do with it
// on the applicant side (see bestRights): one statement reads it,
// with the other requests waiting for theirs (see package batch). A
// proposal that exists but is not theirs comes back with rights "": the
// caller must refuse it, and can name its organisation when recording the
// refusal. A proposal that does not exist is ErrNotFound.
func (s *Service) ForPerson(ctx context.Context, userID, proposalID string) (*Proposal, string, error) {
	if !database.ValidID(proposalID) || !database.ValidID(userID) {
		return nil, "", ErrNotFound
	}
	got, err := s.readers.Do(ctx, personal{userID: userID, proposalID: proposalID})
	if err != nil {
		return nil, "", err
	}
	return got.p, got.rights, got.err
}

// personal asks for a proposal as a person sees it.
type personal struct{ userID, proposalID string }

// withRights is a proposal and a person's rights on it.
type withRights struct {
	p      *Proposal
	rights string
	err    error
}

// forPeople reads proposals each with one person's rights.
func (s *Service) forPeople(ctx context.Context, asks []personal) []withRights {
	out := make([]withRights, len(asks))
	db := s.db.WithContext(ctx)
	uuid := database.UUIDParam(db)
	var values strings.Builder
	args := make([]any, 0, 3*len(asks))
	// Padding repeats the last ask, whose answer is then read twice.
	for i := range database.Pad(asks) {
		if i > 0 {
			values.WriteString(", ")
		}
		n := min(i, len(asks)-1)
		values.WriteString("(CAST(? AS integer), " + uuid + ", " + uuid + ")")
		args = append(args, n, asks[n].userID, asks[n].proposalID)
	}
	var rows []struct {
		N          int
		Proposal   Proposal `gorm:"embedded"`
		OrgRole    *string  `gorm:"column:org_role"`
		TeamRights *string  `gorm:"column:team_rights"`
	}
	if err := db.Raw(`WITH k (n, uid, pid) AS (VALUES `+values.String()+`)
		SELECT k.n AS n, p.*, `+rightsColumns+` FROM k JOIN proposals p ON p.id = k.pid`, args...).Scan(&rows).Error; err != nil {
		err = fmt.Errorf("read proposals and rights: %w", err)
		for i := range out {
			out[i].err = err
		}
		return out
	}
	for i := range out {
		out[i].err = ErrNotFound
	}
	for i := range rows {
		r := &rows[i]
		out[r.N] = withRights{p: &r.Proposal, rights: bestRights(r.OrgRole, r.TeamRights)}
	}
	return out
}

// rightsColumns read, beside a proposal p, the role in its organisation and
// the rights on its team of the person k.uid, for bestRights.
// organisation_members and proposal_members have one row per person at most
// (their primary keys), so each subquery yields one value or NULL.
const rightsColumns = `(SELECT m.role FROM organisation_members m WHERE m.organisation_id = p.organisation_id AND m.user_id = k.uid) AS org_role,
	(SELECT pm.rights FROM proposal_members pm WHERE pm.proposal_id = p.id AND pm.user_id = k.uid) AS team_rights`

// AccessError refuses a person a proposal that exists but on which they
// lack the right needed. Hidden: they have no right on it at all, so its
// existence is not to be revealed.
type AccessError struct {
	OrganisationID string // the proposal's, for the record of the refusal
	Hidden         bool
}

func (e *AccessError) Error() string { return "no right on this proposal" }

// bestRights is what a person may do with a proposal on the applicant side,
// from their role in its organisation and the rights given them on its
// team (both NULL when they have none, as rightsColumns reads them):
// organisation owners may submit, organisation members edit, and team
// members what they were given, the stronger winning. "" means nothing:
// the proposal is not theirs. ForPerson and MineWithDetails both use it.
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
