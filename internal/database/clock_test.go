package database_test

import (
	"testing"
	"time"

	"facility/internal/database"
)

// The clock read beside other columns is the clock Now reads, on each
// dialect (PostgreSQL only when FACILITY_TEST_DATABASE_URL is set).
func TestClockColumnIsTheDatabaseClock(t *testing.T) {
	dbs := map[string]*database.DB{"sqlite": openSQLite(t)}
	if pg := openPostgres(t); pg != nil {
		dbs["postgres"] = pg
	}
	for name, db := range dbs {
		var row struct {
			DBNow   database.Clock
			Version int64
		}
		res := db.Gorm.Raw("SELECT " + database.ClockColumn(db.Gorm) + " AS db_now, version FROM policy_version WHERE id = 1").Scan(&row)
		if res.Error != nil || res.RowsAffected != 1 {
			t.Fatalf("%s: %v, %d rows", name, res.Error, res.RowsAffected)
		}
		now, err := database.Now(db.Gorm)
		if err != nil {
			t.Fatal(err)
		}
		if d := now.Sub(row.DBNow.At); d < 0 || d > 5*time.Second || row.DBNow.At.Location() != time.UTC || row.Version == 0 {
			t.Fatalf("%s: clock column %v, Now %v, version %d", name, row.DBNow.At, now, row.Version)
		}
	}
}

func TestClockScansWhatEachDialectSends(t *testing.T) {
	want := time.Date(2026, 3, 1, 23, 59, 59, 123_000_000, time.UTC)
	for _, src := range []any{want.In(time.FixedZone("x", 3600)), "2026-03-01 23:59:59.123", []byte("2026-03-01 23:59:59.123")} {
		var c database.Clock
		if err := c.Scan(src); err != nil || !c.At.Equal(want) || c.At.Location() != time.UTC {
			t.Errorf("scan %#v: %v %v", src, c.At, err)
		}
	}
	for _, bad := range []any{nil, 42, "yesterday"} {
		var c database.Clock
		if err := c.Scan(bad); err == nil {
			t.Errorf("scan %#v: no error", bad)
		}
	}
}
