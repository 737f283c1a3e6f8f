package proposals

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/batch"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/validate"
)

// Errors of the proposals domain.
var (
	ErrNotFound    = errors.New("proposal not found")
	ErrWrongStatus = errors.New("not possible in the proposal's current status")
	ErrClosed      = errors.New("the call is closed for this proposal")
	ErrNotOpen     = errors.New("the call does not accept proposals")
)

// ConflictError is returned when an edit was based on an older version:
// Current is what is stored now, so the editor can see both.
type ConflictError struct{ Current *Proposal }

func (e *ConflictError) Error() string { return "the proposal was changed by someone else" }

// DeadlineError says a submission arrived after the deadline.
type DeadlineError struct {
	Deadline, Received time.Time
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("deadline %s passed (received %s)", e.Deadline.Format(time.RFC3339), e.Received.Format(time.RFC3339))
}

// Translator renders e-mail texts.
type Translator interface {
	Translate(locale, id string, data map[string]any) string
}

// Service is the proposals domain.
type Service struct {
	db         *gorm.DB
	calls      *calls.Service
	text       Translator
	publicURL  string
	mailQueued func(context.Context, ...string)

	readers *batch.Group[personal, withRights] // of ForPerson
}

// lookups is the most requests one reading statement serves.
const lookups = 64

// New builds the service.
func New(db *gorm.DB, cs *calls.Service, text Translator, publicURL string, mailQueued func(context.Context, ...string)) *Service {
	s := &Service{db: db, calls: cs, text: text, publicURL: publicURL, mailQueued: mailQueued}
	s.readers = batch.New(batch.Options{Max: lookups, Timeout: 15 * time.Second, Linger: time.Millisecond}, s.forPeople)
	return s
}

// StartBatches lets requests for proposals be read together (see package batch);
// until then each is read alone.
func (s *Service) StartBatches() { s.readers.Start() }

// StopBatches returns once the requests waiting for proposals are served.
func (s *Service) StopBatches() { s.readers.Stop() }

// StartInput begins a proposal.
type StartInput struct {
	CallID         string `json:"call_id"`
	OrganisationID string `json:"organisation_id"`
	Title          string `json:"title"`
	Language       string `json:"language"`
}

// Start creates a draft for an organisation (the caller checked the person
// may create proposals for it). The organisation is the consortium lead.
func (s *Service) Start(ctx context.Context, actor audit.Actor, in StartInput) (*Proposal, error) {
	var errs validate.Errors
	errs.Text("title", in.Title, true, 300, false)
	c, err := s.calls.Get(ctx, in.CallID)
	if err != nil {
		return nil, ErrNotOpen
	}
	if !c.Speaks(in.Language) {
		errs.Add("language", "not_allowed", nil)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var p *Proposal
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if c.Status != calls.StatusPublished || now.After(c.Deadline()) {
			return ErrNotOpen
		}
		var org struct{ Name, CountryIso2 string }
		if err := tx.Table("organisations").Select("name, country_iso2").Where("id = ?", in.OrganisationID).Take(&org).Error; err != nil {
			return ErrNotOpen
		}
		p = &Proposal{ID: database.NewID(), CallID: c.ID, OrganisationID: in.OrganisationID, Round: 1,
			Title: strings.TrimSpace(in.Title), Language: in.Language, Status: StatusDraft, Screening: ScreeningPending,
			Version: 1, CreatedBy: actor.UserID, UpdatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now}
		p.Answers.V = map[string]any{}
		p.Partners.V = []Partner{{OrganisationID: in.OrganisationID, Name: org.Name, Country: org.CountryIso2, Lead: true}}
		p.Eligibility.V = []calls.Outcome{}
		if err := tx.Create(p).Error; err != nil {
			return fmt.Errorf("create proposal: %w", err)
		}
		if err := tx.Create(&Member{ProposalID: p.ID, UserID: actor.UserID, Rights: RightSubmit, AddedBy: actor.UserID, CreatedAt: now}).Error; err != nil {
			return fmt.Errorf("add proposal member: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "proposal.start", ObjectType: "proposal", ObjectID: p.ID,
			Domain: authz.OrgDomain(in.OrganisationID), Details: map[string]any{"call_id": c.ID}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func get(tx *gorm.DB, id string, lock bool) (*Proposal, error) {
	if !database.ValidID(id) {
		return nil, ErrNotFound
	}
	q := tx
	if lock && tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var p Proposal
	err := q.Where("id = ?", id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read proposal: %w", err)
	}
	return &p, nil
}

// lockWithClock locks a proposal for the transaction (PostgreSQL; SQLite
// has one writer at a time) and reads the database clock in the same
// statement: on PostgreSQL the clock is the transaction's start, the same
// value database.Now would give.
func lockWithClock(tx *gorm.DB, id string) (*Proposal, time.Time, error) {
	if !database.ValidID(id) {
		return nil, time.Time{}, ErrNotFound
	}
	lock := ""
	if tx.Dialector.Name() == database.Postgres {
		lock = " FOR UPDATE"
	}
	var row struct {
		Proposal Proposal `gorm:"embedded"`
		DBNow    database.Clock
	}
	res := tx.Raw("SELECT *, "+database.ClockColumn(tx)+" AS db_now FROM proposals WHERE id = ?"+lock, id).Scan(&row)
	if res.Error != nil {
		return nil, time.Time{}, fmt.Errorf("read proposal: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, time.Time{}, ErrNotFound
	}
	return &row.Proposal, row.DBNow.At, nil
}

// Get returns a proposal; the caller has checked access.
func (s *Service) Get(ctx context.Context, id string) (*Proposal, error) {
	return get(s.db.WithContext(ctx), id, false)
}

// Mine lists the proposals a person can see on the applicant side.
func (s *Service) Mine(ctx context.Context, userID string) ([]Proposal, error) {
	var out []Proposal
	err := s.db.WithContext(ctx).Where(`id IN (SELECT p.id FROM proposals p JOIN organisation_members m
			ON m.organisation_id = p.organisation_id WHERE m.user_id = ?)
		OR id IN (SELECT proposal_id FROM proposal_members WHERE user_id = ?)`, userID, userID).
		Order("updated_at DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	return out, nil
}

// SaveInput is an autosave or a save: the fields sent change, the rest stay.
type SaveInput struct {
	Version        int            `json:"version"`
	Title          *string        `json:"title"`
	RequestedMinor *int64         `json:"requested_minor"`
	Answers        map[string]any `json:"answers"`
	Partners       *[]Partner     `json:"partners"`
}

// Save applies an edit to a draft if it was based on the stored version;
// otherwise it returns a ConflictError with the stored proposal. Answers
// merge into the stored ones (an answer of null clears it).
func (s *Service) Save(ctx context.Context, actor audit.Actor, id string, in SaveInput) (*Proposal, error) {
	var p *Proposal
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = get(tx, id, true); err != nil {
			return err
		}
		if p.Status != StatusDraft {
			return ErrWrongStatus
		}
		if p.Version != in.Version {
			return &ConflictError{Current: p}
		}
		c, err := s.calls.WithTx(tx).Get(ctx, p.CallID)
		if err != nil {
			return err
		}
		var errs validate.Errors
		if in.Title != nil {
			errs.Text("title", *in.Title, true, 300, false)
			p.Title = strings.TrimSpace(*in.Title)
		}
		if in.RequestedMinor != nil {
			if *in.RequestedMinor < 0 || *in.RequestedMinor > c.BudgetMinor {
				errs.Add("requested_minor", "out_of_range", map[string]any{"Min": 0, "Max": c.BudgetMinor})
			}
			p.RequestedMinor = *in.RequestedMinor
		}
		if in.Partners != nil {
			checkPartners(&errs, *in.Partners, s.calls.WithTx(tx).Countries(ctx))
			p.Partners.V = *in.Partners
		}
		merged := map[string]any{}
		for k, v := range p.Answers.V {
			merged[k] = v
		}
		for k, v := range in.Answers {
			if v == nil {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		clean, aerrs := c.Form.V.CheckAnswers(p.Round, merged, s.calls.WithTx(tx).Countries(ctx), false)
		// Report only problems with what this edit sent, not older answers.
		for _, e := range aerrs {
			if _, sent := in.Answers[strings.TrimPrefix(e.Field, "answers.")]; sent {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			return errs
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		p.Answers.V, p.Version, p.UpdatedAt, p.UpdatedBy = clean, p.Version+1, now, actor.UserID
		res := tx.Model(&Proposal{}).Where("id = ? AND version = ?", id, in.Version).Updates(map[string]any{
			"title": p.Title, "requested_minor": p.RequestedMinor, "answers": p.Answers, "partners": p.Partners,
			"version": p.Version, "updated_at": now, "updated_by": actor.UserID})
		if res.Error != nil {
			return fmt.Errorf("save proposal: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			current, err := get(tx, id, false)
			if err != nil {
				return err
			}
			return &ConflictError{Current: current}
		}
		return audit.Append(tx, actor, audit.Entry{Action: "proposal.save", ObjectType: "proposal", ObjectID: id,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"version": p.Version}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func checkPartners(errs *validate.Errors, ps []Partner, countries map[string]bool) {
	leads := 0
	for i, p := range ps {
		f := fmt.Sprintf("partners.%d.", i)
		errs.Text(f+"name", p.Name, true, 200, false)
		if !countries[p.Country] {
			errs.Add(f+"country", "not_allowed", nil)
		}
		if p.OrganisationID != "" && !database.ValidID(p.OrganisationID) {
			errs.Add(f+"organisation_id", "not_found", nil)
		}
		if p.Lead {
			leads++
		}
	}
	if len(ps) > 20 {
		errs.Add("partners", "too_many", map[string]any{"Max": 20})
	}
	if leads != 1 {
		errs.Add("partners", "one_lead", nil)
	}
}

// Missing lists what must still be done before the proposal can be submitted.
func (s *Service) Missing(ctx context.Context, p *Proposal) (validate.Errors, error) {
	c, err := s.calls.Get(ctx, p.CallID)
	if err != nil {
		return nil, err
	}
	files, err := liveFiles(s.db.WithContext(ctx), p.ID)
	if err != nil {
		return nil, err
	}
	return missing(c, p, files, s.calls.Countries(ctx)), nil
}

func missing(c *calls.Call, p *Proposal, files []file, countries map[string]bool) validate.Errors {
	var errs validate.Errors
	errs.Text("title", p.Title, true, 300, false)
	if p.RequestedMinor <= 0 {
		errs.Add("requested_minor", "required", nil)
	}
	_, aerrs := c.Form.V.CheckAnswers(p.Round, p.Answers.V, countries, true)
	errs = append(errs, aerrs...)
	// Required file questions need at least one stored file.
	for _, q := range c.Form.V.Questions() {
		if q.Kind != calls.KindFile || !q.Required || !c.Form.V.Visible(q, p.Answers.V) {
			continue
		}
		found := false
		for _, f := range files {
			found = found || f.QuestionID == q.ID
		}
		if !found && !errs.Has("answers."+q.ID) {
			errs.Add("answers."+q.ID, "required", nil)
		}
	}
	return errs
}

// Extensions returns, for each listed proposal that has one, the closing
// time of the latest extension granted for the round it is in: the one in
// force (a later grant replaces an earlier one, even with an earlier date;
// an extension of the concept note does not carry over).
func Extensions(db *gorm.DB, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ProposalID string
		ClosesAt   time.Time
	}
	if err := db.Table("deadline_extensions").Select("proposal_id, closes_at").Where("proposal_id IN ?", ids).
		Where("round = (SELECT p.round FROM proposals p WHERE p.id = deadline_extensions.proposal_id)").
		Order("created_at, id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read extensions: %w", err)
	}
	for _, r := range rows {
		out[strings.ToLower(r.ProposalID)] = r.ClosesAt.UTC() // later rows win
	}
	return out, nil
}

// DeadlineWith is a round's deadline (closing time plus grace), or the
// extension in force when it is later.
func DeadlineWith(c *calls.Call, round int, ext map[string]time.Time, proposalID string) time.Time {
	d := c.RoundDeadline(round)
	if e, ok := ext[strings.ToLower(proposalID)]; ok && e.After(d) {
		d = e
	}
	return d
}

// deadline is when this proposal must be submitted by in its current round.
func deadline(tx *gorm.DB, c *calls.Call, proposalID string, round int) (time.Time, error) {
	ext, err := Extensions(tx, []string{proposalID})
	if err != nil {
		return c.RoundDeadline(round), err
	}
	return DeadlineWith(c, round, ext, proposalID), nil
}

// Deadline returns the proposal's deadline.
func (s *Service) Deadline(ctx context.Context, p *Proposal) (time.Time, error) {
	c, err := s.calls.Get(ctx, p.CallID)
	if err != nil {
		return time.Time{}, err
	}
	return deadline(s.db.WithContext(ctx), c, p.ID, p.Round)
}

// Submit submits a complete draft, as a batch of one (see SubmitAll).
func (s *Service) Submit(ctx context.Context, actor audit.Actor, id string, locale string) (*Proposal, error) {
	o := s.SubmitAll(ctx, []Submission{{Actor: actor, ProposalID: id, Locale: locale}})[0]
	return o.Proposal, o.Err
}

// submitter is who submits, for the receipt e-mail.
type submitter struct{ Email, Name string }

// file is what a submission needs to know of a stored attachment.
type file struct{ QuestionID, SHA256 string }

// liveFiles reads the proposal's attachments that were not deleted.
func liveFiles(tx *gorm.DB, proposalID string) ([]file, error) {
	var files []file
	if err := tx.Model(&Attachment{}).Select("question_id, sha256").Where("proposal_id = ? AND deleted_at IS NULL", proposalID).
		Scan(&files).Error; err != nil {
		return nil, fmt.Errorf("read attachments: %w", err)
	}
	return files, nil
}

// contentHash is the SHA-256 of what was submitted: title, amount, answers,
// partners and the hashes of the files, in a canonical form.
func contentHash(p *Proposal, files []file) (string, error) {
	sums := make([]string, len(files))
	for i, f := range files {
		sums[i] = f.SHA256
	}
	sort.Strings(sums)
	// encoding/json sorts map keys, which makes the document canonical.
	b, err := json.Marshal(map[string]any{"title": p.Title, "requested_minor": p.RequestedMinor, "answers": p.Answers.V,
		"partners": p.Partners.V, "files": sums, "call_id": p.CallID, "organisation_id": p.OrganisationID})
	if err != nil {
		return "", fmt.Errorf("hash proposal: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// beforeDeadline locks a proposal in status and checks, on the database
// clock, that its deadline (with grace and any extension) has not passed.
func (s *Service) beforeDeadline(ctx context.Context, tx *gorm.DB, id, status string) (*Proposal, *calls.Call, time.Time, error) {
	p, now, err := lockWithClock(tx, id)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if p.Status != status {
		return nil, nil, time.Time{}, ErrWrongStatus
	}
	c, err := s.calls.WithTx(tx).Get(ctx, p.CallID)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	// An extension only ever moves the deadline later, so it needs reading
	// only once the round's own deadline has passed.
	if now.After(c.RoundDeadline(p.Round)) {
		d, err := deadline(tx, c, p.ID, p.Round)
		if err != nil {
			return nil, nil, time.Time{}, err
		}
		if now.After(d) {
			return nil, nil, time.Time{}, &DeadlineError{Deadline: d, Received: now}
		}
	}
	return p, c, now, nil
}

// Withdraw takes back a submitted proposal before the deadline.
func (s *Service) Withdraw(ctx context.Context, actor audit.Actor, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, _, now, err := s.beforeDeadline(ctx, tx, id, StatusSubmitted)
		if err != nil {
			return err
		}
		if err := tx.Model(&Proposal{}).Where("id = ?", id).Updates(map[string]any{
			"status": StatusWithdrawn, "withdrawn_at": now, "updated_at": now, "version": gorm.Expr("version + 1")}).Error; err != nil {
			return fmt.Errorf("withdraw proposal: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "proposal.withdraw", ObjectType: "proposal", ObjectID: id,
			Domain: authz.OrgDomain(p.OrganisationID)})
	})
}

// GrantExtension gives one proposal a later deadline (a manager's decision,
// audited with its reason).
func (s *Service) GrantExtension(ctx context.Context, actor audit.Actor, id string, closesAt time.Time, reason string) error {
	var errs validate.Errors
	errs.Text("reason", reason, true, 1000, true)
	if len(errs) > 0 {
		return errs
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := get(tx, id, true)
		if err != nil {
			return err
		}
		c, err := s.calls.WithTx(tx).Get(ctx, p.CallID)
		if err != nil {
			return err
		}
		if !closesAt.After(c.RoundDeadline(p.Round)) {
			return validate.One("closes_at", "extension_not_later")
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO deadline_extensions (id, proposal_id, round, closes_at, reason, granted_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			database.NewID(), id, p.Round, closesAt.UTC(), reason, actor.UserID, now).Error; err != nil {
			return fmt.Errorf("grant extension: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "proposal.extend_deadline", ObjectType: "proposal", ObjectID: id,
			Domain: authz.FacilityDomain(c.FacilityCode), Details: map[string]any{"closes_at": closesAt.UTC(), "reason": reason, "round": p.Round}})
	})
}

// Summary is a proposal as a list shows it: with its call, its deadline and
// what the person may do with it.
type Summary struct {
	Proposal
	Call     *calls.Call
	Deadline time.Time
	Rights   string
}

// MineWithDetails lists a person's proposals with their calls, deadlines
// and rights in a fixed number of queries, however many there are.
func (s *Service) MineWithDetails(ctx context.Context, userID string) ([]Summary, error) {
	list, err := s.Mine(ctx, userID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	ids := make([]string, len(list))
	callIDs := make([]string, 0, len(list))
	for i, p := range list {
		ids[i] = p.ID
		callIDs = append(callIDs, p.CallID)
	}
	var cs []calls.Call
	if err := db.Where("id IN ?", callIDs).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("read calls: %w", err)
	}
	byID := make(map[string]*calls.Call, len(cs))
	for i := range cs {
		byID[cs[i].ID] = &cs[i]
	}
	extended, err := Extensions(db, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ProposalID string  `gorm:"column:proposal_id"`
		OrgRole    *string `gorm:"column:org_role"`
		TeamRights *string `gorm:"column:team_rights"`
	}
	err = db.Raw(`WITH k (uid) AS (VALUES (`+database.UUIDParam(db)+`))
		SELECT p.id AS proposal_id, `+rightsColumns+` FROM k JOIN proposals p ON p.id IN ?`, userID, ids).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read proposal rights: %w", err)
	}
	rights := make(map[string]string, len(rows))
	for _, r := range rows {
		rights[r.ProposalID] = bestRights(r.OrgRole, r.TeamRights)
	}
	out := make([]Summary, 0, len(list))
	for _, p := range list {
		c := byID[p.CallID]
		if c == nil {
			continue
		}
		out = append(out, Summary{Proposal: p, Call: c, Deadline: DeadlineWith(c, p.Round, extended, p.ID), Rights: rights[p.ID]})
	}
	return out, nil
}
