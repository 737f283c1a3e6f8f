// Package jobs runs Facility's background work on River, a job queue kept in
// the database itself (PostgreSQL, or SQLite on a bare machine), so any
// instance can pick up any job and nothing is lost when one stops.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"facility/internal/database"
	"facility/internal/mail"
)

// Queue runs workers and accepts new jobs.
type Queue struct {
	insert func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	start  func(ctx context.Context) error
	stop   func(ctx context.Context) error
	sender *mail.Sender
	log    *slog.Logger
	files  FileSweeper
}

// FileSweeper removes stored files that no record points to (the
// attachments service): files a crash left between storing and recording.
type FileSweeper interface {
	Sweep(ctx context.Context, age time.Duration) (int, error)
}

// SweepFiles removes stored files without a record once they are 50
// minutes old; run every 10 minutes, an orphan is gone within the hour.
// (An upload in progress is not touched: its file keeps changing, and it
// gets its final name, and at once its record, only when complete.)
type SweepFiles struct{}

// Kind names the job in the queue table.
func (SweepFiles) Kind() string { return "sweep_files" }

type sweepFilesWorker struct {
	river.WorkerDefaults[SweepFiles]
	q *Queue
}

func (w *sweepFilesWorker) Work(ctx context.Context, _ *river.Job[SweepFiles]) error {
	if w.q.files == nil {
		return nil
	}
	n, err := w.q.files.Sweep(ctx, 50*time.Minute)
	if n > 0 {
		w.q.log.Info("removed stored files no record points to", "count", n)
	}
	return err
}

// SweepFilesWith sets what the periodic file sweep cleans; call it before Start.
func (q *Queue) SweepFilesWith(f FileSweeper) { q.files = f }

// DeliverMail sends one outbox message.
type DeliverMail struct {
	OutboxID string `json:"outbox_id"`
}

// Kind names the job in the queue table.
func (DeliverMail) Kind() string { return "deliver_mail" }

// SweepOutbox re-enqueues mail that a crash or an SMTP outage left unsent.
type SweepOutbox struct{}

// Kind names the job in the queue table.
func (SweepOutbox) Kind() string { return "sweep_outbox" }

type deliverWorker struct {
	river.WorkerDefaults[DeliverMail]
	q *Queue
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverMail]) error {
	err := w.q.sender.Deliver(ctx, job.Args.OutboxID)
	if errors.Is(err, mail.ErrAlreadySent) {
		return nil
	}
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepOutbox]
	q *Queue
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepOutbox]) error {
	if !w.q.sender.Enabled() {
		return nil
	}
	ids, err := w.q.sender.Unsent(ctx, time.Minute, 500)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := w.q.insert(ctx, DeliverMail{OutboxID: id}, nil); err != nil {
			return fmt.Errorf("enqueue mail %s: %w", id, err)
		}
	}
	return nil
}

// New builds the queue for db. Workers run only after Start.
func New(db *database.DB, sender *mail.Sender, log *slog.Logger) (*Queue, error) {
	q := &Queue{sender: sender, log: log}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{q: q})
	river.AddWorker(workers, &sweepWorker{q: q})
	river.AddWorker(workers, &sweepFilesWorker{q: q})
	cfg := &river.Config{
		Logger:  log.With("component", "jobs"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return SweepOutbox{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return SweepFiles{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	}
	if db.Dialect == database.Postgres {
		c, err := river.NewClient(riverpgxv5.New(db.Pool), cfg)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.insert = func(ctx context.Context, a river.JobArgs, o *river.InsertOpts) error {
			_, err := c.Insert(ctx, a, o)
			return err
		}
		q.start, q.stop = c.Start, c.Stop
		return q, nil
	}
	c, err := river.NewClient(riversqlite.New(db.SQL), cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.insert = func(ctx context.Context, a river.JobArgs, o *river.InsertOpts) error {
		_, err := c.Insert(ctx, a, o)
		return err
	}
	q.start, q.stop = c.Start, c.Stop
	return q, nil
}

// Start runs the workers until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop lets running jobs finish, up to ctx's deadline.
func (q *Queue) Stop(ctx context.Context) error { return q.stop(ctx) }

// MailQueued is called after a transaction that queued mail committed. With
// no SMTP server the message stays in the outbox, which is logged; a failed
// enqueue is picked up by the sweep.
func (q *Queue) MailQueued(ctx context.Context, ids ...string) {
	for _, id := range ids {
		if !q.sender.Enabled() {
			q.log.Info("mail kept in outbox (no SMTP server configured)", "outbox_id", id)
			continue
		}
		if err := q.insert(ctx, DeliverMail{OutboxID: id}, nil); err != nil {
			q.log.Warn("enqueue mail; the sweep will retry", "outbox_id", id, "error", err)
		}
	}
}
