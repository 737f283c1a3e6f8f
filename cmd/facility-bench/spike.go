package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"facility/internal/accounts"
	"facility/internal/app"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/config"
	"facility/internal/database"
	"facility/internal/demo"
	"facility/internal/proposals"
)

// applicant is one prepared submitter: a bearer token and a complete draft.
type applicant struct {
	token, proposal string
}

// benchSpike: N applicants with complete drafts submit within a window
// against a running server, half of them in the last tenth; the database is
// checked afterwards for lost and duplicate submissions. A baseline (a bare
// Echo handler doing one INSERT into the same database) and the submit
// throughput at saturation are measured in the same run.
func benchSpike(ctx context.Context, args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("spike", flag.ContinueOnError)
	n := fs.Int("n", 1000, "applicants submitting in the window")
	window := fs.Duration("window", 60*time.Second, "submission window")
	saturation := fs.Int("saturation", 8000, "extra drafts submitted as fast as possible to measure throughput, shared out between the levels of -concurrency")
	levels := fs.String("concurrency", "32,128", "numbers of clients at saturation, comma-separated: throughput at saturation is the best of them, for submits and baseline alike")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	clients, err := parseLevels(*levels)
	if err != nil {
		return nil, err
	}
	url := os.Getenv("FACILITY_DATABASE_URL")
	if url == "" {
		return nil, errors.New("spike needs FACILITY_DATABASE_URL: a PostgreSQL database it may fill and empty")
	}
	if err := emptyPostgres(ctx, url); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "facility-spike-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	logf("spike: preparing %d + %d applicants with complete drafts", *n, *saturation)
	people, err := prepareApplicants(ctx, url, dir, *n+*saturation, *window+2*time.Minute)
	if err != nil {
		return nil, err
	}
	bin, err := buildBinary(ctx, dir)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, bin, []string{"FACILITY_DATABASE_URL=" + url, "FACILITY_DATA_DIR=" + filepath.Join(dir, "data")})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if _, err := srv.waitReady(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}

	// The spike: open-loop arrivals, half spread over the first nine tenths
	// of the window and half over the last tenth.
	spike := people[:*n]
	at := make([]time.Duration, len(spike))
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := range at {
		if i%2 == 0 {
			at[i] = time.Duration(rng.Float64() * 0.9 * float64(*window))
		} else {
			at[i] = time.Duration((0.9 + rng.Float64()*0.1) * float64(*window))
		}
	}
	logf("spike: %d submissions over %v", len(spike), *window)
	results := make([]result, len(spike))
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range spike {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(at[i])))
			results[i] = submit(ctx, client, srv.addr, p)
		}()
	}
	wg.Wait()
	spikeSecs := time.Since(start).Seconds()

	// Saturation: as many submits as the server takes, closed loop, at each
	// number of clients; then the baseline at the same numbers. A server is
	// saturated when more clients no longer bring more throughput, so each
	// side is credited with its best level.
	drafts := people[*n:]
	per := len(drafts) / len(clients)
	var satResults []result
	var levelsOut []map[string]any
	best, bestBase, bestAt, bestBaseAt := 0.0, 0.0, 0, 0
	for k, workers := range clients {
		some := drafts[k*per : (k+1)*per]
		logf("spike: saturation with %d drafts and %d clients", len(some), workers)
		rs, secs := closedLoop(ctx, workers, some, func(p applicant) result { return submit(ctx, client, srv.addr, p) })
		satResults = append(satResults, rs...)
		rps := float64(countStatus(rs, http.StatusOK)) / secs
		levelsOut = append(levelsOut, map[string]any{"clients": workers, "rps": rps})
		if rps > best {
			best, bestAt = rps, workers
		}
	}
	for k, workers := range clients {
		b, err := baseline(ctx, url, workers, 3*time.Second)
		if err != nil {
			return nil, err
		}
		levelsOut[k]["baseline_rps"] = b
		if b > bestBase {
			bestBase, bestBaseAt = b, workers
		}
	}
	submitted := append(append([]applicant(nil), spike...), drafts[:per*len(clients)]...)
	check, err := checkSubmissions(ctx, url, submitted, append(results, satResults...))
	if err != nil {
		return nil, err
	}
	lat := latencies(results)
	out := map[string]any{
		"n": len(spike), "window_s": window.Seconds(), "elapsed_s": spikeSecs,
		"accepted": countStatus(results, http.StatusOK), "errors_5xx": count5xx(results), "other_status": countOther(results),
		"lost": check.lost, "duplicates": check.duplicates, "submitted_in_db": check.submitted,
		"p50_ms": percentile(lat, 0.50), "p95_ms": percentile(lat, 0.95), "p99_ms": percentile(lat, 0.99), "max_ms": percentile(lat, 1),
		"rps": best, "baseline_rps": bestBase, "saturation_concurrency": bestAt, "baseline_concurrency": bestBaseAt,
		"ratio": best / bestBase, "saturation": levelsOut,
		"cores": runtime.NumCPU(),
	}
	return out, nil
}

type result struct {
	status int
	ms     float64
	err    error
}

func submit(ctx context.Context, client *http.Client, addr string, p applicant) result {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	start := time.Now()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/proposals/"+p.proposal+"/submit", nil)
		if err != nil {
			return result{err: err}
		}
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Idempotency-Key", hex.EncodeToString(key))
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		// A client retries with the same key on a dropped connection or an
		// answer saying the first attempt is still running, as a browser would.
		if (err != nil || res.StatusCode == http.StatusConflict || res.StatusCode == http.StatusServiceUnavailable) && attempt < 5 {
			time.Sleep(time.Duration(100*(attempt+1)) * time.Millisecond)
			continue
		}
		ms := float64(time.Since(start).Microseconds()) / 1000
		if err != nil {
			return result{err: err, ms: ms}
		}
		return result{status: res.StatusCode, ms: ms}
	}
}

// parseLevels reads -concurrency: client counts, comma-separated.
func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("-concurrency: %q is not a number of clients from 1 to 4096", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func closedLoop(ctx context.Context, workers int, people []applicant, do func(applicant) result) ([]result, float64) {
	out := make([]result, len(people))
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = do(people[i])
			}
		}()
	}
	for i := range people {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return out, time.Since(start).Seconds()
}

// baseline measures a bare Echo handler doing one INSERT into the same
// database, at the same concurrency, over loopback.
func baseline(ctx context.Context, url string, workers int, d time.Duration) (float64, error) {
	db, err := database.Open(ctx, url, "", database.Options{MaxOpenConns: 20})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := db.Gorm.Exec("CREATE TABLE IF NOT EXISTS bench_baseline (id uuid PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())").Error; err != nil {
		return 0, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/insert", func(c echo.Context) error {
		if err := db.Gorm.WithContext(c.Request().Context()).Exec("INSERT INTO bench_baseline (id) VALUES (?)", database.NewID()).Error; err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	hs := &http.Server{Handler: e}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	done := 0
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				res, err := client.Post("http://"+ln.Addr().String()+"/insert", "application/json", bytes.NewReader(nil))
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusNoContent {
					mu.Lock()
					done++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return float64(done) / d.Seconds(), nil
}

type submissionCheck struct{ submitted, lost, duplicates int }

// checkSubmissions compares what clients were told with what the database
// holds: a 200 without a submitted proposal is lost; more than one submit
// record or receipt for a proposal is a duplicate.
func checkSubmissions(ctx context.Context, url string, people []applicant, results []result) (submissionCheck, error) {
	var out submissionCheck
	db, err := database.Open(ctx, url, "", database.Options{})
	if err != nil {
		return out, err
	}
	defer db.Close()
	type row struct {
		ID, Status string
		Submits    int
	}
	var rows []row
	if err := db.Gorm.Raw(`SELECT p.id, p.status, COALESCE(a.submits, 0) AS submits FROM proposals p
		LEFT JOIN (SELECT object_id, COUNT(*) AS submits FROM audit_log WHERE action = 'proposal.submit' GROUP BY object_id) a
		ON a.object_id = p.id::text`).Scan(&rows).Error; err != nil {
		return out, err
	}
	byID := map[string]row{}
	for _, r := range rows {
		byID[r.ID] = r
		if r.Status == proposals.StatusSubmitted {
			out.submitted++
		}
		if r.Submits > 1 {
			out.duplicates += r.Submits - 1
		}
	}
	for i, p := range people {
		if results[i].status == http.StatusOK && byID[p.proposal].Status != proposals.StatusSubmitted {
			out.lost++
		}
	}
	var receipts, submitted int64
	db.Gorm.Table("outbox").Where("kind = 'proposal_receipt'").Count(&receipts)
	db.Gorm.Table("proposals").Where("status = 'submitted'").Count(&submitted)
	if receipts > submitted {
		out.duplicates += int(receipts - submitted)
	}
	return out, nil
}

// prepareApplicants fills the database: a published call closing after the
// window, and count applicants each with an organisation, a complete draft
// and an API token. Passwords share one hash: hashing a thousand argon2id
// passwords would measure the setup, not the spike.
func prepareApplicants(ctx context.Context, url, dir string, count int, open time.Duration) ([]applicant, error) {
	cfg, err := config.Load("", nil)
	if err != nil {
		return nil, err
	}
	cfg.DatabaseURL, cfg.DataDir = url, filepath.Join(dir, "setup")
	log := slog.New(slog.DiscardHandler)
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.MigrateUp(ctx, log); err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, db, log, "bench")
	if err != nil {
		return nil, err
	}
	defer a.Authz.Close()
	sys := audit.Actor{IP: "127.0.0.1", RequestID: "bench"}
	mgr, err := a.Accounts.CreateUser(ctx, sys, accounts.RegisterInput{Email: "manager@bench.test", Name: "Bench Manager", Password: "cobalt harbour lantern meadow", Locale: "en"})
	if err != nil {
		return nil, err
	}
	if err := a.Authz.Grant(ctx, sys, authz.Grant{UserID: mgr.ID, Role: authz.RoleManager, Domain: authz.FacilityDomain("sustainable_enterprises")}); err != nil {
		return nil, err
	}
	in := demo.GreenJobsCall(-time.Hour, open)
	in.Form.Sections[0].Questions = in.Form.Sections[0].Questions[:4] // no file question: uploads have their own scenario
	ma := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "bench"}
	c, err := a.Calls.Create(ctx, ma, in)
	if err != nil {
		return nil, fmt.Errorf("create call: %w", err)
	}
	for _, step := range []func() error{
		func() error { return a.Calls.SubmitForApproval(ctx, ma, c.ID) },
		func() error { return a.Calls.DecideG0(ctx, ma, c.ID, "approve", "benchmark") },
		func() error { return a.Calls.Publish(ctx, ma, c.ID) },
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("publish call: %w", err)
		}
	}
	var hash string
	db.Gorm.Raw("SELECT password_hash FROM users WHERE id = ?", mgr.ID).Scan(&hash)
	// Applicants are prepared by a few workers at once: one by one, a
	// large -saturation takes minutes before anything is measured.
	people := make([]applicant, count)
	amount := int64(2_000_000)
	next := make(chan int)
	errs := make(chan error, 1)
	var ready sync.WaitGroup
	var prepared atomic.Int64
	prepare := func(i int) error {
		var userID, orgID string
		err := db.Gorm.Transaction(func(tx *gorm.DB) error {
			now, err := database.Now(tx)
			if err != nil {
				return err
			}
			userID, orgID = database.NewID(), database.NewID()
			if err := tx.Exec(`INSERT INTO users (id, email, name, password_hash, locale, timezone, email_verified_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'en', 'UTC', ?, ?, ?)`, userID, fmt.Sprintf("applicant%05d@bench.test", i), fmt.Sprintf("Applicant %d", i), hash, now, now, now).Error; err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO organisations (id, name, type_code, country_iso2, year_founded, website, created_by, created_at, updated_at)
				VALUES (?, ?, 'cooperative', 'GH', 2001, '', ?, ?, ?)`, orgID, fmt.Sprintf("Cooperative %d", i), userID, now, now).Error; err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO organisation_members (organisation_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)`, orgID, userID, now).Error; err != nil {
				return err
			}
			_, err = authz.GrantTx(tx, authz.Grant{UserID: userID, Role: authz.RoleOrgOwner, Domain: authz.OrgDomain(orgID)})
			return err
		})
		if err != nil {
			return fmt.Errorf("applicant %d: %w", i, err)
		}
		actor := audit.Actor{UserID: userID, IP: "127.0.0.1", RequestID: "bench"}
		p, err := a.Proposals.Start(ctx, actor, proposals.StartInput{CallID: c.ID, OrganisationID: orgID, Title: fmt.Sprintf("Proposal %d", i), Language: "en"})
		if err != nil {
			return fmt.Errorf("draft %d: %w", i, err)
		}
		if _, err := a.Proposals.Save(ctx, actor, p.ID, proposals.SaveInput{Version: p.Version, RequestedMinor: &amount,
			Answers: map[string]any{"summary": "Solar dryers for cocoa cooperatives.", "pilot": false, "country": "GH"}}); err != nil {
			return fmt.Errorf("draft %d: %w", i, err)
		}
		token, _, err := a.Accounts.CreateAPIToken(ctx, actor, "bench", 7)
		if err != nil {
			return err
		}
		people[i] = applicant{token: token, proposal: p.ID}
		if done := prepared.Add(1); done%250 == 0 {
			logf("spike: %d applicants ready", done)
		}
		return nil
	}
	for range 6 {
		ready.Add(1)
		go func() {
			defer ready.Done()
			for i := range next {
				if err := prepare(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	// The first failure stops the preparation: the rest would fail alike.
	for i := 0; i < count && len(errs) == 0; i++ {
		next <- i
	}
	close(next)
	ready.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	a.Authz.Changed(ctx)
	return people, nil
}

func latencies(rs []result) []float64 {
	out := make([]float64, 0, len(rs))
	for _, r := range rs {
		if r.err == nil {
			out = append(out, r.ms)
		}
	}
	sort.Float64s(out)
	return out
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func countStatus(rs []result, status int) int {
	n := 0
	for _, r := range rs {
		if r.status == status {
			n++
		}
	}
	return n
}

func count5xx(rs []result) int {
	n := 0
	for _, r := range rs {
		if r.status >= 500 || r.err != nil {
			n++
		}
	}
	return n
}

func countOther(rs []result) int {
	n := 0
	for _, r := range rs {
		if r.status != http.StatusOK && r.status < 500 && r.err == nil {
			n++
		}
	}
	return n
}
