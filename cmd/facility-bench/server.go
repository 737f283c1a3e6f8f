package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is a facility process started by a scenario.
type server struct {
	cmd  *exec.Cmd
	addr string
}

// buildBinary compiles cmd/facility into dir, so scenarios measure the real
// binary.
func buildBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "facility")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "facility/cmd/facility").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build facility: %v: %s", err, out)
	}
	return bin, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs `facility serve` with env on a free loopback port.
func startServer(ctx context.Context, bin string, env []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(append(filteredEnv(), env...), "FACILITY_ADDR="+addr, "FACILITY_LOG_LEVEL=warn")
	// The server runs with the garbage collector set as the deployment
	// files set it (deployments/compose.yaml), unless the caller chose.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		cmd.Env = append(cmd.Env, "GOGC=400", "GOMEMLIMIT=900MiB")
	}
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	return &server{cmd: cmd, addr: addr}, nil
}

// filteredEnv drops FACILITY_* variables a scenario sets itself.
func filteredEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FACILITY_") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("server on %s not ready after %v", s.addr, timeout)
}

// rssMB reads the process's resident memory from /proc.
func (s *server) rssMB() (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.Fields(v)[0])
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", s.cmd.Process.Pid)
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// emptyPostgres drops everything in the database's public schema.
func emptyPostgres(ctx context.Context, url string) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", url, err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
	return err
}

// benchStartup: cold start of the binary to a ready /readyz on an empty
// database (target under 2 s on SQLite), then the idle server's memory.
func benchStartup(ctx context.Context, args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	idle := fs.Duration("idle", 5*time.Second, "how long to let the server idle before reading its memory")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "facility-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := buildBinary(ctx, dir)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	run := func(name string, env []string) error {
		s, err := startServer(ctx, bin, env)
		if err != nil {
			return err
		}
		defer s.stop()
		d, err := s.waitReady(ctx, 30*time.Second)
		if err != nil {
			return err
		}
		time.Sleep(*idle)
		rss, err := s.rssMB()
		if err != nil {
			return err
		}
		out[name+"_ready_ms"] = d.Milliseconds()
		out[name+"_idle_rss_mb"] = rss
		logf("startup %s: ready in %v, idle RSS %.1f MB", name, d, rss)
		return nil
	}
	if err := run("sqlite", []string{"FACILITY_DATA_DIR=" + filepath.Join(dir, "data")}); err != nil {
		return nil, err
	}
	if url := os.Getenv("FACILITY_DATABASE_URL"); url != "" {
		if err := emptyPostgres(ctx, url); err != nil {
			return nil, err
		}
		if err := run("postgres", []string{"FACILITY_DATABASE_URL=" + url, "FACILITY_DATA_DIR=" + filepath.Join(dir, "pgdata")}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
