package proposals_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/proposals"
)

// A required file question is complete once a file is stored for it:
// uploads store attachments and write no answer.
func TestRequiredFileQuestionCountsStoredFiles(t *testing.T) {
	env := apptest.New(t)
	in := apptest.CallInput(-time.Hour, 24*time.Hour)
	for i, q := range in.Form.Sections[0].Questions {
		if q.ID == "plan" {
			in.Form.Sections[0].Questions[i].Required = true
		}
	}
	c, _ := env.PublishedCall(in)
	u, org := env.Applicant("ama@example.org", "Ghana Cocoa Cooperative")
	f := fixture{env: env, call: c, actor: audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "test"}, org: org}
	p := f.complete(t)

	missing, err := env.Proposals.Missing(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || !missing.Has("answers.plan") {
		t.Fatalf("before any file, missing: %v (want only the work plan)", missing)
	}
	a := proposals.Attachment{ID: uuid.NewString(), ProposalID: p.ID, QuestionID: "plan", Filename: "plan.pdf", ContentType: "application/pdf",
		SizeBytes: 9, SHA256: "0000000000000000000000000000000000000000000000000000000000000000", BlobKey: "test/plan", Status: "clean",
		UploadedBy: u.ID, CreatedAt: time.Now().UTC()}
	if err := env.DB.Gorm.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	if missing, err = env.Proposals.Missing(t.Context(), p); err != nil || len(missing) != 0 {
		t.Fatalf("with the work plan stored, missing: %v, %v (want nothing)", missing, err)
	}
	if _, err := env.Proposals.Submit(t.Context(), f.actor, p.ID, "fr"); err != nil {
		t.Fatalf("submit with the required file stored: %v", err)
	}
}
