package audit

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"facility/internal/database"
)

// Item is one entry with who acted, for AppendMany.
type Item struct {
	Actor Actor
	Entry Entry
}

// AppendMany writes entries inside tx, the transaction of the changes they
// record, with one chain head and one insert however many there are. A
// transaction writes all its records in the first chain it locks (on
// PostgreSQL the chain of the first entry's domain, unless tx holds one
// already; chain 0 on SQLite), each record linked to the one before it.
func AppendMany(tx *gorm.DB, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	var head struct {
		Chain    int
		ChainSeq int64
		Hash     string
		Seq      int64
	}
	pg := tx.Dialector.Name() == "postgres"
	if pg {
		// Locks the chain until the transaction ends (migration 00008).
		if err := tx.Raw("SELECT chain, chain_seq, hash FROM audit_chain_head(?)", chainOf(items[0].Entry.Domain)).Scan(&head).Error; err != nil {
			return fmt.Errorf("lock audit chain: %w", err)
		}
	} else if err := tx.Model(&Record{}).Select("chain, chain_seq, hash, seq").Where("chain = 0").
		Order("chain_seq DESC").Limit(1).Scan(&head).Error; err != nil {
		return fmt.Errorf("read audit chain head: %w", err)
	}
	var now time.Time
	records := make([]Record, len(items))
	prev := head.Hash
	for i, it := range items {
		at := it.Entry.At
		if at.IsZero() {
			if now.IsZero() {
				var err error
				if now, err = database.Now(tx); err != nil {
					return err
				}
			}
			at = now
		}
		details := "{}"
		if len(it.Entry.Details) > 0 {
			b, err := json.Marshal(it.Entry.Details)
			if err != nil {
				return fmt.Errorf("encode audit details: %w", err)
			}
			details = string(b)
		}
		r := &records[i]
		*r = Record{
			Chain:      head.Chain,
			ChainSeq:   head.ChainSeq + 1 + int64(i),
			ID:         database.NewID(),
			At:         at.Truncate(time.Microsecond),
			ActorID:    it.Actor.UserID,
			Action:     it.Entry.Action,
			ObjectType: it.Entry.ObjectType,
			ObjectID:   it.Entry.ObjectID,
			Domain:     it.Entry.Domain,
			IP:         it.Actor.IP,
			RequestID:  it.Actor.RequestID,
			Details:    details,
			PrevHash:   prev,
		}
		if !pg {
			r.Seq = head.Seq + 1 + int64(i)
		}
		r.Hash = r.computeHash()
		prev = r.Hash
	}
	// On PostgreSQL the sequence numbers the rows in the order given, so the
	// log's order follows the chain's.
	if err := tx.CreateInBatches(&records, len(records)).Error; err != nil {
		return fmt.Errorf("write audit records: %w", err)
	}
	return nil
}
