package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/idempotency"
)

func setup(t *testing.T) (*apptest.Env, string) {
	env := apptest.New(t)
	u, _ := env.User("kofi@example.org", "", "")
	return env, u.ID
}

func TestRepeatGetsTheFirstResponse(t *testing.T) {
	env, user := setup(t)
	runs := 0
	fn := func(context.Context) (idempotency.Response, error) {
		runs++
		return idempotency.Response{Status: 200, Body: []byte(`{"run":` + string(rune('0'+runs)) + `}`)}, nil
	}
	h := idempotency.Hash("POST", "/x", "")
	first, replayed, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "key-1", h, fn)
	if err != nil || replayed || first.Status != 200 {
		t.Fatalf("first: %v %v %+v", err, replayed, first)
	}
	again, replayed, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "key-1", h, fn)
	if err != nil || !replayed || again.Status != 200 || string(again.Body) != string(first.Body) {
		t.Fatalf("repeat: %v %v %+v", err, replayed, again)
	}
	if runs != 1 {
		t.Fatalf("ran %d times", runs)
	}
	// Another key, or the same key of another person, runs again.
	other, _ := env.User("efua@example.org", "", "")
	if _, replayed, _ := idempotency.Do(t.Context(), env.DB.Gorm, other.ID, "key-1", h, fn); replayed || runs != 2 {
		t.Fatalf("another person's key replayed: runs %d", runs)
	}
}

func TestSameKeyForAnotherRequestIsRefused(t *testing.T) {
	env, user := setup(t)
	ok := func(context.Context) (idempotency.Response, error) { return idempotency.Response{Status: 200}, nil }
	if _, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", idempotency.Hash("a"), ok); err != nil {
		t.Fatal(err)
	}
	ran := false
	_, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", idempotency.Hash("b"), func(context.Context) (idempotency.Response, error) {
		ran = true
		return idempotency.Response{Status: 200}, nil
	})
	if !errors.Is(err, idempotency.ErrMismatch) || ran {
		t.Fatalf("different request: %v (ran %v)", err, ran)
	}
}

func TestRepeatWhileInFlightIsAConflict(t *testing.T) {
	env, user := setup(t)
	started, finish := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _, err := idempotency.Do(context.Background(), env.DB.Gorm, user, "slow", idempotency.Hash("a"), func(context.Context) (idempotency.Response, error) {
			close(started)
			<-finish
			return idempotency.Response{Status: 201, Body: []byte("done")}, nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-started
	_, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "slow", idempotency.Hash("a"), func(context.Context) (idempotency.Response, error) {
		t.Error("ran twice")
		return idempotency.Response{}, nil
	})
	close(finish)
	wg.Wait()
	if !errors.Is(err, idempotency.ErrInFlight) {
		t.Fatalf("repeat in flight: %v", err)
	}
	res, replayed, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "slow", idempotency.Hash("a"), nil)
	if err != nil || !replayed || res.Status != 201 || string(res.Body) != "done" {
		t.Fatalf("after: %v %+v", err, res)
	}
}

func TestFailureReleasesTheKey(t *testing.T) {
	env, user := setup(t)
	h := idempotency.Hash("a")
	boom := errors.New("database went away")
	if _, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(context.Context) (idempotency.Response, error) {
		return idempotency.Response{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("error not passed on: %v", err)
	}
	if _, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(context.Context) (idempotency.Response, error) {
		return idempotency.Response{Status: 503}, nil
	}); err != nil {
		t.Fatal(err)
	}
	res, replayed, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(context.Context) (idempotency.Response, error) {
		return idempotency.Response{Status: 200, Body: []byte("ok")}, nil
	})
	if err != nil || replayed || string(res.Body) != "ok" {
		t.Fatalf("retry after failures did not run: %v %v %+v", err, replayed, res)
	}
}

func TestAbandonedKeyIsTakenOver(t *testing.T) {
	env, user := setup(t)
	h := idempotency.Hash("a")
	// A process that died mid-request left the key in flight long ago.
	old := time.Now().UTC().Add(-idempotency.Abandoned - time.Minute)
	if err := env.DB.Gorm.Exec("INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response, created_at) VALUES (?, 'k', ?, 0, '', ?)",
		user, h, old).Error; err != nil {
		t.Fatal(err)
	}
	res, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(context.Context) (idempotency.Response, error) {
		return idempotency.Response{Status: 200, Body: []byte("ok")}, nil
	})
	if err != nil || string(res.Body) != "ok" {
		t.Fatalf("abandoned key: %v %+v", err, res)
	}
}

func TestKeys(t *testing.T) {
	for key, ok := range map[string]bool{
		"a": true, "550e8400-e29b-41d4-a716-446655440000": true, strings.Repeat("k", 255): true, "with space": true,
		"": false, strings.Repeat("k", 256): false, "tab\there": false, "é": false, "nul\x00": false, "line\n": false,
	} {
		if idempotency.ValidKey(key) != ok {
			t.Errorf("ValidKey(%q) = %v", key, !ok)
		}
	}
	env, user := setup(t)
	if _, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "", "h", nil); !errors.Is(err, idempotency.ErrInvalidKey) {
		t.Fatalf("empty key: %v", err)
	}
}
