// Package token makes the secrets that travel in links, cookies and
// Authorization headers: 256 random bits, of which the database keeps only
// a SHA-256 hash, so a copy of the database opens nothing.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// New returns a token (prefix + 43 URL-safe characters) and its hash.
func New(prefix string) (plain, hash string) {
	b := make([]byte, 32)
	// crypto/rand.Read never fails on supported platforms (it panics
	// itself if the system's generator is broken).
	_, _ = rand.Read(b)
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, Hash(plain)
}

// Hash is how a token is stored and looked up.
func Hash(plain string) string {
	s := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(s[:])
}
