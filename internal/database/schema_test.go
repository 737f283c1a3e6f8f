package database_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/schema"

	"facility/internal/accounts"
	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/calls"
	"facility/internal/database"
	"facility/internal/mail"
	"facility/internal/organisations"
	"facility/internal/proposals"
	"facility/internal/screening"
)

var quiet = slog.New(slog.DiscardHandler)

func openSQLite(t *testing.T) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), "", filepath.Join(t.TempDir(), "f.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(context.Background(), quiet); err != nil {
		t.Fatal(err)
	}
	return db
}

func openPostgres(t *testing.T) *database.DB {
	t.Helper()
	base := apptest.PostgresURL()
	if base == "" {
		return nil
	}
	db, err := database.Open(context.Background(), apptest.NewSchema(t, base), "", database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(context.Background(), quiet); err != nil {
		t.Fatal(err)
	}
	return db
}

// column is a column as both dialects can describe it.
type column struct {
	Type     string // text, int, bool, time
	Nullable bool
}

type shape struct {
	Columns map[string]map[string]column // table -> column -> type
	Indexes map[string]string            // index name -> "table(unique) cols"
	Foreign map[string]string            // table.column -> table.column
}

func category(t string) string {
	t = strings.ToLower(t)
	switch {
	case strings.Contains(t, "time"):
		return "time"
	case strings.Contains(t, "bool"):
		return "bool"
	case strings.Contains(t, "int"), strings.Contains(t, "serial"):
		return "int"
	case strings.Contains(t, "char"), strings.Contains(t, "text"), t == "uuid":
		return "text"
	}
	return t
}

// ours leaves out the job queue's and the migration tool's own tables,
// which their libraries define per dialect.
func ours(table string) bool {
	return !strings.HasPrefix(table, "river_") && table != "goose_db_version" && !strings.HasPrefix(table, "sqlite_")
}

func describe(t *testing.T, db *database.DB) shape {
	t.Helper()
	g := db.Gorm
	s := shape{Columns: map[string]map[string]column{}, Indexes: map[string]string{}, Foreign: map[string]string{}}
	tables, err := g.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if !ours(tb) {
			continue
		}
		cols, err := g.Migrator().ColumnTypes(tb)
		if err != nil {
			t.Fatal(err)
		}
		s.Columns[tb] = map[string]column{}
		for _, c := range cols {
			n, _ := c.Nullable()
			pk, _ := c.PrimaryKey()
			s.Columns[tb][c.Name()] = column{Type: category(c.DatabaseTypeName()), Nullable: n && !pk}
		}
		idx, err := g.Migrator().GetIndexes(tb)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			if strings.HasSuffix(i.Name(), "_pkey") || strings.HasPrefix(i.Name(), "sqlite_autoindex") {
				continue
			}
			u, _ := i.Unique()
			cols := append([]string(nil), i.Columns()...)
			sort.Strings(cols) // GORM lists PostgreSQL index columns in table order
			s.Indexes[i.Name()] = fmt.Sprintf("%s(unique=%v) %s", tb, u, strings.Join(cols, ","))
		}
	}
	type fk struct{ Table, Col, RefTable, RefCol string }
	var fks []fk
	if db.Dialect == database.Postgres {
		err = g.Raw(`SELECT kcu.table_name AS table, kcu.column_name AS col, ccu.table_name AS ref_table, ccu.column_name AS ref_col
			FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema
			JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()`).Scan(&fks).Error
	} else {
		for tb := range s.Columns {
			var rows []struct{ Table, From, To string }
			if err := g.Raw("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)", tb).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				fks = append(fks, fk{tb, r.From, r.Table, r.To})
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fks {
		if ours(f.Table) {
			s.Foreign[f.Table+"."+f.Col] = f.RefTable + "." + f.RefCol
		}
	}
	return s
}

// TestSchemaAsCodeExpects checks that every field the code maps has its
// column, with a type the field can hold.
func TestSchemaAsCodeExpects(t *testing.T) {
	dbs := []*database.DB{openSQLite(t)}
	if pg := openPostgres(t); pg != nil {
		dbs = append(dbs, pg)
	}
	models := []any{&accounts.User{}, &accounts.Session{}, &accounts.APIToken{}, &organisations.Organisation{},
		&organisations.Member{}, &organisations.Invitation{}, &organisations.Relation{}, &audit.Record{}, &mail.Stored{},
		&screening.Reply{}, &calls.Call{}, &proposals.Proposal{}, &proposals.Round{}}
	for _, db := range dbs {
		s := describe(t, db)
		for _, m := range models {
			sch, err := schema.Parse(m, &sync.Map{}, db.Gorm.NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			cols, ok := s.Columns[sch.Table]
			if !ok {
				t.Errorf("%s: no table %s", db.Dialect, sch.Table)
				continue
			}
			for _, f := range sch.Fields {
				if f.DBName == "" || f.Readable && !f.Creatable && !f.Updatable {
					continue // read-only joins such as a member's name
				}
				c, ok := cols[f.DBName]
				if !ok {
					t.Errorf("%s: %s.%s missing", db.Dialect, sch.Table, f.DBName)
					continue
				}
				want := goCategory(f.FieldType)
				if c.Type != want {
					t.Errorf("%s: %s.%s is %s, the code holds %s", db.Dialect, sch.Table, f.DBName, c.Type, want)
				}
				if f.FieldType.Kind() == reflect.Pointer != c.Nullable {
					t.Errorf("%s: %s.%s nullable=%v but the field is %s", db.Dialect, sch.Table, f.DBName, c.Nullable, f.FieldType)
				}
			}
		}
	}
}

func goCategory(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return "time"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "int"
	}
	return "text"
}

// TestDialectsHaveTheSameSchema compares the two migration sets (run with
// FACILITY_TEST_DATABASE_URL, as CI does).
func TestDialectsHaveTheSameSchema(t *testing.T) {
	pg := openPostgres(t)
	if pg == nil {
		t.Skip("FACILITY_TEST_DATABASE_URL not set: PostgreSQL side not compared (CI runs it)")
	}
	a, b := describe(t, openSQLite(t)), describe(t, pg)
	compare(t, "columns", flattenColumns(a), flattenColumns(b))
	compare(t, "indexes", a.Indexes, b.Indexes)
	compare(t, "foreign keys", a.Foreign, b.Foreign)
}

func flattenColumns(s shape) map[string]string {
	out := map[string]string{}
	for tb, cols := range s.Columns {
		for c, d := range cols {
			out[tb+"."+c] = fmt.Sprintf("%s nullable=%v", d.Type, d.Nullable)
		}
	}
	return out
}

func compare(t *testing.T, what string, sqlite, postgres map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range sqlite {
		keys[k] = true
	}
	for k := range postgres {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if sqlite[k] != postgres[k] {
			t.Errorf("%s differ at %s: sqlite %q, postgres %q", what, k, sqlite[k], postgres[k])
		}
	}
}

func TestDatabaseClockAndReadiness(t *testing.T) {
	for _, db := range []*database.DB{openSQLite(t), openPostgres(t)} {
		if db == nil {
			continue
		}
		now, err := database.Now(db.Gorm)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(now); d < -time.Minute || d > time.Minute || now.Location() != time.UTC {
			t.Errorf("%s clock: %v (off by %v)", db.Dialect, now, d)
		}
		if err := db.Ready(context.Background()); err != nil {
			t.Errorf("%s not ready after migration: %v", db.Dialect, err)
		}
	}
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	for _, db := range []*database.DB{openSQLite(t), openPostgres(t)} {
		if db == nil {
			continue
		}
		ctx := context.Background()
		for range 3 {
			if err := db.MigrateDown(ctx, quiet); err != nil {
				t.Fatalf("%s down: %v", db.Dialect, err)
			}
		}
		if err := db.Ready(ctx); err == nil {
			t.Fatalf("%s ready with migrations rolled back", db.Dialect)
		}
		if err := db.MigrateUp(ctx, quiet); err != nil {
			t.Fatalf("%s up again: %v", db.Dialect, err)
		}
		var n int64
		if err := db.Gorm.Table("countries").Count(&n).Error; err != nil || n < 190 {
			t.Fatalf("%s countries after re-migration: %d %v", db.Dialect, n, err)
		}
	}
}
