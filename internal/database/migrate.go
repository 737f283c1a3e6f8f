package database

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"facility/migrations"
)

// Versions of the Go migrations, numbered among the SQL files.
const (
	referenceDataVersion = 2
	riverVersion         = 3
)

// referenceTables are loaded from migrations/data/<table>.csv in this order,
// parents before children.
var referenceTables = []string{
	"ilo_regions", "ilo_subregions", "countries", "income_groups",
	"organisation_types", "thematic_facilities", "iso_processes", "indicators",
}

func (db *DB) migrator(log *slog.Logger) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(log),
		goose.WithGoMigrations(
			goose.NewGoMigration(referenceDataVersion,
				&goose.GoFunc{RunTx: db.loadReferenceData},
				&goose.GoFunc{RunTx: db.unloadReferenceData}),
			goose.NewGoMigration(riverVersion,
				&goose.GoFunc{RunDB: db.migrateRiver(rivermigrate.DirectionUp)},
				&goose.GoFunc{RunDB: db.migrateRiver(rivermigrate.DirectionDown)}),
		),
	}
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several instances starting at once: one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.SQL, migrations.SQL(db.Dialect), opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration.
func (db *DB) MigrateUp(ctx context.Context, log *slog.Logger) error {
	p, err := db.migrator(log)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// MigrateDown rolls back the latest migration.
func (db *DB) MigrateDown(ctx context.Context, log *slog.Logger) error {
	p, err := db.migrator(log)
	if err != nil {
		return err
	}
	r, err := p.Down(ctx)
	if err != nil {
		return fmt.Errorf("roll back migration: %w", err)
	}
	log.Info("migration rolled back", "version", r.Source.Version)
	return nil
}

// MigrationStatus lists each migration and when it was applied.
func (db *DB) MigrationStatus(ctx context.Context, w io.Writer) error {
	p, err := db.migrator(slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("read migration status: %w", err)
	}
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		name := s.Source.Path
		if name == "" {
			name = fmt.Sprintf("go migration %d", s.Source.Version)
		}
		fmt.Fprintf(w, "%5d  %-40s %s\n", s.Source.Version, name, applied)
	}
	return nil
}

func (db *DB) placeholder(i int) string {
	if db.Dialect == Postgres {
		return "$" + strconv.Itoa(i)
	}
	return "?"
}

func (db *DB) loadReferenceData(ctx context.Context, tx *sql.Tx) error {
	data := migrations.Data()
	for _, table := range referenceTables {
		f, err := data.Open(table + ".csv")
		if err != nil {
			return fmt.Errorf("reference data %s: %w", table, err)
		}
		err = db.loadCSV(ctx, tx, table, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("reference data %s: %w", table, err)
		}
	}
	return nil
}

func (db *DB) loadCSV(ctx context.Context, tx *sql.Tx, table string, f fs.File) error {
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	marks := make([]string, len(header))
	for i := range header {
		marks[i] = db.placeholder(i + 1)
	}
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)",
		table, strings.Join(header, ", "), strings.Join(marks, ", ")))
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer stmt.Close()
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		args := make([]any, len(rec))
		for i, v := range rec {
			args[i] = typedValue(header[i], v)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

// typedValue converts CSV text for the few non-text reference columns.
func typedValue(column, v string) any {
	switch column {
	case "is_constituent":
		return v == "true"
	case "position", "goal", "fiscal_year":
		n, err := strconv.Atoi(v)
		if err != nil {
			return v // the insert then fails with the database's own message
		}
		return n
	}
	return v
}

func (db *DB) unloadReferenceData(ctx context.Context, tx *sql.Tx) error {
	for i := len(referenceTables) - 1; i >= 0; i-- {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+referenceTables[i]); err != nil {
			return fmt.Errorf("remove reference data %s: %w", referenceTables[i], err)
		}
	}
	return nil
}

// migrateRiver runs the job queue's own migrations under goose's lock, so
// the queue's schema moves with ours and is applied once across instances.
func (db *DB) migrateRiver(dir rivermigrate.Direction) func(context.Context, *sql.DB) error {
	return func(ctx context.Context, _ *sql.DB) error {
		opts := &rivermigrate.MigrateOpts{}
		if dir == rivermigrate.DirectionDown {
			opts.TargetVersion = -1
		}
		var err error
		if db.Dialect == Postgres {
			mg, e := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
			if e != nil {
				return fmt.Errorf("job queue migrator: %w", e)
			}
			_, err = mg.Migrate(ctx, dir, opts)
		} else {
			mg, e := rivermigrate.New(riversqlite.New(db.SQL), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
			if e != nil {
				return fmt.Errorf("job queue migrator: %w", e)
			}
			_, err = mg.Migrate(ctx, dir, opts)
		}
		if err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		return nil
	}
}
