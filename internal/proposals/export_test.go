package proposals

import "context"

// ForPeople reads proposals for people as one batch of ForPerson does.
func (s *Service) ForPeople(ctx context.Context, userIDs, proposalIDs []string) ([]*Proposal, []string, []error) {
	asks := make([]personal, len(userIDs))
	for i := range asks {
		asks[i] = personal{userID: userIDs[i], proposalID: proposalIDs[i]}
	}
	got := s.forPeople(ctx, asks)
	ps, rights, errs := make([]*Proposal, len(got)), make([]string, len(got)), make([]error, len(got))
	for i, g := range got {
		ps[i], rights[i], errs[i] = g.p, g.rights, g.err
	}
	return ps, rights, errs
}
