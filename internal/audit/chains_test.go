package audit_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/database"
)

// Many organisations writing at once, several records per transaction and
// some organisations in several transactions: no deadlock, no fork, every
// chain intact, and each transaction's records in one chain.
func TestConcurrentWritersKeepEveryChainIntact(t *testing.T) {
	env := apptest.New(t)
	db := env.DB.Gorm
	orgs := make([]string, 12)
	for i := range orgs {
		orgs[i] = "org:" + database.NewID()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.WithContext(t.Context()).Transaction(func(tx *gorm.DB) error {
				// A transaction recording changes in two organisations and
				// the system: it keeps the chain of its first record.
				for _, dom := range []string{orgs[i%len(orgs)], orgs[(i+5)%len(orgs)], "system"} {
					if err := audit.Append(tx, audit.Actor{RequestID: fmt.Sprint(i)}, audit.Entry{Action: "test.concurrent",
						ObjectType: "thing", ObjectID: fmt.Sprint(i), Domain: dom}); err != nil {
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checked, problems, err := audit.Verify(t.Context(), db)
	if err != nil || len(problems) != 0 {
		t.Fatalf("chains after concurrent writers: %v %+v", err, problems)
	}
	var rows []struct {
		RequestID string
		Chains    int
	}
	db.Raw("SELECT request_id, COUNT(DISTINCT chain) AS chains FROM audit_log WHERE action = 'test.concurrent' GROUP BY request_id").Scan(&rows)
	if len(rows) != 60 {
		t.Fatalf("transactions recorded: %d", len(rows))
	}
	for _, r := range rows {
		if r.Chains != 1 {
			t.Fatalf("transaction %s wrote to %d chains", r.RequestID, r.Chains)
		}
	}
	var chains int
	db.Raw("SELECT COUNT(DISTINCT chain) FROM audit_log WHERE action = 'test.concurrent'").Scan(&chains)
	if env.DB.Dialect == "postgres" && chains < 2 {
		t.Fatalf("organisations' records all in %d chain", chains)
	}
	if env.DB.Dialect != "postgres" && chains != 1 {
		t.Fatalf("SQLite used %d chains", chains)
	}
	if checked < 180 {
		t.Fatalf("checked %d records", checked)
	}
}

// A record removed from an organisation's chain is reported there, with
// the positions missing in that chain.
func TestVerifyFindsARecordRemovedFromAnOrganisationsChain(t *testing.T) {
	env := apptest.New(t)
	db := env.DB.Gorm
	dom := "org:" + database.NewID()
	for i := range 4 {
		if err := audit.Write(t.Context(), db, audit.Actor{}, audit.Entry{Action: "test.org", ObjectID: fmt.Sprint(i), Domain: dom}); err != nil {
			t.Fatal(err)
		}
	}
	var recs []audit.Record
	db.Where("action = 'test.org'").Order("chain_seq").Find(&recs)
	if len(recs) != 4 {
		t.Fatalf("records: %d", len(recs))
	}
	if env.DB.Dialect == "postgres" {
		if recs[0].Chain == 0 {
			t.Fatal("an organisation's records are in chain 0")
		}
		if err := db.Exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").Error; err != nil {
			t.Fatal(err)
		}
	} else if err := db.Exec("DROP TRIGGER audit_log_no_delete").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("DELETE FROM audit_log WHERE seq = ?", recs[1].Seq).Error; err != nil {
		t.Fatal(err)
	}
	p := verify(t, db)
	if len(p) != 2 || p[0].Seq != recs[2].Seq || p[0].Kind != audit.ProblemMissing || p[1].Kind != audit.ProblemLink {
		t.Fatalf("removed record: %+v", p)
	}
	if recs[0].Chain != 0 && !strings.Contains(p[0].Reason, fmt.Sprintf("of chain %d", recs[0].Chain)) {
		t.Fatalf("reason does not name the chain: %q", p[0].Reason)
	}
}
