package calls

import (
	"time"

	"facility/internal/validate"
)

// Rounds of a call. A one-round call has only the first; a two-round call
// takes concept notes until its closing time, then full proposals from the
// applicants a manager invites until its full-proposal closing time.
const (
	RoundConceptNote  = 1
	RoundFullProposal = 2
)

// RoundCloses is when round closes (before grace): the call's closing time
// for the concept note, the full-proposal closing time for round 2.
func (c *Call) RoundCloses(round int) time.Time {
	if round == RoundFullProposal && c.FullProposalClosesAt != nil {
		return *c.FullProposalClosesAt
	}
	return c.ClosesAt
}

// RoundDeadline is round's closing time plus the grace period.
func (c *Call) RoundDeadline(round int) time.Time {
	return c.RoundCloses(round).Add(time.Duration(c.GraceMinutes) * time.Minute)
}

// fullProposalCloses reads the full-proposal closing time of a design: a
// wall-clock time in loc, required for two-round calls and refused for
// one-round calls, after the call's closing time. nil when there is none
// (or it cannot be read; errs says why).
func fullProposalCloses(errs *validate.Errors, in *Input, loc *time.Location, closes time.Time) *time.Time {
	if !in.TwoRound {
		if in.FullProposalCloses != "" {
			errs.Add("full_proposal_closes", "full_proposal_one_round", nil)
		}
		return nil
	}
	if in.FullProposalCloses == "" {
		errs.Add("full_proposal_closes", "required", nil)
		return nil
	}
	t, err := time.ParseInLocation(localLayout, in.FullProposalCloses, loc)
	if err != nil {
		errs.Add("full_proposal_closes", "invalid_datetime", nil)
		return nil
	}
	if !closes.IsZero() && !t.After(closes) {
		errs.Add("full_proposal_closes", "full_proposal_before_closes", nil)
	}
	t = t.UTC()
	return &t
}
