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
		return s.invite(tx, actor, c, ps, message, locale, now, queued)
	})
}

// invite moves checked, locked concept notes to round 2, records it, and
// queues their e-mails: a few statements however many there are. The
// concept notes' records were written when they were submitted (or by
// migration 00009 for older ones), so their receipts can leave the rows.
func (s *Service) invite(tx *gorm.DB, actor audit.Actor, c *calls.Call, ps []proposals.Proposal, message, locale string, now time.Time, queued func(...string)) error {
	ids := make([]string, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
	}
	res := tx.Model(&proposals.Proposal{}).Where("id IN ? AND status = ? AND round = ?", ids, proposals.StatusSubmitted, calls.RoundConceptNote).
		Updates(map[string]any{"round": calls.RoundFullProposal, "status": proposals.StatusDraft,
			"screening": proposals.ScreeningPending, "screening_reason": "", "submitted_at": nil, "submitted_by": nil,
			"content_hash": "", "receipt_number": "", "updated_at": now, "updated_by": actor.UserID, "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return fmt.Errorf("invite to the full proposal: %w", res.Error)
	}
	if res.RowsAffected != int64(len(ps)) {
		return validate.One("proposal_ids", "invite_not_submitted")
	}
	entries := make([]audit.Item, len(ps))
	for i, p := range ps {
		entries[i] = audit.Item{Actor: actor, Entry: audit.Entry{Action: "proposal.invite_full_proposal", ObjectType: "proposal",
			ObjectID: p.ID, At: now, Domain: authz.FacilityDomain(c.FacilityCode), Details: map[string]any{"concept_note_receipt": p.ReceiptNumber,
				"concept_note_hash": p.ContentHash, "full_proposal_closes_at": c.FullProposalClosesAt.UTC(), "message": message, "bulk": len(ps)}}}
	}
	if err := audit.AppendMany(tx, entries); err != nil {
		return err
	}
	who, err := submittersOf(tx, ps, locale)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	var msgs []mail.Message
	for i := range ps {
		if u := who[ps[i].ID]; u != nil {
			msgs = append(msgs, s.inviteMail(c, &ps[i], u, message, loc, now))
		}
	}
	mailIDs, err := mail.QueueMany(tx, msgs)
	if err != nil {
		return err
	}
	queued(mailIDs...)
	return nil
}

// inviteMail tells u, who submitted the concept note p, in their language,
// until when and where to write the full proposal.
func (s *Service) inviteMail(c *calls.Call, p *proposals.Proposal, u *recipient, message string, loc *time.Location, now time.Time) mail.Message {
	lang := u.Lang
	closes := c.RoundCloses(calls.RoundFullProposal)
	data := map[string]any{"Name": u.Name, "Title": p.Title, "Call": c.Title.V.In(lang, c.Languages.V), "Receipt": p.ReceiptNumber,
		"Deadline": closes.In(loc).Format("2006-01-02 15:04 MST"), "DeadlineUTC": closes.UTC().Format("2006-01-02 15:04 UTC"),
		"Grace": c.GraceMinutes, "Message": message, "Link": s.publicURL + "/proposals/" + p.ID}
	body := s.text.Translate(lang, "screening_mail_invite_body", data)
	if message != "" {
		body = s.text.Translate(lang, "screening_mail_invite_message_body", data)
	}
	return mail.Message{To: u.Email, Kind: "full_proposal_invitation", At: now,
		Subject: s.text.Translate(lang, "screening_mail_invite_subject", data), Body: body}
}
