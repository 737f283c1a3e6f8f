package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"facility/internal/validate"
)

// Password length bounds, in characters. Long passphrases are welcome and
// hashed whole; the upper bound only stops abuse of the hash function.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// argon2id parameters (OWASP's recommended minimum: 19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashPassword returns a PHC-format argon2id hash with a fresh random salt.
func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// checkPassword compares pw with a stored hash in constant time.
func checkPassword(pw, stored string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// A hash of a password nobody has, compared when the account does not exist
// so that a missing account takes as long to refuse as a wrong password.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8"

//go:embed common_passwords.txt
var commonPasswordList string

// commonPasswords is built once from the embedded list; it is read-only.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// leet undoes the usual substitutions so "P@ssw0rd!" is seen as "password".
var leet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

// isCommon reports whether pw is, or is a trivial variation of, a password
// found in breach lists: a listed word with digits or symbols around it,
// capitalised or with letters swapped for look-alike digits.
func isCommon(pw string) bool {
	lower := strings.ToLower(pw)
	if commonPasswords[lower] {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if commonPasswords[core] || commonPasswords[leet.Replace(core)] {
		return true
	}
	stripped := strings.TrimRightFunc(leet.Replace(lower), func(r rune) bool { return !unicode.IsLetter(r) })
	if commonPasswords[stripped] {
		return true
	}
	// One character repeated, or a keyboard or number run, however long.
	if len(strings.Trim(lower, lower[:1])) == 0 {
		return true
	}
	return strings.Contains("01234567890123456789", lower) || strings.Contains("abcdefghijklmnopqrstuvwxyz", lower) ||
		strings.Contains("qwertyuiopasdfghjklzxcvbnm", lower)
}

// checkNewPassword applies the password rules: length in characters, not a
// common or breached password, and not the person's own e-mail or name.
func checkNewPassword(errs *validate.Errors, field, pw, email, name string) {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		errs.Add(field, "required", nil)
	case !utf8.ValidString(pw) || strings.ContainsRune(pw, 0):
		errs.Add(field, "invalid_utf8", nil)
	case n < MinPasswordLength:
		errs.Add(field, "password_too_short", map[string]any{"Min": MinPasswordLength})
	case n > MaxPasswordLength:
		errs.Add(field, "too_long", map[string]any{"Max": MaxPasswordLength})
	case isCommon(pw):
		errs.Add(field, "password_common", nil)
	case email != "" && (strings.EqualFold(pw, email) || strings.Contains(strings.ToLower(pw), strings.ToLower(strings.Split(email, "@")[0])) && len(strings.Split(email, "@")[0]) >= 4):
		errs.Add(field, "password_personal", nil)
	case name != "" && strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(name)):
		errs.Add(field, "password_personal", nil)
	}
}
