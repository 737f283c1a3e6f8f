package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/database"
	"facility/internal/mail"
)

// server is one `facility serve --demo` process on a loopback port.
type server struct {
	URL      string // http://127.0.0.1:<port>, no trailing slash
	dataDir  string
	dbURL    string // "" for SQLite in dataDir
	accounts map[string]demoAccount
	logs     *syncBuffer
}

// demoAccount is a line of the "Demo accounts" list the server prints.
type demoAccount struct{ Role, Email, Password string }

// buildFacility compiles the binary once for the whole test run.
func buildFacility(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build facility: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "facility")
	cmd := exec.Command(goTool, "build", "-o", bin, "facility/cmd/facility")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build facility: %v\n%s", err, out)
	}
	return bin
}

// startServer runs `facility serve --demo` on a fresh database and waits
// until /readyz answers. The process is stopped when the test ends, and its
// log is shown if the test failed.
func startServer(t *testing.T, bin string) *server {
	t.Helper()
	dbURL := ""
	if base := apptest.PostgresURL(); base != "" {
		dbURL = apptest.NewSchema(t, base)
	}
	// The port is picked free and then handed over, so another process can
	// take it in between; a second try with another port settles that.
	var lastErr error
	for range 3 {
		s, err := tryStart(t, bin, dbURL)
		if err == nil {
			return s
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("start facility serve --demo: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("port taken")

func tryStart(t *testing.T, bin, dbURL string) (*server, error) {
	t.Helper()
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	s := &server{URL: "http://" + addr, dataDir: t.TempDir(), dbURL: dbURL, logs: &syncBuffer{}}
	cmd := exec.Command(bin, "serve", "--demo")
	cmd.Env = append(withoutFacilityVars(os.Environ()),
		"FACILITY_ADDR="+addr,
		"FACILITY_DATA_DIR="+s.dataDir,
		"FACILITY_BASE_URL="+s.URL,
		"FACILITY_LOG_LEVEL=info",
	)
	if dbURL != "" {
		cmd.Env = append(cmd.Env, "FACILITY_DATABASE_URL="+dbURL)
	}
	cmd.Stderr = s.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}

	var (
		mu    sync.Mutex
		lines []string
	)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.logs, "stdout:", line)
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
			if strings.HasPrefix(line, "Facility is ready at") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("facility did not stop within 20 s of SIGINT; killed it")
		}
	}

	select {
	case <-ready:
	case err := <-exited:
		stopped = true
		if strings.Contains(s.logs.String(), "address already in use") {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("facility exited before it was ready (%v):\n%s", err, s.logs.String())
	case <-time.After(90 * time.Second):
		stop()
		return nil, fmt.Errorf("facility was not ready after 90 s:\n%s", s.logs.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("facility server output:\n%s", s.logs.Tail(200))
		}
	})
	if err := waitReady(s.URL+"/readyz", 30*time.Second); err != nil {
		return nil, err
	}

	mu.Lock()
	s.accounts = parseDemoAccounts(lines)
	mu.Unlock()
	if len(s.accounts) == 0 {
		return nil, fmt.Errorf("no demo accounts in the server's output:\n%s", s.logs.String())
	}
	return s, nil
}

// freeLoopbackAddr returns 127.0.0.1:<a port that was free a moment ago>.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// withoutFacilityVars drops FACILITY_* variables of the caller (such as a
// developer's FACILITY_DATABASE_URL) so the server runs on what the test sets.
func withoutFacilityVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "FACILITY_") {
			out = append(out, kv)
		}
	}
	return out
}

func waitReady(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for time.Now().Before(deadline) {
		res, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d: %s", res.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s: %s", url, within, last)
}

// parseDemoAccounts reads the lines after "Demo accounts": a role (which
// may contain spaces), an e-mail address and a password.
func parseDemoAccounts(lines []string) map[string]demoAccount {
	out := map[string]demoAccount{}
	in := false
	for _, line := range lines {
		if strings.HasPrefix(line, "Demo accounts") {
			in = true
			continue
		}
		if !in || !strings.HasPrefix(line, "  ") {
			in = false
			continue
		}
		f := strings.Fields(line)
		for i, w := range f {
			if strings.Contains(w, "@") && i > 0 && i == len(f)-2 {
				out[w] = demoAccount{Role: strings.Join(f[:i], " "), Email: w, Password: f[i+1]}
			}
		}
	}
	return out
}

// account returns the demo account with this e-mail address.
func (s *server) account(t *testing.T, email string) demoAccount {
	t.Helper()
	a, ok := s.accounts[email]
	if !ok {
		t.Fatalf("the server printed no demo account %s (it printed %v)", email, s.accounts)
	}
	return a
}

var verifyLink = regexp.MustCompile(`/verify-email/([A-Za-z0-9_\-]+)`)

// outbox reads the newest messages (at most 20) queued for email, straight
// from the server's database, newest first.
func (s *server) outbox(t *testing.T, email string) []mail.Stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, s.dbURL, filepath.Join(s.dataDir, "facility.db"), database.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	defer db.Close()
	msgs, err := mail.Outbox(ctx, db.Gorm, email, 20)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// verificationPath reads the newest confirmation message sent to email from
// the server's outbox and returns the path of the link in it.
func (s *server) verificationPath(t *testing.T, email string) string {
	t.Helper()
	msgs := s.outbox(t, email)
	for _, m := range msgs {
		if m.Kind != "verify_email" {
			continue
		}
		if p := verifyLink.FindString(m.Body); p != "" {
			return p
		}
		t.Fatalf("the confirmation message to %s has no /verify-email/ link:\n%s", email, m.Body)
	}
	t.Fatalf("no confirmation message to %s in the outbox (%d messages to that address)", email, len(msgs))
	return ""
}

// syncBuffer collects a process's output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns the last n lines.
func (b *syncBuffer) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
