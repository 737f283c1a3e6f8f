package jobs_test

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"facility/internal/accounts"
	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/mail"
)

// sink is an SMTP server in the test process that keeps what arrives.
type sink struct {
	mu   sync.Mutex
	msgs []string
}

type session struct {
	s  *sink
	to []string
}

func (s *session) Reset()                                    {}
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.s.mu.Lock()
	defer s.s.mu.Unlock()
	s.s.msgs = append(s.s.msgs, strings.Join(s.to, ",")+"\n"+string(b))
	return nil
}

func (k *sink) received() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.msgs...)
}

func startSink(t *testing.T) (*sink, int) {
	k := &sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: k}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return k, ln.Addr().(*net.TCPAddr).Port
}

// A mail queued with an action is delivered by the job queue through SMTP,
// exactly once, and marked sent in the outbox.
func TestMailIsDeliveredThroughSMTP(t *testing.T) {
	k, port := startSink(t)
	cfg := apptest.Config(t)
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = "127.0.0.1", port, "none"
	env := apptest.NewWithConfig(t, cfg)
	_, err := env.Accounts.Register(t.Context(), audit.Actor{IP: "127.0.0.1"},
		accounts.RegisterInput{Email: "ama@example.org", Name: "Ama Owusu", Password: "a long and unusual passphrase", Locale: "fr"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(k.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := k.received()
	if len(got) != 1 {
		t.Fatalf("%d messages arrived", len(got))
	}
	if !strings.HasPrefix(got[0], "ama@example.org\n") || !strings.Contains(got[0], "/verify-email/") {
		t.Fatalf("message: %s", got[0])
	}
	// The subject is in the person's language (French here).
	if !strings.Contains(got[0], "Subject:") || strings.Contains(got[0], "Confirm your e-mail") {
		t.Fatalf("subject not translated: %s", got[0][:200])
	}
	msgs, _ := mail.Outbox(t.Context(), env.DB.Gorm, "ama@example.org", 5)
	for time.Now().Before(deadline) && (len(msgs) == 0 || msgs[0].SentAt == nil) {
		time.Sleep(50 * time.Millisecond)
		msgs, _ = mail.Outbox(t.Context(), env.DB.Gorm, "ama@example.org", 5)
	}
	if len(msgs) != 1 || msgs[0].SentAt == nil {
		t.Fatalf("outbox not marked sent: %+v", msgs)
	}
}

// With SMTP down, mail waits in the outbox; the sweep delivers it once the
// server is back, without duplicates.
func TestMailWaitsWhileSMTPIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens: deliveries fail
	cfg := apptest.Config(t)
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = "127.0.0.1", port, "none"
	env := apptest.NewWithConfig(t, cfg)
	if _, err := env.Accounts.Register(t.Context(), audit.Actor{IP: "127.0.0.1"},
		accounts.RegisterInput{Email: "kofi@example.org", Name: "Kofi", Password: "a long and unusual passphrase"}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var msgs []mail.Stored
	for time.Now().Before(deadline) {
		msgs, _ = mail.Outbox(t.Context(), env.DB.Gorm, "kofi@example.org", 5)
		if len(msgs) == 1 && msgs[0].Attempts > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(msgs) != 1 || msgs[0].SentAt != nil || msgs[0].LastError == "" {
		t.Fatalf("failed delivery not recorded: %+v", msgs)
	}
	// The server comes back; the sweep (simulated by delivering the unsent
	// mail, as the periodic job does) sends it once.
	k := &sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: k}, nil }))
	srv.AllowInsecureAuth = true
	l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	go func() { _ = srv.Serve(l2) }()
	defer srv.Close()
	sender := mail.NewSender(env.DB.Gorm, cfg.SMTP, env.Log)
	for range 2 {
		if err := sender.Deliver(t.Context(), msgs[0].ID); err != nil && err != mail.ErrAlreadySent {
			t.Fatal(err)
		}
	}
	if n := len(k.received()); n != 1 {
		t.Fatalf("%d deliveries after recovery", n)
	}
}

// Two workers delivering the same message at once send it once: the first
// claims it, the second finds it claimed or sent.
func TestConcurrentDeliveriesSendOnce(t *testing.T) {
	k, port := startSink(t)
	cfg := apptest.Config(t)
	env := apptest.NewWithConfig(t, cfg) // no SMTP: the message stays queued
	var id string
	err := env.DB.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		id, err = mail.Queue(tx, mail.Message{To: "kofi@example.org", Subject: "Hello", Body: "Hello", Kind: "test"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	smtpCfg := cfg.SMTP
	smtpCfg.Host, smtpCfg.Port, smtpCfg.TLS = "127.0.0.1", port, "none"
	sender := mail.NewSender(env.DB.Gorm, smtpCfg, env.Log)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sender.Deliver(t.Context(), id); err != nil && err != mail.ErrAlreadySent {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(k.received()); n != 1 {
		t.Fatalf("%d deliveries", n)
	}
	msgs, _ := mail.Outbox(t.Context(), env.DB.Gorm, "kofi@example.org", 1)
	if len(msgs) != 1 || msgs[0].SentAt == nil {
		t.Fatalf("not marked sent: %+v", msgs)
	}
}
