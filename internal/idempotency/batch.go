package idempotency

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"facility/internal/database"
)

// Batch functions: the same rules as Do for many requests handled together
// in one transaction (a group commit), in a fixed number of statements
// however many requests there are. The caller claims the keys, does the
// work of the claimed ones, stores their responses and releases the claims
// of those whose work failed, all in tx, and commits.

// Claim is one request of a batch. A batch must not hold the same
// (UserID, Key) twice: the caller puts a repetition in a later batch.
type Claim struct {
	UserID, Key, RequestHash string
}

// Claimed is what ClaimMany found for one request.
type Claimed struct {
	// Mine: the key is now held by tx; do the work, then StoreMany or
	// ReleaseMany.
	Mine bool
	// Response is the stored response to replay when the key was used
	// before for the same request (Mine false, Err nil).
	Response Response
	// Err is ErrInvalidKey or ErrMismatch.
	Err error
}

// ClaimMany claims all keys in one statement and reads the stored responses
// of the keys already used in another. On PostgreSQL a key claimed by a
// transaction still running makes this one wait for it, as in Do.
func ClaimMany(tx *gorm.DB, claims []Claim) ([]Claimed, error) {
	out := make([]Claimed, len(claims))
	var sql strings.Builder
	var args []any
	now := time.Now().UTC() // housekeeping only, as in Do
	for i, c := range claims {
		if !ValidKey(c.Key) {
			out[i].Err = ErrInvalidKey
			continue
		}
		if len(args) > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, 0, '', ?)")
		args = append(args, c.UserID, c.Key, c.RequestHash, now)
	}
	if len(args) == 0 {
		return out, nil
	}
	var got []struct{ UserID, Key string }
	if err := tx.Raw(`INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response, created_at)
		VALUES `+sql.String()+` ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key`, args...).Scan(&got).Error; err != nil {
		return nil, fmt.Errorf("claim idempotency keys: %w", err)
	}
	mine := make(map[[2]string]bool, len(got))
	for _, g := range got {
		mine[[2]string{strings.ToLower(g.UserID), g.Key}] = true
	}
	var used []string
	var usedArgs []any
	for i, c := range claims {
		if out[i].Err != nil {
			continue
		}
		if mine[[2]string{strings.ToLower(c.UserID), c.Key}] {
			out[i].Mine = true
			continue
		}
		used = append(used, "(user_id = ? AND key = ?)")
		usedArgs = append(usedArgs, c.UserID, c.Key)
	}
	if len(used) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID, Key, RequestHash string
		StatusCode               int
		Response                 string
	}
	if err := tx.Raw("SELECT user_id, key, request_hash, status_code, response FROM idempotency_keys WHERE "+
		strings.Join(used, " OR "), usedArgs...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	stored := make(map[[2]string]int, len(rows))
	for i, r := range rows {
		stored[[2]string{strings.ToLower(r.UserID), r.Key}] = i
	}
	for i, c := range claims {
		if out[i].Err != nil || out[i].Mine {
			continue
		}
		j, ok := stored[[2]string{strings.ToLower(c.UserID), c.Key}]
		if !ok {
			// Neither claimed nor stored: only possible if the row vanished
			// between the two statements, which nothing does to a key.
			return nil, fmt.Errorf("read idempotency key: %q not found after conflict", c.Key)
		}
		if rows[j].RequestHash != c.RequestHash {
			out[i].Err = ErrMismatch
			continue
		}
		out[i].Response = Response{Status: rows[j].StatusCode, Body: []byte(rows[j].Response)}
	}
	return out, nil
}

// StoreMany records the responses of claimed keys in one statement.
// Responses of 500 and above must not be stored (release those claims).
func StoreMany(tx *gorm.DB, claims []Claim, responses []Response) error {
	if len(claims) == 0 {
		return nil
	}
	uid := database.UUIDParam(tx)
	var sql strings.Builder
	args := make([]any, 0, 4*len(claims))
	for i, c := range claims {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(" + uid + ", ?, CAST(? AS integer), ?)")
		args = append(args, c.UserID, c.Key, responses[i].Status, string(responses[i].Body))
	}
	res := tx.Exec(`WITH v (uid, k, code, body) AS (VALUES `+sql.String()+`)
		UPDATE idempotency_keys SET status_code = v.code, response = v.body FROM v
		WHERE idempotency_keys.user_id = v.uid AND idempotency_keys.key = v.k`, args...)
	if res.Error != nil {
		return fmt.Errorf("store idempotent responses: %w", res.Error)
	}
	if res.RowsAffected != int64(len(claims)) {
		return fmt.Errorf("store idempotent responses: %d of %d keys found", res.RowsAffected, len(claims))
	}
	return nil
}

// ReleaseMany removes claims whose work failed, so that a retry does the
// work again (as Do's rollback does for one request).
func ReleaseMany(tx *gorm.DB, claims []Claim) error {
	if len(claims) == 0 {
		return nil
	}
	conds := make([]string, len(claims))
	args := make([]any, 0, 2*len(claims))
	for i, c := range claims {
		conds[i] = "(user_id = ? AND key = ?)"
		args = append(args, c.UserID, c.Key)
	}
	if err := tx.Exec("DELETE FROM idempotency_keys WHERE "+strings.Join(conds, " OR "), args...).Error; err != nil {
		return fmt.Errorf("release idempotency keys: %w", err)
	}
	return nil
}
