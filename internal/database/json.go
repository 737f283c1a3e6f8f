package database

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSON stores a value as JSON text in a text column, the same way on both
// databases. Use it for structured documents read and written whole (a
// call's form, a proposal's answers), not for anything queried by field.
type JSON[T any] struct{ V T }

// Value encodes for the database.
func (j JSON[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	if err != nil {
		return nil, fmt.Errorf("encode JSON column: %w", err)
	}
	return string(b), nil
}

// Scan decodes from the database.
func (j *JSON[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		var zero T
		j.V = zero
		return nil
	default:
		return fmt.Errorf("JSON column: unexpected %T", src)
	}
	if err := json.Unmarshal(b, &j.V); err != nil {
		return fmt.Errorf("decode JSON column: %w", err)
	}
	return nil
}

// MarshalJSON shows the value itself in API answers.
func (j JSON[T]) MarshalJSON() ([]byte, error) { return json.Marshal(j.V) }

// UnmarshalJSON reads the value itself.
func (j *JSON[T]) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &j.V) }
