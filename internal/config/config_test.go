package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsMatchDocumentedFile(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.SessionIdleTimeout != 30*time.Minute || c.SMTP.Port != 587 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	c, err := Load("", []string{"FACILITY_ADDR=127.0.0.1:9999", "FACILITY_SMTP_HOST=mail.example.org", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.SMTP.Host != "mail.example.org" {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestRefusesUnknownAndInvalid(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(body[:5], ":", "")+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path string
		env        []string
		wantKey    string
	}{
		{"unknown variable", "", []string{"FACILITY_ADRR=x"}, "FACILITY_ADRR"},
		{"unknown file key", file("adrr: x\n"), nil, "adrr"},
		{"bad address", "", []string{"FACILITY_ADDR=nonsense"}, "addr"},
		{"bad database url", "", []string{"FACILITY_DATABASE_URL=mysql://x"}, "database_url"},
		{"bad duration", "", []string{"FACILITY_SESSION_IDLE_TIMEOUT=soon"}, "SESSION_IDLE_TIMEOUT"},
		{"bad tls", file("smtp:\n  tls: maybe\n"), nil, "smtp.tls"},
		{"bad proxies", "", []string{"FACILITY_IP_SOURCE=x-forwarded-for", "FACILITY_TRUSTED_PROXIES=10.0.0.1"}, "trusted_proxies"},
		{"bad log level", "", []string{"FACILITY_LOG_LEVEL=loud"}, "log_level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("want error naming %q, got %v", tc.wantKey, err)
			}
		})
	}
}
