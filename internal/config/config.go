// Package config loads Facility's configuration: the defaults in
// configs/facility.yaml, an optional file given by the operator, then
// FACILITY_* environment variables. Anything unknown or invalid stops the
// start with a message naming the key, because a typo silently ignored is
// an outage found later.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"go.yaml.in/yaml/v3"

	"facility/configs"
)

// Config is the whole configuration. The yaml tags are the keys of
// configs/facility.yaml; the env tags the FACILITY_ variable names.
type Config struct {
	Addr                   string        `yaml:"addr" env:"ADDR"`
	BaseURL                string        `yaml:"base_url" env:"BASE_URL"`
	DatabaseURL            string        `yaml:"database_url" env:"DATABASE_URL"`
	DatabaseMaxConns       int           `yaml:"database_max_connections" env:"DATABASE_MAX_CONNECTIONS"`
	DataDir                string        `yaml:"data_dir" env:"DATA_DIR"`
	BlobURL                string        `yaml:"blob_url" env:"BLOB_URL"`
	LogLevel               string        `yaml:"log_level" env:"LOG_LEVEL"`
	IPSource               string        `yaml:"ip_source" env:"IP_SOURCE"`
	TrustedProxies         string        `yaml:"trusted_proxies" env:"TRUSTED_PROXIES"`
	MaxBodyBytes           int64         `yaml:"max_body_bytes" env:"MAX_BODY_BYTES"`
	SessionIdleTimeout     time.Duration `yaml:"session_idle_timeout" env:"SESSION_IDLE_TIMEOUT"`
	SessionAbsoluteTimeout time.Duration `yaml:"session_absolute_timeout" env:"SESSION_ABSOLUTE_TIMEOUT"`
	SMTP                   SMTP          `yaml:"smtp" envPrefix:"SMTP_"`
}

// SMTP is the outgoing mail server. An empty Host keeps mail in the outbox.
type SMTP struct {
	Host     string `yaml:"host" env:"HOST"`
	Port     int    `yaml:"port" env:"PORT"`
	Username string `yaml:"username" env:"USERNAME"`
	Password string `yaml:"password" env:"PASSWORD"`
	From     string `yaml:"from" env:"FROM"`
	TLS      string `yaml:"tls" env:"TLS"`
}

// envPrefix is shared by every variable; variables under it that are not
// configuration keys are refused, except these, which belong to tools.
const envPrefix = "FACILITY_"

var toolVariables = map[string]bool{
	"FACILITY_CONFIG":            true,
	"FACILITY_TEST_DATABASE_URL": true,
	"FACILITY_TEST_CHROMIUM":     true,
	"FACILITY_SCREENSHOTS":       true,
}

// Load builds the configuration: embedded defaults, then the file at path
// (if not empty), then the environment.
func Load(path string, environ []string) (*Config, error) {
	var c Config
	if err := decodeYAML(configs.DefaultYAML, &c); err != nil {
		return nil, fmt.Errorf("built-in defaults: %w", err)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read configuration file: %w", err)
		}
		if err := decodeYAML(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	vars := env.ToMap(environ)
	if err := checkUnknownVariables(vars); err != nil {
		return nil, err
	}
	if err := env.ParseWithOptions(&c, env.Options{Prefix: envPrefix, Environment: vars}); err != nil {
		return nil, explainEnvError(err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func decodeYAML(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file is no overrides, not an error.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func checkUnknownVariables(vars map[string]string) error {
	known := map[string]bool{}
	collectEnvNames(reflect.TypeOf(Config{}), envPrefix, known)
	var unknown []string
	for k := range vars {
		if strings.HasPrefix(k, envPrefix) && !known[k] && !toolVariables[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown configuration variable %s", strings.Join(unknown, ", "))
	}
	return nil
}

func collectEnvNames(t reflect.Type, prefix string, into map[string]bool) {
	for _, name := range envFields(t, prefix) {
		into[name] = true
	}
}

// envFields maps each struct field name to its variable name.
func envFields(t reflect.Type, prefix string) map[string]string {
	out := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		if p, ok := f.Tag.Lookup("envPrefix"); ok {
			for k, v := range envFields(f.Type, prefix+p) {
				out[k] = v
			}
			continue
		}
		if name := f.Tag.Get("env"); name != "" {
			out[f.Name] = prefix + name
		}
	}
	return out
}

// explainEnvError names the variable whose value could not be read, where
// the library names the Go field.
func explainEnvError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("environment: %w", err)
	}
	names := envFields(reflect.TypeOf(Config{}), envPrefix)
	var msgs []string
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			msgs = append(msgs, fmt.Sprintf("%s: cannot read the value as %s (%v)", names[pe.Name], pe.Type, pe.Err))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return errors.New(strings.Join(msgs, "; "))
}

func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr: %q is not host:port", c.Addr)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base_url: %q is not an http(s) URL", c.BaseURL)
		}
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("database_url: must be a postgres:// URL")
		}
	}
	if c.DatabaseMaxConns < 2 || c.DatabaseMaxConns > 500 {
		return fmt.Errorf("database_max_connections: %d is not between 2 and 500", c.DatabaseMaxConns)
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: must not be empty")
	}
	if c.BlobURL != "" {
		u, err := url.Parse(c.BlobURL)
		if err != nil || (u.Scheme != "file" && u.Scheme != "s3" && u.Scheme != "mem") {
			return fmt.Errorf("blob_url: %q must be a file://, s3:// or mem:// URL", c.BlobURL)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.IPSource {
	case "direct":
	case "x-forwarded-for":
		if c.TrustedProxies == "" {
			return fmt.Errorf("trusted_proxies: required when ip_source is x-forwarded-for")
		}
	default:
		return fmt.Errorf("ip_source: %q is not one of direct, x-forwarded-for", c.IPSource)
	}
	if _, err := c.TrustedProxyNets(); err != nil {
		return err
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("max_body_bytes: %d is below the minimum of 1024", c.MaxBodyBytes)
	}
	if c.SessionIdleTimeout < time.Minute {
		return fmt.Errorf("session_idle_timeout: %s is below one minute", c.SessionIdleTimeout)
	}
	if c.SessionAbsoluteTimeout < c.SessionIdleTimeout {
		return fmt.Errorf("session_absolute_timeout: %s is shorter than session_idle_timeout", c.SessionAbsoluteTimeout)
	}
	if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
		return fmt.Errorf("smtp.port: %d is not a port number", c.SMTP.Port)
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("smtp.tls: %q is not one of none, starttls, tls", c.SMTP.TLS)
	}
	if c.SMTP.From == "" {
		return fmt.Errorf("smtp.from: must not be empty")
	}
	return nil
}

// TrustedProxyNets parses trusted_proxies.
func (c *Config) TrustedProxyNets() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not a CIDR such as 10.0.0.0/8", s)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// PublicURL is the base for links in e-mails.
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "http://" + c.Addr
}

// SQLitePath is where the embedded database lives when no database URL is set.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "facility.db") }

// BlobLocation is the blob store URL, defaulting to a folder under the data dir.
func (c *Config) BlobLocation() (string, error) {
	if c.BlobURL != "" {
		return c.BlobURL, nil
	}
	abs, err := filepath.Abs(filepath.Join(c.DataDir, "blobs"))
	if err != nil {
		return "", fmt.Errorf("blob folder: %w", err)
	}
	return "file://" + filepath.ToSlash(abs) + "?create_dir=true", nil
}
