package proposals

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/idempotency"
	"facility/internal/mail"
)

// Outcome is what one submission of a batch got: what idempotency.Do
// would have returned for it, and the proposal it submitted.
type Outcome struct {
	Response idempotency.Response
	Replayed bool
	Err      error
	Proposal *Proposal // as submitted; nil for a replay or a refusal
}

// SubmitAll makes submissions together in one transaction and returns their
// outcomes in order; a submission alone is a batch of one. Each is checked
// on the database clock of the transaction, with its proposal locked, so
// concurrent submits make one submission. A submission that is refused
// (late, incomplete, wrong status...) gets its error and changes nothing;
// the others commit. Submissions with an idempotency key claim it, and
// store their response with the submission. If the transaction fails as a
// whole (a database error), each submission is made alone, so that one
// can never fail another. Receipts are handed to delivery after commit.
func (s *Service) SubmitAll(ctx context.Context, subs []Submission) []Outcome {
	out, err := s.submitTogether(ctx, subs)
	if err == nil {
		return out
	}
	out = make([]Outcome, len(subs))
	if len(subs) == 1 {
		out[0].Err = err
		return out
	}
	for i := range subs {
		if ctx.Err() != nil {
			out[i].Err = ctx.Err()
			continue
		}
		out[i] = s.SubmitAll(ctx, subs[i:i+1])[0]
	}
	return out
}

// submitTogether runs the batch's transaction and, after commit, hands the
// receipts to delivery.
func (s *Service) submitTogether(ctx context.Context, subs []Submission) ([]Outcome, error) {
	out := make([]Outcome, len(subs))
	var mails []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two requests with one key, or for one proposal, go in successive
		// rounds of the transaction: the later sees what the earlier did,
		// as if it had come after it (a replay, or ErrWrongStatus).
		pending := make([]int, len(subs))
		for i := range pending {
			pending[i] = i
		}
		for len(pending) > 0 {
			var round, later []int
			keys, props := map[[2]string]bool{}, map[string]bool{}
			for _, i := range pending {
				k := [2]string{subs[i].UserID, subs[i].Key}
				if subs[i].Key != "" && keys[k] || props[subs[i].ProposalID] {
					later = append(later, i)
					continue
				}
				keys[k], props[subs[i].ProposalID] = true, true
				round = append(round, i)
			}
			ids, err := s.submitRound(tx, subs, round, out)
			if err != nil {
				return err
			}
			mails = append(mails, ids...)
			pending = later
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(mails) > 0 {
		s.mailQueued(context.WithoutCancel(ctx), mails...)
	}
	return out, nil
}

// candidate is a claimed submission on its way through the checks.
type candidate struct {
	i    int // in subs
	p    *Proposal
	c    *calls.Call
	res  idempotency.Response
	who  submitter
	hash string
}

// submitRound makes the submissions subs[round] (no key and no proposal
// twice) inside tx with a fixed number of statements, writes their outcomes
// to out, and returns the ids of the receipts queued. An error is the
// batch's: the transaction must roll back.
func (s *Service) submitRound(tx *gorm.DB, subs []Submission, round []int, out []Outcome) ([]string, error) {
	ctx := tx.Statement.Context
	// Claiming in one order everywhere keeps two batches from deadlocking
	// on each other's keys.
	sort.Slice(round, func(a, b int) bool {
		x, y := subs[round[a]], subs[round[b]]
		return x.UserID < y.UserID || x.UserID == y.UserID && x.Key < y.Key
	})
	// Keyed submissions claim their keys: a key used before answers with
	// its stored response.
	var claims []idempotency.Claim
	for _, i := range round {
		if subs[i].Key != "" {
			claims = append(claims, claimOf(subs[i]))
		}
	}
	got, err := idempotency.ClaimMany(tx, claims)
	if err != nil {
		return nil, err
	}
	var work []*candidate
	for _, i := range round {
		if subs[i].Key == "" {
			work = append(work, &candidate{i: i})
			continue
		}
		g := got[0]
		got = got[1:]
		switch {
		case g.Err != nil:
			out[i].Err = g.Err
		case !g.Mine:
			out[i] = Outcome{Response: g.Response, Replayed: true}
		default:
			work = append(work, &candidate{i: i})
		}
	}
	if len(work) == 0 {
		return nil, nil
	}
	// From here a refused submission's claim is released, as Do's rollback
	// would.
	var release []idempotency.Claim
	unclaim := func(sub Submission) {
		if sub.Key != "" {
			release = append(release, claimOf(sub))
		}
	}
	refuse := func(w *candidate, err error) {
		out[w.i].Err = err
		unclaim(subs[w.i])
	}

	// Lock the proposals, in id order, and read the database clock, the
	// submitters (with their rights, checked in the transaction that
	// submits, so a right taken away meanwhile counts) and the facts about
	// the organisations that eligibility rules use. A round has each
	// proposal once.
	var values strings.Builder
	var args []any
	uuid := database.UUIDParam(tx)
	var asked []*candidate
	for _, w := range work {
		if database.ValidID(subs[w.i].ProposalID) && database.ValidID(subs[w.i].Actor.UserID) {
			asked = append(asked, w)
		}
	}
	var now time.Time
	type locked struct {
		Proposal       Proposal `gorm:"embedded"`
		DBNow          database.Clock
		OrgRole        *string
		TeamRights     *string
		SubmitterEmail *string
		SubmitterName  *string
		OrgType        *string
		OrgCountry     *string
		OrgRegion      *string
		OrgYearFounded *int
	}
	found := map[string]*locked{}
	orgs := map[string]calls.Facts{}
	if len(asked) > 0 {
		for k, w := range database.Pad(asked) {
			if k > 0 {
				values.WriteString(", ")
			}
			values.WriteString("(" + uuid + ", " + uuid + ")")
			args = append(args, subs[w.i].ProposalID, subs[w.i].Actor.UserID)
		}
		lock := ""
		if tx.Dialector.Name() == database.Postgres {
			lock = " FOR UPDATE OF p"
		}
		var rows []locked
		if err := tx.Raw(`WITH k (pid, uid) AS (VALUES `+values.String()+`)
			SELECT p.*, `+database.ClockColumn(tx)+` AS db_now, `+rightsColumns+`, u.email AS submitter_email, u.name AS submitter_name,
			o.type_code AS org_type, o.country_iso2 AS org_country, c.ilo_region AS org_region, o.year_founded AS org_year_founded
			FROM k JOIN proposals p ON p.id = k.pid LEFT JOIN users u ON u.id = k.uid
			LEFT JOIN organisations o ON o.id = p.organisation_id LEFT JOIN countries c ON c.iso2 = o.country_iso2
			ORDER BY p.id`+lock, args...).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read proposals: %w", err)
		}
		for k := range rows {
			r := &rows[k]
			found[strings.ToLower(r.Proposal.ID)] = r
			now = r.DBNow.At
			if r.OrgType != nil && r.OrgRegion != nil {
				orgs[strings.ToLower(r.Proposal.OrganisationID)] = calls.Facts{OrgType: *r.OrgType, Country: *r.OrgCountry,
					Region: *r.OrgRegion, YearFounded: *r.OrgYearFounded}
			}
		}
	}
	work = keep(work, func(w *candidate) bool {
		r := found[strings.ToLower(subs[w.i].ProposalID)]
		if r == nil {
			refuse(w, ErrNotFound)
			return false
		}
		w.p = &r.Proposal
		if r.SubmitterEmail != nil {
			w.who = submitter{Email: *r.SubmitterEmail, Name: *r.SubmitterName}
		}
		switch rights := bestRights(r.OrgRole, r.TeamRights); {
		case !Includes(rights, RightSubmit):
			refuse(w, &AccessError{OrganisationID: w.p.OrganisationID, Hidden: rights == ""})
		case w.p.Status != StatusDraft:
			refuse(w, ErrWrongStatus)
		default:
			return true
		}
		return false
	})

	// Their calls, and extensions for those past their round's own
	// deadline (an extension only ever moves a deadline later).
	if len(work) > 0 {
		var callIDs []string
		for _, w := range work {
			callIDs = append(callIDs, w.p.CallID)
		}
		var cs []calls.Call
		if err := tx.Where("id IN ?", database.Pad(callIDs)).Find(&cs).Error; err != nil {
			return nil, fmt.Errorf("read calls: %w", err)
		}
		byID := map[string]*calls.Call{}
		for k := range cs {
			byID[strings.ToLower(cs[k].ID)] = &cs[k]
		}
		var late []string
		work = keep(work, func(w *candidate) bool {
			if w.c = byID[strings.ToLower(w.p.CallID)]; w.c == nil {
				refuse(w, calls.ErrNotFound)
				return false
			}
			if now.After(w.c.RoundDeadline(w.p.Round)) {
				late = append(late, w.p.ID)
			}
			return true
		})
		// Extensions only ever move a deadline later: read them only for
		// submissions past their round's own.
		extended, err := Extensions(tx, late)
		if err != nil {
			return nil, err
		}
		work = keep(work, func(w *candidate) bool {
			if d := DeadlineWith(w.c, w.p.Round, extended, w.p.ID); now.After(d) {
				refuse(w, &DeadlineError{Deadline: d, Received: now})
				return false
			}
			if now.Before(w.c.OpensAt) {
				refuse(w, ErrNotOpen)
				return false
			}
			return true
		})
	}

	// What is missing, with the attachments; then eligibility, with the
	// organisations' facts.
	files := map[string][]file{}
	if len(work) > 0 {
		pids := make([]string, len(work))
		for k, w := range work {
			pids[k] = w.p.ID
		}
		var fs []struct{ ProposalID, QuestionID, SHA256 string }
		if err := tx.Model(&Attachment{}).Select("proposal_id, question_id, sha256").Where("proposal_id IN ? AND deleted_at IS NULL", database.Pad(pids)).
			Scan(&fs).Error; err != nil {
			return nil, fmt.Errorf("read attachments: %w", err)
		}
		for _, f := range fs {
			k := strings.ToLower(f.ProposalID)
			files[k] = append(files[k], file{QuestionID: f.QuestionID, SHA256: f.SHA256})
		}
	}
	countries := s.calls.WithTx(tx).Countries(ctx)
	work = keep(work, func(w *candidate) bool {
		sub := subs[w.i]
		fs := files[strings.ToLower(w.p.ID)]
		if missing := missing(w.c, w.p, fs, countries); len(missing) > 0 {
			refuse(w, missing)
			return false
		}
		facts, okOrg := orgs[strings.ToLower(w.p.OrganisationID)]
		if !okOrg || w.who.Email == "" {
			refuse(w, fmt.Errorf("read organisation and submitter: none for %s", w.p.OrganisationID))
			return false
		}
		facts.Year, facts.Requested, facts.Answers = now.Year(), w.p.RequestedMinor, w.p.Answers.V
		w.p.Eligibility.V = w.c.CheckEligibility(facts)
		hash, err := contentHash(w.p, fs)
		if err != nil {
			refuse(w, err)
			return false
		}
		at, by := now, sub.Actor.UserID
		w.p.Status, w.p.SubmittedAt, w.p.SubmittedBy, w.p.ContentHash = StatusSubmitted, &at, &by, hash
		w.p.ReceiptNumber = receiptNumber(w.c, w.p)
		w.hash = hash
		if sub.Respond == nil {
			return true
		}
		res, err := sub.Respond(w.p)
		if err != nil {
			refuse(w, err)
			return false
		}
		if res.Status >= 500 {
			// A server failure is answered but neither stored nor done.
			out[w.i].Response = res
			unclaim(sub)
			return false
		}
		w.res = res
		return true
	})

	if err := idempotency.ReleaseMany(tx, release); err != nil {
		return nil, err
	}
	if len(work) == 0 {
		return nil, nil
	}
	mailIDs, err := s.writeSubmissions(tx, subs, work, now)
	if err != nil {
		return nil, err
	}
	for _, w := range work {
		out[w.i] = Outcome{Response: w.res, Proposal: w.p}
	}
	return mailIDs, nil
}

// writeSubmissions records accepted submissions with one statement per
// table: the proposals, their receipts, rounds, audit records and stored
// responses.
func (s *Service) writeSubmissions(tx *gorm.DB, subs []Submission, work []*candidate, now time.Time) ([]string, error) {
	uuid := database.UUIDParam(tx)
	var values strings.Builder
	args := make([]any, 0, 5*len(work)+4)
	ids := make([]string, len(work))
	for k, w := range work {
		ids[k] = w.p.ID
		if k > 0 {
			values.WriteString(", ")
		}
		values.WriteString("(" + uuid + ", " + uuid + ", ?, ?, ?)")
		args = append(args, w.p.ID, *w.p.SubmittedBy, w.hash, w.p.ReceiptNumber, w.p.Eligibility)
	}
	args = append(args, StatusSubmitted, now, now, StatusDraft)
	res := tx.Exec(`WITH v (pid, by_user, hash, receipt, elig) AS (VALUES `+values.String()+`)
		UPDATE proposals SET status = ?, submitted_at = ?, submitted_by = v.by_user, content_hash = v.hash,
			receipt_number = v.receipt, eligibility = v.elig, updated_at = ?, version = version + 1
		FROM v WHERE proposals.id = v.pid AND proposals.status = ?`, args...)
	if res.Error != nil {
		return nil, fmt.Errorf("submit proposals: %w", res.Error)
	}
	if res.RowsAffected != int64(len(work)) {
		// The rows are locked and were drafts: this cannot happen, and if it
		// does, each submission is made alone.
		return nil, fmt.Errorf("submit proposals: %d of %d updated", res.RowsAffected, len(work))
	}

	msgs := make([]mail.Message, len(work))
	entries := make([]audit.Item, len(work))
	var claims []idempotency.Claim
	var responses []idempotency.Response
	for k, w := range work {
		sub, p := subs[w.i], w.p
		locale := sub.Locale
		if locale == "" {
			locale = p.Language
		}
		msgs[k] = s.receiptMail(w.c, p, w.who, w.hash, locale, now)
		entries[k] = audit.Item{Actor: sub.Actor, Entry: audit.Entry{Action: "proposal.submit", ObjectType: "proposal", ObjectID: p.ID, At: now,
			Domain: authz.OrgDomain(p.OrganisationID), Details: map[string]any{"receipt": p.ReceiptNumber, "content_hash": w.hash}}}
		if sub.Key != "" {
			claims, responses = append(claims, claimOf(sub)), append(responses, w.res)
		}
	}
	mailIDs, err := mail.QueueMany(tx, msgs)
	if err != nil {
		return nil, err
	}
	if err := RecordRounds(tx, ids); err != nil {
		return nil, err
	}
	if err := audit.AppendMany(tx, entries); err != nil {
		return nil, err
	}
	if err := idempotency.StoreMany(tx, claims, responses); err != nil {
		return nil, err
	}
	return mailIDs, nil
}

func claimOf(sub Submission) idempotency.Claim {
	return idempotency.Claim{UserID: sub.UserID, Key: sub.Key, RequestHash: sub.RequestHash}
}

// keep filters ws in place by ok, which may also record a refusal.
func keep(ws []*candidate, ok func(*candidate) bool) []*candidate {
	kept := ws[:0]
	for _, w := range ws {
		if ok(w) {
			kept = append(kept, w)
		}
	}
	return kept
}
