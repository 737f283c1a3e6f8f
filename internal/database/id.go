package database

import "github.com/google/uuid"

// NewID returns a version 7 UUID: unguessable enough for URLs, and ordered by
// time so primary-key indexes stay compact.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ValidID reports whether s is a UUID as this system writes them.
func ValidID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.String() == s
}
