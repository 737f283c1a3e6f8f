// Package database opens Facility's database (PostgreSQL, or the embedded
// pure-Go SQLite file when no URL is configured), applies the embedded
// migrations and answers readiness. It is the one place that knows the two
// dialects apart.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DB is an open database: GORM for domain code, the *sql.DB beneath it for
// migrations, and on PostgreSQL the pgx pool that River and the policy
// watcher share.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Pool    *pgxpool.Pool // nil on SQLite
	Dialect string
	URL     string // PostgreSQL URL, empty on SQLite
}

// Options size the connection pool.
type Options struct {
	MaxOpenConns int
}

// Open connects to PostgreSQL when url is set, otherwise opens (creating if
// needed) the SQLite file at sqlitePath.
func Open(ctx context.Context, url, sqlitePath string, opt Options) (*DB, error) {
	if opt.MaxOpenConns == 0 {
		opt.MaxOpenConns = 20
	}
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	}
	if url != "" {
		pcfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("parse database URL: %w", err)
		}
		pcfg.MaxConns = int32(opt.MaxOpenConns)
		// Stored times are UTC whatever the server's zone.
		pcfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
		// A transaction left idle (a bug, a killed client) must not hold locks for long.
		pcfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "30000"
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		sqlDB := stdlib.OpenDBFromPool(pool)
		g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open gorm on PostgreSQL: %w", err)
		}
		return &DB{Gorm: g, SQL: sqlDB, Pool: pool, Dialect: Postgres, URL: url}, nil
	}

	if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	// WAL lets readers work beside one writer; immediate transactions take the
	// write lock up front so two writers wait instead of failing to upgrade.
	dsn := "file:" + sqlitePath + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(15000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	g, err := gorm.Open(sqlite.Open(dsn), gcfg)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", sqlitePath, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("SQLite handle: %w", err)
	}
	sqlDB.SetMaxOpenConns(4)
	return &DB{Gorm: g, SQL: sqlDB, Dialect: SQLite}, nil
}

// Close releases the connections.
func (db *DB) Close() error {
	err := db.SQL.Close()
	if db.Pool != nil {
		db.Pool.Close()
	}
	return err
}

// Now is the database clock: the transaction's start time on PostgreSQL, the
// current time on SQLite. Decisions such as deadlines use it, not the
// application server's clock.
func Now(tx *gorm.DB) (time.Time, error) {
	var c struct{ DBNow Clock }
	if err := tx.Raw("SELECT " + ClockColumn(tx) + " AS db_now").Scan(&c).Error; err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return c.DBNow.At, nil
}

// Ready reports whether the database answers and every migration is applied.
func (db *DB) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.SQL.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	p, err := db.migrator(slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read migration state: %w", err)
	}
	if pending {
		return fmt.Errorf("migrations pending")
	}
	return nil
}
