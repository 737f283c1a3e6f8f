package database

import (
	"database/sql/driver"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// sqliteClockLayout is how the SQLite clock expression prints the time.
const sqliteClockLayout = "2006-01-02 15:04:05.000"

// ClockColumn is the SQL expression of the database clock (the same clock
// as Now), to select beside other columns so that reading it costs no round
// trip of its own. Scan it into a Clock.
func ClockColumn(tx *gorm.DB) string {
	if tx.Dialector.Name() == Postgres {
		return "now()"
	}
	return "strftime('%Y-%m-%d %H:%M:%f', 'now')"
}

// Clock receives the value of ClockColumn: a timestamp on PostgreSQL, text
// on SQLite.
type Clock struct{ At time.Time }

// Scan implements sql.Scanner.
func (c *Clock) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		c.At = v.UTC()
		return nil
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	}
	return fmt.Errorf("read database clock: unexpected %T", src)
}

func (c *Clock) parse(s string) error {
	t, err := time.Parse(sqliteClockLayout, s)
	if err != nil {
		return fmt.Errorf("parse database clock %q: %w", s, err)
	}
	c.At = t.UTC()
	return nil
}

// Value implements driver.Valuer (GORM needs it to treat Clock as a column).
func (c Clock) Value() (driver.Value, error) { return c.At, nil }
