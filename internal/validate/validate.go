// Package validate collects field-level input errors. Domain code reports
// what is wrong with a message code ("required", "too_long", ...) and the
// web layer translates it, so the same rule gives the same message in the
// HTML form and in the JSON API, in the reader's language.
package validate

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field  string         `json:"field"`
	Code   string         `json:"code"`
	Params map[string]any `json:"params,omitempty"`
}

// Errors is the set of problems with one input; it is an error when not empty.
type Errors []FieldError

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + ": " + f.Code
	}
	return "invalid input: " + strings.Join(parts, ", ")
}

// Add records a problem.
func (e *Errors) Add(field, code string, params map[string]any) {
	*e = append(*e, FieldError{Field: field, Code: code, Params: params})
}

// Has reports whether field already has a problem.
func (e Errors) Has(field string) bool {
	for _, f := range e {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns e as an error, or nil when there is nothing wrong.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// As extracts field errors from err.
func As(err error) (Errors, bool) {
	var e Errors
	ok := errors.As(err, &e)
	return e, ok
}

// One is a shorthand for a single-field error.
func One(field, code string) error {
	return Errors{{Field: field, Code: code}}
}

// Text checks free text from a person: valid UTF-8, no NUL or other control
// characters except line breaks and tabs when multiline, no bidirectional
// overrides that disguise what is shown, and a length in characters.
func (e *Errors) Text(field, v string, required bool, max int, multiline bool) {
	switch {
	case !utf8.ValidString(v):
		e.Add(field, "invalid_utf8", nil)
	case strings.TrimSpace(v) == "":
		if required {
			e.Add(field, "required", nil)
		}
	case utf8.RuneCountInString(v) > max:
		e.Add(field, "too_long", map[string]any{"Max": max})
	default:
		for _, r := range v {
			if (r == '\n' || r == '\r' || r == '\t') && multiline {
				continue
			}
			if unicode.IsControl(r) {
				e.Add(field, "control_character", nil)
				return
			}
			if isBidiControl(r) {
				e.Add(field, "bidi_control", nil)
				return
			}
		}
	}
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// Email checks an e-mail address and returns it normalised (trimmed, lower case).
func (e *Errors) Email(field, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		e.Add(field, "required", nil)
		return v
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndex(v, "@"):], ".") {
		e.Add(field, "invalid_email", nil)
	}
	return v
}

// URL checks an optional http(s) address.
func (e *Errors) URL(field, v string, required bool) string {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			e.Add(field, "required", nil)
		}
		return v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 500 {
		e.Add(field, "invalid_url", nil)
	}
	return v
}

// OneOf checks v is one of the allowed values.
func (e *Errors) OneOf(field, v string, allowed []string) {
	if v == "" {
		e.Add(field, "required", nil)
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	e.Add(field, "not_allowed", nil)
}

// IntRange checks a whole number within bounds.
func (e *Errors) IntRange(field string, v, min, max int) {
	if v < min || v > max {
		e.Add(field, "out_of_range", map[string]any{"Min": min, "Max": max})
	}
}

// String form of params for logs and tests.
func (f FieldError) String() string { return fmt.Sprintf("%s:%s", f.Field, f.Code) }
