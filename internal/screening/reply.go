package screening

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/gates"
	"facility/internal/mail"
	"facility/internal/proposals"
	"facility/internal/validate"
)

// MaxReply is the longest answer an applicant may send, in characters.
const MaxReply = 5000

// ErrNotAwaitingReply means the proposal is not waiting for an answer: it
// is not submitted, or its screening is not "more information requested"
// (already answered, or decided since). It is a wrong-status error.
var ErrNotAwaitingReply = fmt.Errorf("%w: the proposal is not waiting for more information", proposals.ErrWrongStatus)

// Reply is an applicant's answer to a G1 request for more information. It
// is kept beside the submission, which stays as submitted (content and
// hash unchanged); replies are append-only.
type Reply struct {
	ID         string    `gorm:"column:id;primaryKey" json:"id"`
	ProposalID string    `gorm:"column:proposal_id" json:"proposal_id"`
	DecisionID string    `gorm:"column:decision_id" json:"decision_id"`
	Body       string    `gorm:"column:body" json:"body"`
	RepliedBy  string    `gorm:"column:replied_by" json:"replied_by"`
	CreatedAt  time.Time `gorm:"column:created_at" json:"created_at"`
}

// TableName maps Reply to its table.
func (Reply) TableName() string { return "screening_replies" }

// Kinds of messages in a screening conversation.
const (
	MessageRequest = "request" // a manager's G1 "more information" decision
	MessageReply   = "reply"   // an applicant's answer
)

// Message is one turn of the conversation between the Facility team and
// the applicants about a proposal's screening.
type Message struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// DecisionID is the request itself, or the request a reply answers.
	DecisionID string    `json:"decision_id"`
	Body       string    `json:"body"`
	By         string    `json:"by"`
	ByName     string    `json:"by_name"`
	At         time.Time `json:"at"`
}

// Reply records an applicant's answer to the latest G1 request for more
// information, in one transaction: the reply, the proposal's screening
// back to pending (so it is in the managers' queue again) with a new
// version, an audit record, and an e-mail to the manager who asked, in
// their language (locale when they have none). The caller has checked the
// person may edit or submit the proposal; this checks the proposal is
// waiting for an answer.
func (s *Service) Reply(ctx context.Context, actor audit.Actor, proposalID, body, locale string) (*Reply, error) {
	// Browsers send line breaks as CRLF; people typed one character.
	body = strings.ReplaceAll(body, "\r\n", "\n")
	var errs validate.Errors
	errs.Text("body", body, true, MaxReply, true)
	if len(errs) > 0 {
		return nil, errs
	}
	if !database.ValidID(proposalID) {
		return nil, ErrNotFound
	}
	body = strings.TrimSpace(body)
	var r *Reply
	err := s.transact(ctx, func(tx *gorm.DB, queued func(...string)) error {
		q := tx
		if tx.Dialector.Name() == "postgres" {
			// Two team members answering at once: one answer is taken.
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var p proposals.Proposal
		if err := q.Where("id = ?", proposalID).Take(&p).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return fmt.Errorf("read proposal: %w", err)
		}
		if p.Status != proposals.StatusSubmitted || p.Screening != MoreInformation {
			return ErrNotAwaitingReply
		}
		request, err := latestDecision(tx, p.ID)
		if err != nil {
			return err
		}
		if request == nil || request.Decision != MoreInformation {
			return ErrNotAwaitingReply
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		r = &Reply{ID: database.NewID(), ProposalID: p.ID, DecisionID: request.ID, Body: body, RepliedBy: actor.UserID, CreatedAt: now}
		if err := tx.Create(r).Error; err != nil {
			return fmt.Errorf("record reply: %w", err)
		}
		// The request stays readable in the conversation; the proposal
		// carries no reason while it waits for a new decision.
		res := tx.Model(&proposals.Proposal{}).Where("id = ? AND status = ? AND screening = ?", p.ID, proposals.StatusSubmitted, MoreInformation).
			Updates(map[string]any{"screening": proposals.ScreeningPending, "screening_reason": "", "updated_at": now, "version": gorm.Expr("version + 1")})
		if res.Error != nil {
			return fmt.Errorf("reopen screening: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrNotAwaitingReply
		}
		if err := audit.Append(tx, actor, audit.Entry{Action: "proposal.screening_reply", ObjectType: "proposal", ObjectID: p.ID,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"reply_id": r.ID, "decision_id": request.ID,
				"characters": len([]rune(body))}}); err != nil {
			return err
		}
		mailID, err := s.queueReplyMail(tx, &p, request, actor.UserID, locale)
		queued(mailID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// latestDecision is the G1 decision in force, or nil.
func latestDecision(tx *gorm.DB, proposalID string) (*gates.Decision, error) {
	var ds []gates.Decision
	if err := tx.Where("subject_type = ? AND subject_id = ? AND gate = ?", "proposal", proposalID, Gate).
		Order("created_at DESC, id DESC").Limit(1).Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("read G1 decision: %w", err)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return &ds[0], nil
}

// queueReplyMail tells the manager who asked that the applicant answered,
// in the manager's language, with a link to the proposal's screening page.
func (s *Service) queueReplyMail(tx *gorm.DB, p *proposals.Proposal, request *gates.Decision, replier, locale string) (string, error) {
	var people []struct {
		ID, Email, Name, Locale string
		DisabledAt              *time.Time
	}
	if err := tx.Table("users").Select("id, email, name, locale, disabled_at").Where("id IN ?", []string{request.DecidedBy, replier}).
		Scan(&people).Error; err != nil {
		return "", fmt.Errorf("read manager: %w", err)
	}
	var to, from struct{ Email, Name, Locale string }
	found := false
	for _, u := range people {
		if u.ID == request.DecidedBy && u.DisabledAt == nil {
			to.Email, to.Name, to.Locale, found = u.Email, u.Name, u.Locale, true
		}
		if u.ID == replier {
			from.Name = u.Name
		}
	}
	if !found {
		return "", nil // the manager's account is closed: the queue still shows the answer
	}
	var c calls.Call
	if err := tx.Where("id = ?", p.CallID).Take(&c).Error; err != nil {
		return "", fmt.Errorf("read call: %w", err)
	}
	lang := to.Locale
	if lang == "" {
		lang = locale
	}
	data := map[string]any{"Name": to.Name, "Applicant": from.Name, "Title": p.Title, "Call": c.Title.V.In(lang, c.Languages.V),
		"Receipt": p.ReceiptNumber, "Link": s.publicURL + "/manage/proposals/" + p.ID}
	return mail.Queue(tx, mail.Message{To: to.Email, Kind: "screening_reply",
		Subject: s.text.Translate(lang, "screening_mail_reply_subject", data),
		Body:    s.text.Translate(lang, "screening_mail_reply_body", data)})
}

// Conversation lists a proposal's requests for more information and the
// applicants' replies as one conversation, oldest first. The caller has
// checked the person may read the proposal.
func (s *Service) Conversation(ctx context.Context, proposalID string) ([]Message, error) {
	db := s.db.WithContext(ctx)
	out := []Message{}
	if !database.ValidID(proposalID) {
		return out, nil
	}
	var requests []struct {
		ID, Reason, DecidedBy, Name string
		CreatedAt                   time.Time
	}
	if err := db.Table("gate_decisions g").Select("g.id, g.reason, g.decided_by, u.name, g.created_at").
		Joins("JOIN users u ON u.id = g.decided_by").
		Where("g.subject_type = ? AND g.subject_id = ? AND g.gate = ? AND g.decision = ?", "proposal", proposalID, Gate, MoreInformation).
		Scan(&requests).Error; err != nil {
		return nil, fmt.Errorf("read requests: %w", err)
	}
	for _, r := range requests {
		out = append(out, Message{Kind: MessageRequest, ID: r.ID, DecisionID: r.ID, Body: r.Reason, By: r.DecidedBy, ByName: r.Name, At: r.CreatedAt.UTC()})
	}
	var replies []struct {
		Reply
		Name string
	}
	if err := db.Table("screening_replies r").Select("r.*, u.name").Joins("JOIN users u ON u.id = r.replied_by").
		Where("r.proposal_id = ?", proposalID).Scan(&replies).Error; err != nil {
		return nil, fmt.Errorf("read replies: %w", err)
	}
	for _, r := range replies {
		out = append(out, Message{Kind: MessageReply, ID: r.ID, DecisionID: r.DecisionID, Body: r.Body, By: r.RepliedBy, ByName: r.Name, At: r.CreatedAt.UTC()})
	}
	// Each reply answers the request in force when it was sent, so a reply
	// sorts under its request, whatever the clock's resolution: requests
	// by time, each followed by its answers by time.
	asked := map[string]time.Time{}
	for _, m := range out {
		if m.Kind == MessageRequest {
			asked[m.ID] = m.At
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		ra, rb := asked[a.DecisionID], asked[b.DecisionID]
		switch {
		case !ra.Equal(rb):
			return ra.Before(rb)
		case a.DecisionID != b.DecisionID:
			return a.DecisionID < b.DecisionID
		case a.Kind != b.Kind:
			return a.Kind == MessageRequest
		case !a.At.Equal(b.At):
			return a.At.Before(b.At)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// replied returns, for each listed proposal that has replies, when the
// latest reply came.
func replied(db *gorm.DB, ids []string) (map[string]time.Time, error) {
	var rows []struct {
		ProposalID string
		CreatedAt  time.Time
	}
	if err := db.Table("screening_replies").Select("proposal_id, created_at").Where("proposal_id IN ?", ids).
		Order("created_at, id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read replies: %w", err)
	}
	out := map[string]time.Time{}
	for _, r := range rows {
		out[r.ProposalID] = r.CreatedAt.UTC() // later rows win
	}
	return out, nil
}
