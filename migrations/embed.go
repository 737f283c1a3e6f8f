// Package migrations embeds the versioned SQL migrations (one set per
// dialect, kept in step by a schema parity test) and the reference data
// that a Go migration loads.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql data/*.csv
var files embed.FS

// SQL returns the migration files of a dialect: "postgres" or "sqlite".
func SQL(dialect string) fs.FS {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		// Sub only fails on a malformed name, which is a programming error.
		panic(err)
	}
	return sub
}

// Data returns the reference data CSV files.
func Data() fs.FS {
	sub, err := fs.Sub(files, "data")
	if err != nil {
		panic(err)
	}
	return sub
}
