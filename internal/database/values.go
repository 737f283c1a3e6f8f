package database

import "gorm.io/gorm"

// UUIDParam is the placeholder of a uuid in a VALUES list, which
// statements use to update or read many rows at once: PostgreSQL types a
// bare parameter there as text, which does not compare with a uuid column.
func UUIDParam(tx *gorm.DB) string {
	if tx.Dialector.Name() == Postgres {
		return "CAST(? AS uuid)"
	}
	return "?"
}

// Pad lengthens a list of values looked up together to the next power of
// two by repeating its last value, which changes no lookup: a statement
// listing them then has one of a few texts rather than one per length, so
// PostgreSQL reuses its prepared statements and their plans instead of
// planning each batch anew.
func Pad[T any](s []T) []T {
	n := 1
	for n < len(s) {
		n *= 2
	}
	if len(s) == 0 || n == len(s) {
		return s
	}
	out := make([]T, n)
	copy(out, s)
	for i := len(s); i < n; i++ {
		out[i] = s[len(s)-1]
	}
	return out
}
