// Package app wires Facility together: configuration, database, services,
// job queue and HTTP application. The facility command and the tests build
// the same application through it, so what is tested is what runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"facility/internal/accounts"
	"facility/internal/attachments"
	"facility/internal/authz"
	"facility/internal/blob"
	"facility/internal/calls"
	"facility/internal/config"
	"facility/internal/database"
	"facility/internal/i18n"
	"facility/internal/jobs"
	"facility/internal/mail"
	"facility/internal/organisations"
	"facility/internal/proposals"
	"facility/internal/screening"
	"facility/internal/web"
	"facility/ui"
)

// App is a running Facility.
type App struct {
	Config        *config.Config
	DB            *database.DB
	Authz         *authz.Enforcer
	Accounts      *accounts.Service
	Organisations *organisations.Service
	Calls         *calls.Service
	Proposals     *proposals.Service
	Desk          *proposals.Desk
	Blobs         *blob.Store
	Attachments   *attachments.Service
	Screening     *screening.Service
	Text          *i18n.Catalogue
	Jobs          *jobs.Queue
	Web           *web.Server
	Log           *slog.Logger
	stopWatch     context.CancelFunc
}

// Logger returns the JSON logger on standard error at the configured level.
func Logger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// OpenDatabase connects to the configured database.
func OpenDatabase(ctx context.Context, cfg *config.Config) (*database.DB, error) {
	return database.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath(), database.Options{MaxOpenConns: cfg.DatabaseMaxConns})
}

// New builds the application on a migrated database. Workers start only
// with Start.
func New(ctx context.Context, cfg *config.Config, db *database.DB, log *slog.Logger, version string) (*App, error) {
	text, err := i18n.Load(ui.Locales())
	if err != nil {
		return nil, err
	}
	enf, err := authz.New(ctx, db, log)
	if err != nil {
		return nil, err
	}
	sender := mail.NewSender(db.Gorm, cfg.SMTP, log)
	q, err := jobs.New(db, sender, log)
	if err != nil {
		return nil, err
	}
	acc := accounts.New(db.Gorm, accounts.Settings{
		IdleTimeout: cfg.SessionIdleTimeout, AbsoluteTimeout: cfg.SessionAbsoluteTimeout, PublicURL: cfg.PublicURL(),
	}, text, enf, q.MailQueued, log)
	orgs := organisations.New(db.Gorm, text, cfg.PublicURL(), q.MailQueued, enf)
	cs := calls.New(db.Gorm)
	ps := proposals.New(db.Gorm, cs, text, cfg.PublicURL(), q.MailQueued)
	// One transaction at a time: with two, the batches only got smaller and
	// submissions no faster (measured on two cores).
	desk := proposals.NewDesk(ps, 1)
	loc, err := cfg.BlobLocation()
	if err != nil {
		return nil, err
	}
	blobs, err := blob.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	atts := attachments.New(db.Gorm, blobs, cs, log, attachments.Options{})
	q.SweepFilesWith(atts)
	scr := screening.New(db.Gorm, text, cfg.PublicURL(), q.MailQueued)
	w, err := web.New(web.Deps{Config: cfg, DB: db, Accounts: acc, Organisations: orgs, Calls: cs, Proposals: ps, Desk: desk, Blobs: blobs, Attachments: atts, Screening: scr, Authz: enf, Text: text, Log: log, Version: version})
	if err != nil {
		return nil, fmt.Errorf("web application: %w", err)
	}
	return &App{Config: cfg, DB: db, Authz: enf, Accounts: acc, Organisations: orgs, Calls: cs, Proposals: ps, Desk: desk, Blobs: blobs, Attachments: atts, Screening: scr, Text: text, Jobs: q, Web: w, Log: log}, nil
}

// Start runs the background work: the job queue, the policy watcher, the
// batches that identify requests and read proposals, and the submission
// desk.
func (a *App) Start(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	a.stopWatch = cancel
	go a.Authz.Watch(wctx, 2*time.Second)
	a.Accounts.StartBatches()
	a.Proposals.StartBatches()
	a.Desk.Start()
	return nil
}

// Stop ends background work; the database is closed by its opener.
func (a *App) Stop(ctx context.Context) {
	if a.stopWatch != nil {
		a.stopWatch()
	}
	// Submissions already at the desk are made before the queue stops.
	a.Desk.Stop()
	a.Proposals.StopBatches()
	a.Accounts.StopBatches()
	if err := a.Jobs.Stop(ctx); err != nil {
		a.Log.Warn("stop job queue", "error", err)
	}
	a.Authz.Close()
	if err := a.Blobs.Close(); err != nil {
		a.Log.Warn("close blob store", "error", err)
	}
}
