package mail

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"facility/internal/database"
)

// QueueMany writes messages to the outbox inside tx in one insert and
// returns their ids, in order. Each message must carry At (the caller has
// read the database clock in tx).
func QueueMany(tx *gorm.DB, ms []Message) ([]string, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	rows := make([]Stored, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
			// Header injection: never let user text start a new header line.
			return nil, fmt.Errorf("mail header contains a line break")
		}
		if m.At.IsZero() {
			return nil, fmt.Errorf("queue mail: no time given")
		}
		ids[i] = database.NewID()
		rows[i] = Stored{ID: ids[i], ToAddress: m.To, Subject: m.Subject, Body: m.Body, Kind: m.Kind, CreatedAt: m.At}
	}
	if err := tx.CreateInBatches(&rows, len(rows)).Error; err != nil {
		return nil, fmt.Errorf("write outbox: %w", err)
	}
	return ids, nil
}
