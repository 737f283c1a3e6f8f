package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

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
	fn := func(*gorm.DB) (idempotency.Response, error) {
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
	ok := func(*gorm.DB) (idempotency.Response, error) { return idempotency.Response{Status: 200}, nil }
	if _, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", idempotency.Hash("a"), ok); err != nil {
		t.Fatal(err)
	}
	ran := false
	_, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", idempotency.Hash("b"), func(*gorm.DB) (idempotency.Response, error) {
		ran = true
		return idempotency.Response{Status: 200}, nil
	})
	if !errors.Is(err, idempotency.ErrMismatch) || ran {
		t.Fatalf("different request: %v (ran %v)", err, ran)
	}
}

func TestRepeatWhileInFlightWaitsForTheFirstAnswer(t *testing.T) {
	env, user := setup(t)
	started, finish := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _, err := idempotency.Do(context.Background(), env.DB.Gorm, user, "slow", idempotency.Hash("a"), func(tx *gorm.DB) (idempotency.Response, error) {
			close(started)
			<-finish
			// The work goes through the same transaction as the key.
			if err := tx.Exec("UPDATE users SET name = 'Kofi (slow)' WHERE id = ?", user).Error; err != nil {
				return idempotency.Response{}, err
			}
			return idempotency.Response{Status: 201, Body: []byte("done")}, nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-started
	type outcome struct {
		res      idempotency.Response
		replayed bool
		err      error
	}
	second := make(chan outcome, 1)
	go func() {
		res, replayed, err := idempotency.Do(context.Background(), env.DB.Gorm, user, "slow", idempotency.Hash("a"), func(*gorm.DB) (idempotency.Response, error) {
			t.Error("ran twice")
			return idempotency.Response{}, nil
		})
		second <- outcome{res, replayed, err}
	}()
	select {
	case o := <-second:
		t.Fatalf("the repetition answered before the first finished: %+v", o)
	case <-time.After(200 * time.Millisecond):
	}
	close(finish)
	wg.Wait()
	o := <-second
	if o.err != nil || !o.replayed || o.res.Status != 201 || string(o.res.Body) != "done" {
		t.Fatalf("repetition: %+v", o)
	}
}

func TestFailureRollsBackTheWorkAndFreesTheKey(t *testing.T) {
	env, user := setup(t)
	h := idempotency.Hash("a")
	rename := func(tx *gorm.DB, name string) {
		if err := tx.Exec("UPDATE users SET name = ? WHERE id = ?", name, user).Error; err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("database went away")
	if _, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(tx *gorm.DB) (idempotency.Response, error) {
		rename(tx, "changed by a failed request")
		return idempotency.Response{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("error not passed on: %v", err)
	}
	if res, _, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(tx *gorm.DB) (idempotency.Response, error) {
		rename(tx, "changed by a request that answered 503")
		return idempotency.Response{Status: 503}, nil
	}); err != nil || res.Status != 503 {
		t.Fatal(err, res)
	}
	var name string
	env.DB.Gorm.Raw("SELECT name FROM users WHERE id = ?", user).Scan(&name)
	if strings.HasPrefix(name, "changed") {
		t.Fatalf("a failed request's work was kept: %q", name)
	}
	res, replayed, err := idempotency.Do(t.Context(), env.DB.Gorm, user, "k", h, func(*gorm.DB) (idempotency.Response, error) {
		return idempotency.Response{Status: 200, Body: []byte("ok")}, nil
	})
	if err != nil || replayed || string(res.Body) != "ok" {
		t.Fatalf("retry after failures did not run: %v %v %+v", err, replayed, res)
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
