// Package screening is the G1 eligibility gate (ISO 56002 8.3.3 to 8.3.4):
// a Facility manager confirms or overrides the automatic eligibility result
// of submitted proposals, one at a time or in bulk, and the applicants are
// told by e-mail. Every decision is an append-only G1 gate record; the
// proposal carries the decision in force and its reason, which the
// applicant reads.
package screening

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// Gate is the gate this package decides.
const Gate = "G1"

// Decisions a manager takes at G1.
const (
	Eligible        = proposals.ScreeningEligible
	Ineligible      = proposals.ScreeningIneligible
	MoreInformation = proposals.ScreeningMoreInfo
)

// Filters of the screening queue, besides a screening state.
const (
	FilterAll        = ""
	FilterAutoFailed = "auto_failed"
	// FilterReplied: waiting for a decision again because the applicant
	// answered a request for more information.
	FilterReplied = "replied"
)

// Filters lists what the queue can be narrowed to.
var Filters = []string{proposals.ScreeningPending, FilterReplied, Eligible, Ineligible, MoreInformation, FilterAutoFailed}

// MaxBulk is how many proposals one decision may cover.
const MaxBulk = 500

// ErrNotFound means the call or proposal does not exist.
var ErrNotFound = errors.New("not found")

// Translator renders e-mail texts.
type Translator interface {
	Translate(locale, id string, data map[string]any) string
}

// Service is the screening domain.
type Service struct {
	db         *gorm.DB
	text       Translator
	publicURL  string
	mailQueued func(context.Context, ...string)
}

// New builds the service; mailQueued is told the outbox ids written by a
// committed decision.
func New(db *gorm.DB, text Translator, publicURL string, mailQueued func(context.Context, ...string)) *Service {
	return &Service{db: db, text: text, publicURL: publicURL, mailQueued: mailQueued}
}

// Organisation is what the screening manager sees of the applicant.
type Organisation struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	TypeCode    string `json:"type"`
	CountryIso2 string `json:"country"`
	YearFounded int    `json:"year_founded"`
}

// Entry is one proposal in the screening queue or the drafts list.
type Entry struct {
	Proposal     proposals.Proposal `json:"proposal"`
	Organisation Organisation       `json:"organisation"`
	// AutoEligible is true when every automatic rule passed.
	AutoEligible bool `json:"auto_eligible"`
	// Deadline is the proposal's own deadline (call deadline or extension).
	Deadline time.Time `json:"deadline"`
	// RepliedAt is when the applicant last answered a request for more
	// information, if the proposal waits for a decision because of it.
	RepliedAt *time.Time `json:"replied_at"`
}

// Queue lists the submitted proposals of a call, oldest submission first,
// narrowed by filter (a screening state, "auto_failed", or "" for all).
// The caller has checked the person may screen the call's facility.
func (s *Service) Queue(ctx context.Context, callID, filter string) ([]Entry, error) {
	if filter != FilterAll && !slices.Contains(Filters, filter) {
		return nil, validate.One("screening", "not_allowed")
	}
	q := s.db.WithContext(ctx).Where("call_id = ? AND status = ?", callID, proposals.StatusSubmitted)
	switch filter {
	case FilterAll, FilterAutoFailed:
	case FilterReplied:
		// Replies to this round's submission: a full proposal is pending
		// because it is new, whatever its concept note's conversation.
		q = q.Where("screening = ? AND id IN (SELECT r.proposal_id FROM screening_replies r WHERE r.created_at >= proposals.submitted_at)", proposals.ScreeningPending)
	default:
		q = q.Where("screening = ?", filter)
	}
	var ps []proposals.Proposal
	if err := q.Order("submitted_at, id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("list submitted proposals: %w", err)
	}
	out, err := s.entries(ctx, callID, ps)
	if err != nil {
		return nil, err
	}
	if filter == FilterAutoFailed {
		kept := out[:0]
		for _, e := range out {
			if !e.AutoEligible {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	return out, nil
}

// Drafts lists the call's proposals not yet submitted, so a manager can
// grant one an individual extension.
func (s *Service) Drafts(ctx context.Context, callID string) ([]Entry, error) {
	var ps []proposals.Proposal
	if err := s.db.WithContext(ctx).Where("call_id = ? AND status = ?", callID, proposals.StatusDraft).
		Order("updated_at DESC, id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("list draft proposals: %w", err)
	}
	return s.entries(ctx, callID, ps)
}

func (s *Service) entries(ctx context.Context, callID string, ps []proposals.Proposal) ([]Entry, error) {
	out := make([]Entry, 0, len(ps))
	if len(ps) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	var c calls.Call
	if err := db.Where("id = ?", callID).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("read call: %w", err)
	}
	ids := make([]string, 0, len(ps))
	orgIDs := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
		orgIDs = append(orgIDs, p.OrganisationID)
	}
	orgs, err := organisations(db, orgIDs)
	if err != nil {
		return nil, err
	}
	ext, err := proposals.Extensions(db, ids)
	if err != nil {
		return nil, err
	}
	answered, err := replied(db, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		e := Entry{Proposal: p, Organisation: orgs[p.OrganisationID], AutoEligible: calls.Eligible(p.Eligibility.V),
			Deadline: proposals.DeadlineWith(&c, p.Round, ext, p.ID)}
		// Pending after a decision only happens through a reply (to this
		// round's submission: an invited full proposal is pending as new).
		if t, ok := answered[p.ID]; ok && p.Status == proposals.StatusSubmitted && p.Screening == proposals.ScreeningPending &&
			p.SubmittedAt != nil && !t.Before(*p.SubmittedAt) {
			e.RepliedAt = &t
		}
		out = append(out, e)
	}
	return out, nil
}

func organisations(db *gorm.DB, ids []string) (map[string]Organisation, error) {
	var rows []Organisation
	if err := db.Table("organisations").Select("id, name, type_code, country_iso2, year_founded").
		Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read organisations: %w", err)
	}
	out := make(map[string]Organisation, len(rows))
	for _, o := range rows {
		out[o.ID] = o
	}
	return out, nil
}

// Extension is an individual deadline extension granted to a proposal.
type Extension struct {
	Round     int       `json:"round"`
	ClosesAt  time.Time `json:"closes_at"`
	Reason    string    `json:"reason"`
	GrantedBy string    `json:"granted_by"`
	CreatedAt time.Time `json:"created_at"`
}

// View is everything a manager reads about one proposal.
type View struct {
	Entry
	Members     []proposals.Member     `json:"members"`
	Attachments []proposals.Attachment `json:"attachments"`
	History     []gates.Decision       `json:"g1_history"`
	Extensions  []Extension            `json:"extensions"`
}

// Proposal returns a proposal with what the manager's page shows. The
// caller has checked the person may read the call's facility's proposals.
func (s *Service) Proposal(ctx context.Context, p *proposals.Proposal) (*View, error) {
	es, err := s.entries(ctx, p.CallID, []proposals.Proposal{*p})
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	v := &View{Entry: es[0], Members: []proposals.Member{}, Attachments: []proposals.Attachment{}, Extensions: []Extension{}}
	if err := db.Table("proposal_members pm").Select("pm.proposal_id, pm.user_id, pm.rights, pm.created_at, u.name, u.email").
		Joins("JOIN users u ON u.id = pm.user_id").Where("pm.proposal_id = ?", p.ID).Order("pm.created_at").
		Scan(&v.Members).Error; err != nil {
		return nil, fmt.Errorf("read proposal team: %w", err)
	}
	if err := db.Where("proposal_id = ? AND deleted_at IS NULL", p.ID).Order("question_id, created_at").
		Find(&v.Attachments).Error; err != nil {
		return nil, fmt.Errorf("read attachments: %w", err)
	}
	if v.History, err = History(ctx, db, p.ID); err != nil {
		return nil, err
	}
	if err := db.Table("deadline_extensions").Select("round, closes_at, reason, granted_by, created_at").
		Where("proposal_id = ?", p.ID).Order("created_at, id").Scan(&v.Extensions).Error; err != nil {
		return nil, fmt.Errorf("read extensions: %w", err)
	}
	for i := range v.Extensions {
		v.Extensions[i].ClosesAt = v.Extensions[i].ClosesAt.UTC()
	}
	return v, nil
}

// History lists a proposal's G1 decisions, oldest first.
func History(ctx context.Context, db *gorm.DB, proposalID string) ([]gates.Decision, error) {
	all, err := gates.History(ctx, db, "proposal", proposalID)
	if err != nil {
		return nil, err
	}
	out := make([]gates.Decision, 0, len(all))
	for _, d := range all {
		if d.Gate == Gate {
			out = append(out, d)
		}
	}
	return out, nil
}

// Decide records one G1 decision for every listed proposal of the call, in
// one transaction: a gate record, an audit record, the proposal's screening
// state and reason, and an e-mail to each proposal's submitter in the
// proposal's language (locale when the proposal has none). Either every
// proposal is decided or none is. Ineligible and more_information need a
// reason, which the applicant reads. A correction is simply a new decision.
func (s *Service) Decide(ctx context.Context, actor audit.Actor, callID string, proposalIDs []string, decision, reason, locale string) error {
	var errs validate.Errors
	errs.OneOf("decision", decision, gates.Decisions[Gate])
	errs.Text("reason", reason, decision == Ineligible || decision == MoreInformation, 2000, true)
	ids := bulkIDs(&errs, proposalIDs)
	if len(errs) > 0 {
		return errs
	}
	reason = strings.TrimSpace(reason)
	return s.transact(ctx, func(tx *gorm.DB, queued func(...string)) error {
		c, ps, err := lockOfCall(tx, callID, ids)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Status != proposals.StatusSubmitted {
				return validate.One("proposal_ids", "screening_not_submitted")
			}
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		for i := range ps {
			p := &ps[i]
			if err := gates.Record(tx, actor, &gates.Decision{SubjectType: "proposal", SubjectID: p.ID, Gate: Gate,
				Decision: decision, Reason: reason}); err != nil {
				return err
			}
			res := tx.Model(&proposals.Proposal{}).Where("id = ? AND status = ?", p.ID, proposals.StatusSubmitted).Updates(map[string]any{
				"screening": decision, "screening_reason": reason, "updated_at": now, "version": gorm.Expr("version + 1")})
			if res.Error != nil {
				return fmt.Errorf("record screening: %w", res.Error)
			}
			if res.RowsAffected != 1 {
				return validate.One("proposal_ids", "screening_not_submitted")
			}
			if err := audit.Append(tx, actor, audit.Entry{Action: "proposal.screen", ObjectType: "proposal", ObjectID: p.ID,
				Domain: authz.FacilityDomain(c.FacilityCode), Details: map[string]any{"decision": decision, "reason": reason,
					"previous": p.Screening, "bulk": len(ps)}}); err != nil {
				return err
			}
			id, err := s.queueMail(tx, c, p, decision, reason, locale)
			if err != nil {
				return err
			}
			queued(id)
		}
		return nil
	})
}

// transact runs fn in a transaction and, once it has committed, hands the
// mail fn queued to delivery (empty ids are no mail).
func (s *Service) transact(ctx context.Context, fn func(tx *gorm.DB, queued func(ids ...string)) error) error {
	var mailIDs []string
	queued := func(ids ...string) {
		for _, id := range ids {
			if id != "" {
				mailIDs = append(mailIDs, id)
			}
		}
	}
	if err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(tx, queued) }); err != nil {
		return err
	}
	if len(mailIDs) > 0 {
		s.mailQueued(ctx, mailIDs...)
	}
	return nil
}

// recipient is who submitted a proposal, to be written to in Lang.
type recipient struct{ Email, Name, Lang string }

// submitterOf is who submitted p, in the proposal's language (locale if it
// has none); nil if nobody has.
func submitterOf(tx *gorm.DB, p *proposals.Proposal, locale string) (*recipient, error) {
	who, err := submittersOf(tx, []proposals.Proposal{*p}, locale)
	return who[p.ID], err
}

// submittersOf is submitterOf for many proposals, in one statement, by
// proposal id; those nobody submitted are absent.
func submittersOf(tx *gorm.DB, ps []proposals.Proposal, locale string) (map[string]*recipient, error) {
	var userIDs []string
	for _, p := range ps {
		if p.SubmittedBy != nil {
			userIDs = append(userIDs, *p.SubmittedBy)
		}
	}
	out := make(map[string]*recipient, len(ps))
	if len(userIDs) == 0 {
		return out, nil
	}
	var users []struct{ ID, Email, Name string }
	if err := tx.Table("users").Select("id, email, name").Where("id IN ?", userIDs).Scan(&users).Error; err != nil {
		return nil, fmt.Errorf("read submitters: %w", err)
	}
	byID := make(map[string]int, len(users))
	for i, u := range users {
		byID[u.ID] = i
	}
	for _, p := range ps {
		if p.SubmittedBy == nil {
			continue
		}
		i, ok := byID[*p.SubmittedBy]
		if !ok {
			return nil, fmt.Errorf("read submitters: none with id %s", *p.SubmittedBy)
		}
		r := &recipient{Email: users[i].Email, Name: users[i].Name, Lang: p.Language}
		if r.Lang == "" {
			r.Lang = locale
		}
		out[p.ID] = r
	}
	return out, nil
}

// queueMail tells the person who submitted the proposal of the decision, in
// the proposal's language.
func (s *Service) queueMail(tx *gorm.DB, c *calls.Call, p *proposals.Proposal, decision, reason, locale string) (string, error) {
	u, err := submitterOf(tx, p, locale)
	if u == nil || err != nil {
		return "", err
	}
	lang := u.Lang
	data := map[string]any{"Name": u.Name, "Title": p.Title, "Call": c.Title.V.In(lang, c.Languages.V),
		"Receipt": p.ReceiptNumber, "Reason": reason, "Link": s.publicURL + "/proposals/" + p.ID}
	body := s.text.Translate(lang, "screening_mail_"+decision+"_body", data)
	if decision == Eligible && reason != "" {
		body = s.text.Translate(lang, "screening_mail_eligible_note_body", data)
	}
	if decision == Eligible && c.TwoRound && p.Round == calls.RoundConceptNote {
		// An eligible concept note waits for an invitation, not for evaluation.
		body = s.text.Translate(lang, "screening_mail_eligible_concept_body", data)
		if reason != "" {
			body = s.text.Translate(lang, "screening_mail_eligible_concept_note_body", data)
		}
	}
	return mail.Queue(tx, mail.Message{To: u.Email, Kind: "screening_" + decision,
		Subject: s.text.Translate(lang, "screening_mail_"+decision+"_subject", data), Body: body})
}

// bulkIDs reads the proposal ids of a bulk action: one to MaxBulk
// distinct ids, or a field error.
func bulkIDs(errs *validate.Errors, proposalIDs []string) []string {
	ids := unique(proposalIDs)
	switch {
	case len(ids) == 0:
		errs.Add("proposal_ids", "required", nil)
	case len(ids) > MaxBulk:
		errs.Add("proposal_ids", "screening_too_many", map[string]any{"Max": MaxBulk})
	}
	return ids
}

// lockOfCall reads a call and the listed proposals for a bulk action on
// it, the proposals locked in id order on PostgreSQL so two bulk actions
// cannot deadlock. An id that is not a proposal of this call is refused the
// same way whether or not it exists elsewhere: nothing leaks.
func lockOfCall(tx *gorm.DB, callID string, ids []string) (*calls.Call, []proposals.Proposal, error) {
	var c calls.Call
	if err := tx.Where("id = ?", callID).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, ErrNotFound
		}
		return nil, nil, fmt.Errorf("read call: %w", err)
	}
	for _, id := range ids {
		if !database.ValidID(id) {
			return nil, nil, validate.One("proposal_ids", "screening_not_in_call")
		}
	}
	q := tx
	if tx.Dialector.Name() == database.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var ps []proposals.Proposal
	if err := q.Where("id IN ?", ids).Order("id").Find(&ps).Error; err != nil {
		return nil, nil, fmt.Errorf("read proposals: %w", err)
	}
	if len(ps) != len(ids) {
		return nil, nil, validate.One("proposal_ids", "screening_not_in_call")
	}
	for _, p := range ps {
		if p.CallID != callID {
			return nil, nil, validate.One("proposal_ids", "screening_not_in_call")
		}
	}
	return &c, ps, nil
}

func unique(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
