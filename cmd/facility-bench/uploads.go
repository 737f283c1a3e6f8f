package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log/slog"
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

	"facility/internal/accounts"
	"facility/internal/app"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/config"
	"facility/internal/demo"
	"facility/internal/organisations"
	"facility/internal/proposals"
)

// benchUploads: n concurrent uploads of size bytes each (generated PDF
// content, over loopback) to one running server. It measures the server's
// peak resident memory (target under 256 MB: uploads stream), counts the
// answers (overload must be 503 with Retry-After, never 500), and then
// checks that every accepted file is recorded with the SHA-256 the client
// computed and that no stored file lacks its row.
func benchUploads(ctx context.Context, args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("uploads", flag.ContinueOnError)
	n := fs.Int("n", 200, "uploads, all started at once")
	sizeMB := fs.Int("size-mb", 10, "size of each file in MB")
	perDraft := fs.Int("per-draft", 8, "uploads per draft (a proposal's files may total 100 MB)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	size := int64(*sizeMB) << 20
	dir, err := os.MkdirTemp("", "facility-uploads-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dataDir := filepath.Join(dir, "data")
	env := []string{"FACILITY_DATA_DIR=" + dataDir}
	dbName := "sqlite"
	url := os.Getenv("FACILITY_DATABASE_URL")
	if url != "" {
		if err := emptyPostgres(ctx, url); err != nil {
			return nil, err
		}
		env = append(env, "FACILITY_DATABASE_URL="+url)
		dbName = "postgres"
	}
	drafts := (*n + *perDraft - 1) / *perDraft
	logf("uploads: preparing an applicant with %d drafts on %s", drafts, dbName)
	token, ids, err := prepareUploads(ctx, url, dataDir, drafts)
	if err != nil {
		return nil, err
	}
	bin, err := buildBinary(ctx, dir)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, bin, env)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if _, err := srv.waitReady(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	idleRSS, _ := srv.rssMB()

	// Sample the server's memory while the uploads run.
	var sampledPeak atomic.Int64 // KB
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if mb, err := srv.rssMB(); err == nil && int64(mb*1024) > sampledPeak.Load() {
				sampledPeak.Store(int64(mb * 1024))
			}
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *n, DisableCompression: true}, Timeout: 5 * time.Minute}
	results := make([]uploadResult, *n)
	logf("uploads: %d × %d MB at once to %s", *n, *sizeMB, srv.addr)
	start := time.Now()
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			results[i] = uploadOne(ctx, client, srv.addr, token, ids[i / *perDraft], i, size)
		}()
	}
	close(begin)
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	hwm, err := srv.procStatusMB("VmHWM")
	if err != nil {
		return nil, err
	}

	out := map[string]any{"n": *n, "size_mb": *sizeMB, "db": dbName, "elapsed_s": elapsed.Seconds(),
		"peak_rss_mb": hwm, "peak_rss_sampled_mb": float64(sampledPeak.Load()) / 1024, "idle_rss_mb": idleRSS, "cores": runtime.NumCPU()}
	var lat []float64
	counts := map[string]int{}
	accepted := map[string]string{} // file name -> client's SHA-256
	for _, r := range results {
		switch {
		case r.err != nil:
			counts["client_errors"]++
			logf("uploads: client error: %v", r.err)
		case r.status == http.StatusCreated:
			counts["accepted"]++
			accepted[r.name] = r.sha256
			lat = append(lat, r.ms)
		case r.status == http.StatusServiceUnavailable:
			counts["rejected_503"]++
			if !r.retryAfter {
				counts["503_without_retry_after"]++
			}
		case r.status >= 500:
			counts["errors_500"]++
			logf("uploads: status %d", r.status)
		default:
			counts["other_status"]++
			logf("uploads: status %d", r.status)
		}
	}
	for _, k := range []string{"accepted", "rejected_503", "503_without_retry_after", "errors_500", "other_status", "client_errors"} {
		out[k] = counts[k]
	}
	sort.Float64s(lat)
	out["p50_ms"], out["p99_ms"], out["max_ms"] = pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1)
	out["throughput_mb_s"] = float64(counts["accepted"]) * float64(*sizeMB) / elapsed.Seconds()

	srv.stop()
	mismatches, missing, orphans, err := checkUploads(ctx, url, dataDir, accepted)
	if err != nil {
		return nil, err
	}
	out["hash_mismatches"], out["rows_missing"], out["orphan_blobs"] = mismatches, missing, orphans
	logf("uploads: peak RSS %.1f MB (sampled %.1f), %d accepted, %d refused with 503, %d server errors, p99 %.0f ms",
		hwm, out["peak_rss_sampled_mb"], counts["accepted"], counts["rejected_503"], counts["errors_500"], out["p99_ms"])
	return out, nil
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// prepareUploads creates, through the domain services on the server's own
// database and data folder, a published call whose "plan" question takes
// PDFs of up to 20 MB, and one applicant with drafts drafts; it returns the
// applicant's API token and the drafts' ids.
func prepareUploads(ctx context.Context, url, dataDir string, drafts int) (string, []string, error) {
	cfg, err := config.Load("", nil)
	if err != nil {
		return "", nil, err
	}
	cfg.DatabaseURL, cfg.DataDir = url, dataDir
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", nil, err
	}
	log := slog.New(slog.DiscardHandler)
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if err := db.MigrateUp(ctx, log); err != nil {
		return "", nil, err
	}
	a, err := app.New(ctx, cfg, db, log, "bench")
	if err != nil {
		return "", nil, err
	}
	defer a.Stop(ctx)
	sys := audit.Actor{IP: "127.0.0.1", RequestID: "bench"}
	mgr, err := a.Accounts.CreateUser(ctx, sys, accounts.RegisterInput{Email: "manager@bench.test", Name: "Bench Manager", Password: "amber lantern over distant hills", Locale: "en"})
	if err != nil {
		return "", nil, err
	}
	if err := a.Authz.Grant(ctx, sys, authz.Grant{UserID: mgr.ID, Role: authz.RoleManager, Domain: authz.FacilityDomain("sustainable_enterprises")}); err != nil {
		return "", nil, err
	}
	in := demo.GreenJobsCall(-time.Hour, 24*time.Hour)
	found := false
	for i, q := range in.Form.Sections[0].Questions {
		if q.ID == "plan" {
			in.Form.Sections[0].Questions[i].FileTypes, in.Form.Sections[0].Questions[i].MaxFileMB = []string{"pdf"}, 20
			found = true
		}
	}
	if !found {
		return "", nil, errors.New("the demo call has no question \"plan\"")
	}
	ma := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "bench"}
	c, err := a.Calls.Create(ctx, ma, in)
	if err != nil {
		return "", nil, fmt.Errorf("create call: %w", err)
	}
	for _, step := range []func() error{
		func() error { return a.Calls.SubmitForApproval(ctx, ma, c.ID) },
		func() error { return a.Calls.DecideG0(ctx, ma, c.ID, "approve", "benchmark") },
		func() error { return a.Calls.Publish(ctx, ma, c.ID) },
	} {
		if err := step(); err != nil {
			return "", nil, fmt.Errorf("publish call: %w", err)
		}
	}
	u, err := a.Accounts.CreateUser(ctx, sys, accounts.RegisterInput{Email: "applicant@bench.test", Name: "Bench Applicant", Password: "quiet river under seven bridges", Locale: "en"})
	if err != nil {
		return "", nil, err
	}
	actor := audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "bench"}
	org, err := a.Organisations.Create(ctx, actor, organisations.Input{Name: "Bench Cooperative", TypeCode: "cooperative", CountryISO2: "GH", YearFounded: 2001})
	if err != nil {
		return "", nil, fmt.Errorf("create organisation: %w", err)
	}
	ids := make([]string, 0, drafts)
	for i := range drafts {
		p, err := a.Proposals.Start(ctx, actor, proposals.StartInput{CallID: c.ID, OrganisationID: org.ID, Title: fmt.Sprintf("Proposal %d", i), Language: "en"})
		if err != nil {
			return "", nil, fmt.Errorf("draft %d: %w", i, err)
		}
		ids = append(ids, p.ID)
	}
	token, _, err := a.Accounts.CreateAPIToken(ctx, actor, "bench", 1)
	if err != nil {
		return "", nil, err
	}
	return token, ids, nil
}

type uploadResult struct {
	status     int
	retryAfter bool
	ms         float64
	name       string
	sha256     string
	err        error
}

// uploadOne posts one generated file of size bytes, hashing what it sends.
func uploadOne(ctx context.Context, client *http.Client, addr, token, proposal string, i int, size int64) uploadResult {
	name := fmt.Sprintf("bench-%04d.pdf", i)
	const boundary = "facilitybenchboundary7MA4YWxkTrZu0gW"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n" +
		"Content-Type: application/pdf\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	file := &pdfGenerator{size: size, seed: i, sum: sha256.New()}
	body := io.MultiReader(strings.NewReader(head), file, strings.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/proposals/"+proposal+"/attachments?question=plan", body)
	if err != nil {
		return uploadResult{err: err}
	}
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return uploadResult{err: err}
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return uploadResult{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After") != "", ms: float64(time.Since(start).Microseconds()) / 1000,
		name: name, sha256: hex.EncodeToString(file.sum.Sum(nil))}
}

// pdfGenerator yields a PDF-looking file of size bytes, different for each
// seed, without holding it: a header, then a repeated line.
type pdfGenerator struct {
	size, sent int64
	seed       int
	sum        hash.Hash
	line       []byte
}

func (g *pdfGenerator) Read(p []byte) (int, error) {
	if g.sent >= g.size {
		return 0, io.EOF
	}
	if g.line == nil {
		g.line = []byte(fmt.Sprintf("%%PDF-1.7\n%% file %d of the upload benchmark, generated line by line\n", g.seed))
	}
	n := 0
	for n < len(p) && g.sent < g.size {
		off := int(g.sent % int64(len(g.line)))
		k := copy(p[n:], g.line[off:])
		k = int(min(int64(k), g.size-g.sent))
		n += k
		g.sent += int64(k)
	}
	g.sum.Write(p[:n])
	return n, nil
}

// procStatusMB reads a memory line (VmRSS, VmHWM) of the server's /proc status.
func (s *server) procStatusMB(field string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.Atoi(strings.Fields(v)[0])
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s for pid %d", field, s.cmd.Process.Pid)
}

// checkUploads compares the database with what the clients sent: every
// accepted file has its row with the same SHA-256 and its blob of the
// recorded size, and no blob lacks a row.
func checkUploads(ctx context.Context, url, dataDir string, accepted map[string]string) (mismatches, missing, orphans int, err error) {
	cfg, err := config.Load("", nil)
	if err != nil {
		return 0, 0, 0, err
	}
	cfg.DatabaseURL, cfg.DataDir = url, dataDir
	db, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return 0, 0, 0, err
	}
	defer db.Close()
	var rows []proposals.Attachment
	if err := db.Gorm.WithContext(ctx).Where("deleted_at IS NULL").Find(&rows).Error; err != nil {
		return 0, 0, 0, err
	}
	byName := map[string]proposals.Attachment{}
	keys := map[string]bool{}
	for _, r := range rows {
		byName[r.Filename] = r
		keys[r.BlobKey] = true
		st, err := os.Stat(filepath.Join(dataDir, "blobs", filepath.FromSlash(r.BlobKey)))
		if err != nil || st.Size() != r.SizeBytes {
			missing++
		}
	}
	for name, sum := range accepted {
		r, ok := byName[name]
		switch {
		case !ok:
			missing++
		case r.SHA256 != sum:
			mismatches++
		}
	}
	err = filepath.WalkDir(filepath.Join(dataDir, "blobs", "attachments"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(dataDir, "blobs"), p)
		if !keys[filepath.ToSlash(rel)] {
			orphans++
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return mismatches, missing, orphans, err
}
