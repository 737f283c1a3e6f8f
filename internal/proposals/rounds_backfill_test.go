package proposals_test

import (
	"log/slog"
	"testing"

	"facility/internal/proposals"
)

// Migration 00009 gives a proposal submitted before round records were
// written the record a submission makes now, and leaves drafts alone.
func TestMigrationRecordsEarlierSubmissions(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	draft := f.complete(t)
	old := f.complete(t)
	// Submitted the old way: the row says so, and no round record exists.
	if err := f.env.DB.Gorm.Exec(`UPDATE proposals SET status = ?, submitted_at = updated_at, submitted_by = ?,
		content_hash = 'hash-before-rounds', receipt_number = 'OLD-0001' WHERE id = ?`,
		proposals.StatusSubmitted, f.actor.UserID, old.ID).Error; err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if err := f.env.DB.MigrateDown(ctx, log); err != nil {
		t.Fatal(err)
	}
	if err := f.env.DB.MigrateUp(ctx, log); err != nil {
		t.Fatal(err)
	}
	rounds, err := f.env.Proposals.Rounds(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 1 || rounds[0].ReceiptNumber != "OLD-0001" || rounds[0].ContentHash != "hash-before-rounds" ||
		rounds[0].SubmittedBy != f.actor.UserID || rounds[0].Answers.V["summary"] == nil {
		t.Fatalf("backfilled rounds %+v", rounds)
	}
	if rounds, err := f.env.Proposals.Rounds(ctx, draft.ID); err != nil || len(rounds) != 0 {
		t.Fatalf("a draft got rounds: %+v %v", rounds, err)
	}
	// Applied once more, it adds nothing.
	if err := f.env.DB.MigrateDown(ctx, log); err != nil {
		t.Fatal(err)
	}
	if err := f.env.DB.MigrateUp(ctx, log); err != nil {
		t.Fatal(err)
	}
	if rounds, _ := f.env.Proposals.Rounds(ctx, old.ID); len(rounds) != 1 {
		t.Fatalf("%d records after a second backfill", len(rounds))
	}
}
