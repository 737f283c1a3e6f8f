package proposals

import (
	"time"

	"facility/internal/calls"
	"facility/internal/mail"
)

// receiptMail is the receipt e-mail of a submission. A two-round
// call's subject says which round was received, so a concept note's receipt
// cannot be taken for the full proposal's.
func (s *Service) receiptMail(c *calls.Call, p *Proposal, who submitter, hash, locale string, now time.Time) mail.Message {
	data := map[string]any{"Name": who.Name, "Title": p.Title, "Call": c.Title.V.In(locale, c.Languages.V), "Receipt": p.ReceiptNumber,
		"Time": now.Format("2006-01-02 15:04:05 UTC"), "Hash": hash, "Link": s.publicURL + "/proposals/" + p.ID + "/receipt"}
	subject := "mail_receipt_subject"
	if c.TwoRound {
		subject = "mail_receipt_concept_note_subject"
		if p.Round == calls.RoundFullProposal {
			subject = "mail_receipt_full_proposal_subject"
		}
	}
	return mail.Message{To: who.Email, Kind: "proposal_receipt", At: now,
		Subject: s.text.Translate(locale, subject, data),
		Body:    s.text.Translate(locale, "mail_receipt_body", data)}
}
