package proposals_test

import (
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/proposals"
	"facility/internal/screening"
)

// receiptSubject is the subject of the latest receipt mailed for p's receipt number.
func (f fixture) receiptSubject(t *testing.T, p *proposals.Proposal) string {
	t.Helper()
	var subject string
	got, _ := f.env.Proposals.Get(t.Context(), p.ID)
	if err := f.env.DB.Gorm.Table("outbox").Select("subject").Where("kind = 'proposal_receipt' AND subject LIKE ?", "%"+got.ReceiptNumber+"%").
		Take(&subject).Error; err != nil {
		t.Fatalf("receipt of %s: %v", got.ReceiptNumber, err)
	}
	return subject
}

// A two-round call's receipts say which round they are for, whether the
// proposal was submitted alone or at the submission desk; a one-round
// call's receipt says "proposal".
func TestReceiptMailNamesTheRound(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	one := f.complete(t)
	if _, err := f.env.Proposals.Submit(ctx, f.actor, one.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if s := f.receiptSubject(t, one); !strings.Contains(s, "your proposal was submitted") {
		t.Errorf("one-round receipt: %q", s)
	}

	c, mgr := f.env.PublishedCall(apptest.TwoRoundCallInput(-time.Hour, time.Hour, 48*time.Hour))
	manager := audit.Actor{UserID: mgr, IP: "127.0.0.1", RequestID: "test"}
	g := f
	g.call = c
	alone, desk := g.complete(t), g.complete(t)
	if _, err := f.env.Proposals.Submit(ctx, f.actor, alone.ID, "en"); err != nil {
		t.Fatal(err)
	}
	if out := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{f.sub(desk, "k-concept")}); out[0].Err != nil {
		t.Fatal(out[0].Err)
	}
	for _, p := range []*proposals.Proposal{alone, desk} {
		if s := f.receiptSubject(t, p); !strings.Contains(s, "concept note") {
			t.Errorf("concept note receipt: %q", s)
		}
	}
	ids := []string{alone.ID, desk.ID}
	if err := f.env.Screening.Decide(ctx, manager, c.ID, ids, screening.Eligible, "", "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Screening.Invite(ctx, manager, c.ID, ids, "", "en"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p, _ := f.env.Proposals.Get(ctx, id)
		if _, err := f.env.Proposals.Save(ctx, f.actor, id, proposals.SaveInput{Version: p.Version, Answers: map[string]any{"workplan": "Plan."}}); err != nil {
			t.Fatal(err)
		}
	}
	// The other way round for the full proposals.
	if out := f.env.Proposals.SubmitAll(ctx, []proposals.Submission{f.sub(alone, "k-full")}); out[0].Err != nil {
		t.Fatal(out[0].Err)
	}
	if _, err := f.env.Proposals.Submit(ctx, f.actor, desk.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	if s := f.receiptSubject(t, alone); !strings.Contains(s, "your full proposal was submitted") {
		t.Errorf("full proposal receipt from the desk: %q", s)
	}
	if s := f.receiptSubject(t, desk); !strings.Contains(s, "votre proposition complète a été soumise") {
		t.Errorf("full proposal receipt in French: %q", s)
	}
}
