package screening

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/mail"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// Invitations to the full proposal of a two-round call. A manager invites
// concept notes screened eligible at G1; each moves to round 2 as a draft
// its team completes and submits by the full-proposal deadline. The
// concept note stays as submitted in proposal_rounds (receipt, time, hash,
// answers), so the proposal row starts round 2 clean: no receipt, no
// submission, screening pending again for the full proposal.
//
// An invitation is not a gate decision: G1 already decided the concept note
// eligible, and G2 (selection) comes after the full proposals are
// evaluated. It is audited, and the round record keeps what was invited.

// MaxMessage is the longest note a manager may add to an invitation.
const MaxMessage = 2000

// Invite invites the listed submitted, eligible concept notes of a
// two-round call to submit a full proposal, in one transaction (all or
// none; at most MaxBulk; on PostgreSQL the proposals are locked in id
// order, so two bulk actions cannot deadlock). It is refused for a call
// no longer published, and once the full-proposal closing time has passed
// on the database clock. Each
// submitter is e-mailed in the proposal's language (locale when it has
// none), with message if the manager wrote one.
func (s *Service) Invite(ctx context.Context, actor audit.Actor, callID string, proposalIDs []string, message, locale string) error {
	var errs validate.Errors
	errs.Text("message", message, false, MaxMessage, true)
	ids := bulkIDs(&errs, proposalIDs)
	if len(errs) > 0 {
		return errs
	}
	message = strings.TrimSpace(message)
	return s.transact(ctx, func(tx *gorm.DB, queued func(...string)) error {
		c, ps, err := lockOfCall(tx, callID, ids)
		if err != nil {
			return err
		}
		if !c.TwoRound || c.FullProposalClosesAt == nil {
			return validate.One("proposal_ids", "invite_not_two_round")
		}
		// A cancelled call asks for no more work from its applicants.
		if c.Status != calls.StatusPublished {
			return validate.One("proposal_ids", "invite_call_not_published")
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if !now.Before(*c.FullProposalClosesAt) {
			return validate.One("proposal_ids", "invite_full_proposal_closed")
		}
		for _, p := range ps {
			switch {
			case p.Round != calls.RoundConceptNote:
				return validate.One("proposal_ids", "invite_already_invited")
			case p.Status != proposals.StatusSubmitted:
				return validate.One("proposal_ids", "invite_not_submitted")
			case p.Screening != Eligible:
				return validate.One("proposal_ids", "invite_not_eligible")
			}
		}
		for i := range ps {
			id, err := s.invite(tx, actor, c, &ps[i], message, locale, now, len(ps))
			if err != nil {
				return err
			}
			queued(id)
		}
		return nil
	})
}

// invite moves one checked, locked concept note to round 2 and queues its
// e-mail.
func (s *Service) invite(tx *gorm.DB, actor audit.Actor, c *calls.Call, p *proposals.Proposal, message, locale string, now time.Time, bulk int) (string, error) {
	// The concept note's record was written when it was submitted (or by
	// migration 00009 for older ones), so its receipt can leave the row.
	res := tx.Model(&proposals.Proposal{}).Where("id = ? AND status = ? AND round = ?", p.ID, proposals.StatusSubmitted, calls.RoundConceptNote).
		Updates(map[string]any{"round": calls.RoundFullProposal, "status": proposals.StatusDraft,
			"screening": proposals.ScreeningPending, "screening_reason": "", "submitted_at": nil, "submitted_by": nil,
			"content_hash": "", "receipt_number": "", "updated_at": now, "updated_by": actor.UserID, "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return "", fmt.Errorf("invite to the full proposal: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return "", validate.One("proposal_ids", "invite_not_submitted")
	}
	if err := audit.Append(tx, actor, audit.Entry{Action: "proposal.invite_full_proposal", ObjectType: "proposal", ObjectID: p.ID,
		Domain: authz.FacilityDomain(c.FacilityCode), Details: map[string]any{"concept_note_receipt": p.ReceiptNumber,
			"concept_note_hash": p.ContentHash, "full_proposal_closes_at": c.FullProposalClosesAt.UTC(), "message": message, "bulk": bulk}}); err != nil {
		return "", err
	}
	return s.queueInviteMail(tx, c, p, message, locale)
}

// queueInviteMail tells the person who submitted the concept note, in the
// proposal's language, until when and where to write the full proposal.
func (s *Service) queueInviteMail(tx *gorm.DB, c *calls.Call, p *proposals.Proposal, message, locale string) (string, error) {
	u, err := submitterOf(tx, p, locale)
	if u == nil || err != nil {
		return "", err
	}
	lang := u.Lang
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	closes := c.RoundCloses(calls.RoundFullProposal)
	data := map[string]any{"Name": u.Name, "Title": p.Title, "Call": c.Title.V.In(lang, c.Languages.V), "Receipt": p.ReceiptNumber,
		"Deadline": closes.In(loc).Format("2006-01-02 15:04 MST"), "DeadlineUTC": closes.UTC().Format("2006-01-02 15:04 UTC"),
		"Grace": c.GraceMinutes, "Message": message, "Link": s.publicURL + "/proposals/" + p.ID}
	body := s.text.Translate(lang, "screening_mail_invite_body", data)
	if message != "" {
		body = s.text.Translate(lang, "screening_mail_invite_message_body", data)
	}
	return mail.Queue(tx, mail.Message{To: u.Email, Kind: "full_proposal_invitation",
		Subject: s.text.Translate(lang, "screening_mail_invite_subject", data), Body: body})
}
