// Package idempotency makes a request safe to repeat: a client sends a key
// with it, and every repetition of the same request with the same key gets
// the first one's response instead of doing the work again (double clicks,
// retries after a lost connection). It follows the IETF draft
// "The Idempotency-Key HTTP Header Field": a repetition while the first is
// still running is a conflict, and the same key with a different request is
// unprocessable.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"facility/internal/database"
)

// Errors of Do.
var (
	// ErrInvalidKey: a key must be 1 to 255 printable ASCII characters.
	ErrInvalidKey = errors.New("idempotency key must be 1 to 255 printable ASCII characters")
	// ErrInFlight: the first request with this key has not finished (409).
	ErrInFlight = errors.New("a request with this idempotency key is still being processed")
	// ErrMismatch: the key was used for a different request (422).
	ErrMismatch = errors.New("this idempotency key was used for a different request")
)

// Response is what the first request answered, replayed to repetitions.
type Response struct {
	Status int
	Body   []byte
}

// Abandoned is how long a key may stay in flight before it is taken to be
// left behind by a process that died mid-request; a retry then runs again.
// It is longer than any request may last (the server's write timeout).
const Abandoned = 2 * time.Minute

// inFlight marks a key whose response is not stored yet.
const inFlight = 0

// ValidKey reports whether key is 1..255 printable ASCII characters.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > 255 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// Hash is a request fingerprint to pass to Do: the SHA-256 of its parts.
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// The length prefix keeps ("ab","c") apart from ("a","bc").
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Do runs fn once per (userID, key). The key is claimed in its own
// transaction before fn runs, so concurrent repetitions see it at once:
//   - the first request runs fn; a response below 500 is stored and returned;
//   - a repetition with the same requestHash gets the stored response
//     (replayed = true), or ErrInFlight while the first still runs;
//   - the same key with another requestHash gets ErrMismatch;
//   - when fn fails (an error, or a 5xx response) the key is released, so a
//     retry runs fn again.
func Do(ctx context.Context, db *gorm.DB, userID, key, requestHash string, fn func(context.Context) (Response, error)) (res Response, replayed bool, err error) {
	if !ValidKey(key) {
		return Response{}, false, ErrInvalidKey
	}
	stored, claimed, err := claim(ctx, db, userID, key, requestHash)
	if err != nil {
		return Response{}, false, err
	}
	if !claimed {
		return stored, true, nil
	}
	res, err = fn(ctx)
	if err != nil || res.Status >= 500 {
		// Released with a fresh context: the request's may be cancelled.
		if rerr := release(context.WithoutCancel(ctx), db, userID, key); rerr != nil {
			return res, false, errors.Join(err, rerr)
		}
		return res, false, err
	}
	if err := db.WithContext(context.WithoutCancel(ctx)).Exec(
		"UPDATE idempotency_keys SET status_code = ?, response = ? WHERE user_id = ? AND key = ?",
		res.Status, string(res.Body), userID, key).Error; err != nil {
		return res, false, fmt.Errorf("store idempotent response: %w", err)
	}
	return res, false, nil
}

// claim inserts the key in flight, or reads what it already holds.
func claim(ctx context.Context, db *gorm.DB, userID, key, requestHash string) (stored Response, claimed bool, err error) {
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		ins := tx.Exec(`INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response, created_at)
			VALUES (?, ?, ?, ?, '', ?) ON CONFLICT (user_id, key) DO NOTHING`, userID, key, requestHash, inFlight, now)
		if ins.Error != nil {
			return fmt.Errorf("claim idempotency key: %w", ins.Error)
		}
		if ins.RowsAffected == 1 {
			claimed = true
			return nil
		}
		var row struct {
			RequestHash string
			StatusCode  int
			Response    string
			CreatedAt   time.Time
		}
		if err := tx.Raw("SELECT request_hash, status_code, response, created_at FROM idempotency_keys WHERE user_id = ? AND key = ?",
			userID, key).Scan(&row).Error; err != nil {
			return fmt.Errorf("read idempotency key: %w", err)
		}
		switch {
		case row.RequestHash == "":
			// Released between the insert and the read: the caller may retry.
			return ErrInFlight
		case row.RequestHash != requestHash:
			return ErrMismatch
		case row.StatusCode != inFlight:
			stored = Response{Status: row.StatusCode, Body: []byte(row.Response)}
			return nil
		case now.Sub(row.CreatedAt) > Abandoned:
			// Left behind by a process that stopped mid-request: take it over.
			up := tx.Exec("UPDATE idempotency_keys SET created_at = ? WHERE user_id = ? AND key = ? AND status_code = ? AND created_at < ?",
				now, userID, key, inFlight, now.Add(-Abandoned))
			if up.Error != nil {
				return fmt.Errorf("take over idempotency key: %w", up.Error)
			}
			if up.RowsAffected == 1 {
				claimed = true
				return nil
			}
			return ErrInFlight
		}
		return ErrInFlight
	})
	return stored, claimed, err
}

func release(ctx context.Context, db *gorm.DB, userID, key string) error {
	if err := db.WithContext(ctx).Exec("DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND status_code = ?",
		userID, key, inFlight).Error; err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
