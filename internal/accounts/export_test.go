package accounts

import (
	"context"

	"facility/internal/token"
)

// IdentifyAPITokens identifies requests bearing secrets as one batch of
// IdentifyAPIToken does.
func (s *Service) IdentifyAPITokens(ctx context.Context, secrets []string) ([]*Identity, []error) {
	hashes := make([]string, len(secrets))
	for i, sec := range secrets {
		hashes[i] = token.Hash(sec)
	}
	got := s.identify(ctx, s.tokenSecrets(), hashes)
	ids, errs := make([]*Identity, len(got)), make([]error, len(got))
	for i, g := range got {
		ids[i], errs[i] = g.id, g.err
	}
	return ids, errs
}
