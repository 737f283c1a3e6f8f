// Package audit keeps the append-only, hash-chained record of what happened:
// sign-ins, denials, role changes and every domain action. A record is
// written in the same transaction as the change it describes, so there is
// never a change without its record nor a record of a change that rolled back.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Actor is who acted and from where; handlers fill it from the request.
type Actor struct {
	UserID    string // empty for anonymous visitors
	IP        string
	RequestID string
}

// Entry is one thing that happened.
type Entry struct {
	Action     string // e.g. "session.login", "role.grant"
	ObjectType string
	ObjectID   string
	Domain     string // authorisation domain the action belongs to, if any
	Details    map[string]any
	// At is the database clock, for a caller that has read it in this
	// transaction already; zero reads it here.
	At time.Time
}

// Record is a stored entry with its place in the log and in its chain.
type Record struct {
	Seq        int64     `gorm:"column:seq;primaryKey" json:"seq"`
	Chain      int       `gorm:"column:chain" json:"chain"`
	ChainSeq   int64     `gorm:"column:chain_seq" json:"chain_seq"`
	ID         string    `gorm:"column:id" json:"id"`
	At         time.Time `gorm:"column:at" json:"at"`
	ActorID    string    `gorm:"column:actor_id" json:"actor_id"`
	Action     string    `gorm:"column:action" json:"action"`
	ObjectType string    `gorm:"column:object_type" json:"object_type"`
	ObjectID   string    `gorm:"column:object_id" json:"object_id"`
	Domain     string    `gorm:"column:domain" json:"domain"`
	IP         string    `gorm:"column:ip" json:"ip"`
	RequestID  string    `gorm:"column:request_id" json:"request_id"`
	Details    string    `gorm:"column:details" json:"details"`
	PrevHash   string    `gorm:"column:prev_hash" json:"prev_hash"`
	Hash       string    `gorm:"column:hash" json:"hash"`
}

// TableName maps Record to its table.
func (Record) TableName() string { return "audit_log" }

// Chains is how many hash chains the log has on PostgreSQL. Records of
// applicants' organisations (the busy, concurrent writers: drafts saved and
// proposals submitted at a deadline) are spread over chains 1 to Chains-1
// by organisation; everything else is chain 0. SQLite has one writer at a
// time and keeps everything in chain 0.
const Chains = 16

// chainOf picks the chain an entry's transaction asks for.
func chainOf(domain string) int {
	org, ok := strings.CutPrefix(domain, "org:")
	if !ok || org == "" {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(org))
	return 1 + int(h.Sum32()%(Chains-1))
}

// Append writes an entry inside tx, which must be the transaction of the
// change being recorded (AppendMany of one).
func Append(tx *gorm.DB, a Actor, e Entry) error {
	return AppendMany(tx, []Item{{Actor: a, Entry: e}})
}

// Write records an entry in its own transaction, for events that change
// nothing else (a failed sign-in, a denial).
func Write(ctx context.Context, db *gorm.DB, a Actor, e Entry) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return Append(tx, a, e) })
}

func (r *Record) computeHash() string {
	h := sha256.New()
	// A record's position: its number in chain 0 (so records from before
	// the log had several chains keep their hashes), chain/number elsewhere.
	pos := strconv.FormatInt(r.ChainSeq, 10)
	if r.Chain != 0 {
		pos = strconv.Itoa(r.Chain) + "/" + pos
	}
	for _, f := range []string{
		pos, r.ID, r.At.UTC().Format(time.RFC3339Nano), r.ActorID, r.Action,
		r.ObjectType, r.ObjectID, r.Domain, r.IP, r.RequestID, r.Details, r.PrevHash,
	} {
		// Length-prefixing keeps "ab"+"c" and "a"+"bc" apart.
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Kinds of problem Verify finds.
const (
	ProblemEdited  = "edited"
	ProblemLink    = "link"
	ProblemMissing = "missing"
)

// Problem is one place where the stored chain does not hold.
type Problem struct {
	Seq    int64
	Kind   string
	Reason string
}

// Verify walks every chain and reports every record whose content, place
// or link does not match what was written.
func Verify(ctx context.Context, db *gorm.DB) (checked int64, problems []Problem, err error) {
	db = db.WithContext(ctx)
	var chains []int
	if err := db.Model(&Record{}).Distinct().Order("chain").Pluck("chain", &chains).Error; err != nil {
		return 0, nil, fmt.Errorf("read audit chains: %w", err)
	}
	for _, chain := range chains {
		prev := Record{Chain: chain}
		for {
			var batch []Record
			if err := db.Where("chain = ? AND chain_seq > ?", chain, prev.ChainSeq).Order("chain_seq").Limit(1000).
				Find(&batch).Error; err != nil {
				return checked, problems, fmt.Errorf("read audit log: %w", err)
			}
			for i := range batch {
				r := &batch[i]
				checked++
				if r.ChainSeq != prev.ChainSeq+1 {
					reason := fmt.Sprintf("records %d to %d are missing", prev.ChainSeq+1, r.ChainSeq-1)
					if chain != 0 {
						reason = fmt.Sprintf("records %d to %d of chain %d are missing", prev.ChainSeq+1, r.ChainSeq-1, chain)
					}
					problems = append(problems, Problem{r.Seq, ProblemMissing, reason})
				}
				if r.PrevHash != prev.Hash {
					problems = append(problems, Problem{r.Seq, ProblemLink, "link to the previous record is broken"})
				}
				if r.computeHash() != r.Hash {
					problems = append(problems, Problem{r.Seq, ProblemEdited, "content differs from what was recorded"})
				}
				prev = *r
			}
			if len(batch) < 1000 {
				break
			}
		}
	}
	// Shown in the log's order, whatever chain each is in.
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Seq < problems[j].Seq })
	return checked, problems, nil
}

// Filter narrows a listing; empty fields match everything.
type Filter struct {
	ActorID    string
	Action     string // prefix, e.g. "session."
	ObjectType string
	ObjectID   string
	From, To   time.Time
	BeforeSeq  int64 // for paging backwards from the newest
	Limit      int
}

// List returns records newest first.
func List(ctx context.Context, db *gorm.DB, f Filter) ([]Record, error) {
	q := db.WithContext(ctx).Model(&Record{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action LIKE ? ESCAPE '\\'", escapeLike(f.Action)+"%")
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To)
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var out []Record
	if err := q.Order("seq DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
