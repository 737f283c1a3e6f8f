package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"facility/internal/apptest"
)

func TestHealthReadinessMetricsAndOpenAPI(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	if res := c.Get("/healthz"); res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	if res := c.Get("/readyz"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "ready") {
		t.Fatalf("readyz: %d %s", res.StatusCode, res.Body)
	}
	c.Get("/login")
	res := c.Get("/metrics")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "requests_total") {
		t.Fatalf("metrics: %d %.200s", res.StatusCode, res.Body)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	res = c.JSON(http.MethodGet, "/api/v1/openapi.json", nil, &doc)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %d", res.StatusCode)
	}
	// Every API route the server has is described, and nothing else.
	described := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			described[strings.ToUpper(m)+" "+openAPIPath("/api/v1"+p)] = true
		}
	}
	for _, r := range env.Web.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.json" {
			continue
		}
		key := r.Method + " " + openAPIPath(r.Path)
		if !described[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
	if b, _ := json.Marshal(doc); len(b) < 1000 {
		t.Fatal("OpenAPI document suspiciously small")
	}
	// Readiness fails when migrations are missing.
	env.DB.Gorm.Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)")
	if res := c.Get("/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a migration missing: %d", res.StatusCode)
	}
}

// openAPIPath reduces a route to its shape: Echo's :param and OpenAPI's
// {param} both become {}, since parameter names may differ.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "{") {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/")
}

// TestSmallPoolNeverDeadlocks (REL-11): with two connections and fifty
// requests that each run a transaction at once, every request ends, with
// its answer or a 503 to retry, and none hangs past the request timeout.
func TestSmallPoolNeverDeadlocks(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.DatabaseMaxConns = 2
	env := apptest.NewWithConfig(t, cfg)
	env.User("ama@example.org", "", "")
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	start := time.Now()
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.Client()
			c.IP = fmt.Sprintf("198.51.100.%d", i+1)
			res := c.JSON(http.MethodPost, "/api/v1/session", map[string]string{"email": "ama@example.org", "password": "not the password"}, nil)
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	if d := time.Since(start); d > 40*time.Second {
		t.Fatalf("50 requests on 2 connections took %v: something waited past the request timeout", d)
	}
	for s := range statuses {
		if s != http.StatusUnauthorized && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Errorf("status %d", s)
		}
	}
}
