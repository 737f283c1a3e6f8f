// Package ui embeds the web interface: HTML templates, CSS and JavaScript,
// and the translation files for English, French and Spanish.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed templates static locales
var files embed.FS

// Templates are the html/template files.
func Templates() fs.FS { return sub("templates") }

// Static are the files served under /static/.
func Static() fs.FS { return sub("static") }

// Locales are the translation files, one per language.
func Locales() fs.FS { return sub("locales") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // a fixed, valid name
	}
	return f
}
