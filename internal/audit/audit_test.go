package audit_test

import (
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"facility/internal/apptest"
	"facility/internal/audit"
)

func write(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	for i := range n {
		if err := audit.Write(t.Context(), db, audit.Actor{UserID: "u", IP: "192.0.2.1", RequestID: fmt.Sprint(i)},
			audit.Entry{Action: "test.event", ObjectType: "thing", ObjectID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, db *gorm.DB) []audit.Problem {
	t.Helper()
	_, problems, err := audit.Verify(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

// The log refuses changes from the application; a superuser who bypasses
// that (triggers dropped or disabled) is caught by Verify, for an edited
// record and for a removed one.
func TestVerifyCatchesEditedAndRemovedRecords(t *testing.T) {
	env := apptest.New(t)
	db := env.DB.Gorm
	write(t, db, 10)
	var last int64
	if err := db.Raw("SELECT MAX(seq) FROM audit_log").Scan(&last).Error; err != nil {
		t.Fatal(err)
	}
	if p := verify(t, db); len(p) != 0 {
		t.Fatalf("intact log reported broken: %+v", p)
	}
	edit, remove := last-6, last-3
	if err := db.Exec("UPDATE audit_log SET object_id = 'forged' WHERE seq = ?", edit).Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of the audit log: %v", err)
	}
	if err := db.Exec("DELETE FROM audit_log WHERE seq = ?", remove).Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("delete from the audit log: %v", err)
	}
	if env.DB.Dialect == "postgres" {
		if err := db.Exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").Error; err != nil {
			t.Fatal(err)
		}
	} else {
		for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete"} {
			if err := db.Exec("DROP TRIGGER " + trg).Error; err != nil {
				t.Fatal(err)
			}
		}
	}

	if err := db.Exec("UPDATE audit_log SET object_id = 'forged' WHERE seq = ?", edit).Error; err != nil {
		t.Fatal(err)
	}
	p := verify(t, db)
	if len(p) != 1 || p[0].Seq != edit || !strings.Contains(p[0].Reason, "content differs") {
		t.Fatalf("edited record: %+v", p)
	}
	if err := db.Exec("UPDATE audit_log SET object_id = ? WHERE seq = ?", fmt.Sprint(edit-last+9), edit).Error; err != nil {
		t.Fatal(err)
	}
	if p := verify(t, db); len(p) != 0 {
		t.Fatalf("restored record still reported: %+v", p)
	}

	if err := db.Exec("DELETE FROM audit_log WHERE seq = ?", remove).Error; err != nil {
		t.Fatal(err)
	}
	p = verify(t, db)
	if len(p) != 2 || p[0].Seq != remove+1 || !strings.Contains(p[0].Reason, "missing") || !strings.Contains(p[1].Reason, "link") {
		t.Fatalf("removed record: %+v", p)
	}

	// Rewriting the rest of the chain does not help without the hashes of
	// everything after: editing the record and recomputing its own hash
	// still breaks the next link.
	var r audit.Record
	if err := db.Where("seq = ?", last).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE audit_log SET prev_hash = 'x' WHERE seq = ?", last).Error; err != nil {
		t.Fatal(err)
	}
	if p := verify(t, db); len(p) != 4 {
		t.Fatalf("forged link: %+v", p)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	env := apptest.New(t)
	db := env.DB.Gorm
	write(t, db, 30)
	page, err := audit.List(t.Context(), db, audit.Filter{Action: "test.", Limit: 20})
	if err != nil || len(page) != 20 || page[0].Seq <= page[19].Seq {
		t.Fatalf("first page: %d %v", len(page), err)
	}
	rest, err := audit.List(t.Context(), db, audit.Filter{Action: "test.", Limit: 20, BeforeSeq: page[19].Seq})
	if err != nil || len(rest) != 10 || rest[0].Seq != page[19].Seq-1 {
		t.Fatalf("second page: %d %v", len(rest), err)
	}
	// LIKE wildcards in the prefix are taken literally.
	if got, _ := audit.List(t.Context(), db, audit.Filter{Action: "test_"}); len(got) != 0 {
		t.Fatalf("underscore matched as a wildcard: %d", len(got))
	}
	if got, _ := audit.List(t.Context(), db, audit.Filter{ObjectType: "thing", ObjectID: "7"}); len(got) != 1 || got[0].RequestID != "7" {
		t.Fatalf("object filter: %+v", got)
	}
}
