// Package idempotency makes a request safe to repeat: a client sends a key
// with it, and every repetition of the same request with the same key gets
// the first one's response instead of doing the work again (double clicks,
// retries after a lost connection). It follows the IETF draft
// "The Idempotency-Key HTTP Header Field", except that a repetition arriving
// while the first is still running waits for its answer rather than being
// refused, and the same key with a different request is unprocessable.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Errors of Do.
var (
	// ErrInvalidKey: a key must be 1 to 255 printable ASCII characters.
	ErrInvalidKey = errors.New("idempotency key must be 1 to 255 printable ASCII characters")
	// ErrMismatch: the key was used for a different request (422).
	ErrMismatch = errors.New("this idempotency key was used for a different request")
	// errNotStored rolls back work whose response is a server failure.
	errNotStored = errors.New("server failure: response not stored")
)

// Response is what the first request answered, replayed to repetitions.
type Response struct {
	Status int
	Body   []byte
}

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

// Do runs fn once per (userID, key), inside the transaction that claims the
// key and stores the response (the batch functions, for one request), so the work and its recorded answer commit
// or roll back together:
//   - the first request runs fn; a response below 500 is stored with the
//     work and returned;
//   - a repetition with the same requestHash gets the stored response
//     (replayed = true). A repetition that arrives while the first still
//     runs waits for it (PostgreSQL's unique index, SQLite's write lock)
//     and then gets its response: no client ever sees "try again later";
//   - the same key with another requestHash gets ErrMismatch;
//   - when fn fails (an error, or a 5xx response) nothing is stored, the
//     work rolls back, and a retry runs fn again.
//
// fn must do its writes through tx.
func Do(ctx context.Context, db *gorm.DB, userID, key, requestHash string, fn func(tx *gorm.DB) (Response, error)) (res Response, replayed bool, err error) {
	if !ValidKey(key) {
		return Response{}, false, ErrInvalidKey
	}
	claim := []Claim{{UserID: userID, Key: key, RequestHash: requestHash}}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		got, err := ClaimMany(tx, claim)
		switch {
		case err != nil:
			return err
		case got[0].Err != nil:
			return got[0].Err
		case !got[0].Mine:
			res, replayed = got[0].Response, true
			return nil
		}
		if res, err = fn(tx); err != nil {
			return err
		}
		if res.Status >= 500 {
			return errNotStored // the rollback frees the key
		}
		return StoreMany(tx, claim, []Response{res})
	})
	if errors.Is(err, errNotStored) {
		return res, false, nil
	}
	if err != nil {
		return Response{}, false, err
	}
	return res, replayed, nil
}
