package attachments

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameRunes is the longest name kept for display.
const MaxFilenameRunes = 200

// CleanFilename returns the name a file is shown with: without any folder
// (either slash), without control or invisible formatting characters (a
// right-to-left override can make "report‮fdp.exe" look like a PDF), without
// leading dots or surrounding spaces, and at most 200 characters, keeping
// the extension. A name that is not valid UTF-8 or contains NUL (a classic
// way to cut an extension short) is refused: ok is false.
func CleanFilename(name string) (clean string, ok bool) {
	if !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
		return "", false
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	if name == "" {
		return "", false
	}
	if utf8.RuneCountInString(name) > MaxFilenameRunes {
		ext := ""
		if i := strings.LastIndexByte(name, '.'); i > 0 && utf8.RuneCountInString(name[i:]) <= 10 {
			ext = name[i:]
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:MaxFilenameRunes-utf8.RuneCountInString(ext)]) + ext
	}
	return name, true
}
