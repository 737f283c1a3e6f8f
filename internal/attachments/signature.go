package attachments

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// A file's type is decided by its first bytes, not by its name or by what
// the browser claims: the name's extension must be allowed by the question
// and agree with the content, so an executable renamed to .pdf is refused.
// Nothing is ever decompressed to decide (a ZIP's first entry name is read
// from its local header), so a compressed bomb costs nothing here.

// HeadSize is how many leading bytes Check needs to decide.
const HeadSize = 4096

// ContentTypes are the types files are stored and served with.
var ContentTypes = map[string]string{
	"pdf":  "application/pdf",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"odt":  "application/vnd.oasis.opendocument.text",
	"png":  "image/png",
	"jpg":  "image/jpeg",
	"csv":  "text/csv; charset=utf-8",
	"txt":  "text/plain; charset=utf-8",
}

// Extension returns the lower-case extension of a file name, with common
// spellings folded (jpeg is jpg), or "" when there is none.
func Extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	ext := strings.ToLower(name[i+1:])
	if ext == "jpeg" {
		ext = "jpg"
	}
	return ext
}

// IsText reports whether files of ext are plain text, whose every byte is
// checked (valid UTF-8, no NUL) rather than only the first ones.
func IsText(ext string) bool { return ext == "csv" || ext == "txt" }

// Check reports whether head, the first bytes of a file (up to HeadSize,
// fewer only if the file is shorter), is what a file with extension ext
// must start with. For text types it checks only head; the rest is checked
// while the file streams (see textCheck).
func Check(ext string, head []byte) bool {
	switch ext {
	case "pdf":
		return bytes.HasPrefix(head, []byte("%PDF-"))
	case "png":
		return bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n"))
	case "jpg":
		return bytes.HasPrefix(head, []byte("\xff\xd8\xff"))
	case "docx", "xlsx", "pptx":
		return officeOpenXML(ext, head)
	case "odt":
		return openDocumentText(head)
	case "csv", "txt":
		if len(head) == 0 || bytes.IndexByte(head, 0) >= 0 {
			return false
		}
		// head may end inside a character; the stream check sees the rest.
		return utf8.Valid(head[:len(head)-incompleteTail(head)])
	}
	return false
}

// Detect names what head looks like, for messages: one of the extensions
// Check knows, "exe" for Windows or Linux programs, or "".
func Detect(head []byte) string {
	for _, ext := range []string{"pdf", "png", "jpg", "docx", "xlsx", "pptx", "odt"} {
		if Check(ext, head) {
			return ext
		}
	}
	if bytes.HasPrefix(head, []byte("MZ")) || bytes.HasPrefix(head, []byte("\x7fELF")) ||
		bytes.HasPrefix(head, []byte("\xcf\xfa\xed\xfe")) || bytes.HasPrefix(head, []byte("#!")) {
		return "exe"
	}
	if Check("txt", head) {
		return "txt"
	}
	return ""
}

// zipEntry is the first entry of a ZIP archive, from its local file header.
type zipEntry struct {
	name   string
	stored bool   // method 0: the data follows uncompressed
	data   []byte // the entry's data when stored, sized and within head
	rest   []byte // what follows the header in head
}

// firstZipEntry reads the local file header at the start of head without
// decompressing anything.
func firstZipEntry(head []byte) (zipEntry, bool) {
	const fixed = 30
	if len(head) < fixed || !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return zipEntry{}, false
	}
	flags := binary.LittleEndian.Uint16(head[6:8])
	method := binary.LittleEndian.Uint16(head[8:10])
	size := int(binary.LittleEndian.Uint32(head[18:22]))
	nameLen := int(binary.LittleEndian.Uint16(head[26:28]))
	extraLen := int(binary.LittleEndian.Uint16(head[28:30]))
	if flags&1 != 0 || nameLen == 0 || fixed+nameLen > len(head) {
		return zipEntry{}, false // encrypted, nameless, or a name longer than we read
	}
	e := zipEntry{name: string(head[fixed : fixed+nameLen]), stored: method == 0}
	start := fixed + nameLen + extraLen
	if start <= len(head) {
		e.rest = head[start:]
	}
	if e.stored && flags&8 == 0 && start+size <= len(head) && start+size >= start {
		e.data = head[start : start+size]
	}
	return e, true
}

// officeOpenXML: Word, Excel and PowerPoint files are ZIP archives whose
// first entry is the package's content types or relations, or a part of
// the right application.
func officeOpenXML(ext string, head []byte) bool {
	e, ok := firstZipEntry(head)
	if !ok {
		return false
	}
	switch {
	case e.name == "[Content_Types].xml", strings.HasPrefix(e.name, "_rels/"),
		strings.HasPrefix(e.name, "docProps/"), strings.HasPrefix(e.name, "customXml/"):
		return true
	case strings.HasPrefix(e.name, "word/"):
		return ext == "docx"
	case strings.HasPrefix(e.name, "xl/"):
		return ext == "xlsx"
	case strings.HasPrefix(e.name, "ppt/"):
		return ext == "pptx"
	}
	return false
}

// openDocumentText: an OpenDocument file starts with an uncompressed
// "mimetype" entry naming its type (ODF 1.2, part 3, 3.3).
func openDocumentText(head []byte) bool {
	const mime = "application/vnd.oasis.opendocument.text"
	e, ok := firstZipEntry(head)
	if !ok || e.name != "mimetype" || !e.stored {
		return false
	}
	if e.data != nil {
		return string(e.data) == mime
	}
	// Sizes left to a data descriptor: the type must be followed by the
	// descriptor or the next entry, not by more name ("-template").
	rest := e.rest
	return len(rest) > len(mime) && string(rest[:len(mime)]) == mime && rest[len(mime)] == 'P'
}

// incompleteTail is how many bytes at the end of p begin a UTF-8 character
// that p cuts off (0 to 3).
func incompleteTail(p []byte) int {
	for i := 1; i <= 3 && i <= len(p); i++ {
		if utf8.RuneStart(p[len(p)-i]) {
			if utf8.FullRune(p[len(p)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}

// textCheck is written every byte of a text file as it streams and
// remembers whether all of it was valid UTF-8 without NUL, including
// characters split between writes.
type textCheck struct {
	carry []byte // the start of a character cut off by the last write
	bad   bool
}

func (t *textCheck) Write(p []byte) (int, error) {
	n := len(p)
	if t.bad {
		return n, nil
	}
	if bytes.IndexByte(p, 0) >= 0 {
		t.bad = true
		return n, nil
	}
	if len(t.carry) > 0 {
		// Finish the cut-off character with the first bytes of p.
		take := min(len(p), utf8.UTFMax-len(t.carry))
		b := append(append(make([]byte, 0, utf8.UTFMax), t.carry...), p[:take]...)
		if !utf8.FullRune(b) {
			t.carry = b
			return n, nil
		}
		r, size := utf8.DecodeRune(b)
		if (r == utf8.RuneError && size <= 1) || size <= len(t.carry) {
			t.bad = true
			return n, nil
		}
		p = p[size-len(t.carry):]
		t.carry = t.carry[:0]
	}
	tail := incompleteTail(p)
	if !utf8.Valid(p[:len(p)-tail]) {
		t.bad = true
		return n, nil
	}
	t.carry = append(t.carry[:0], p[len(p)-tail:]...)
	return n, nil
}

// valid reports whether everything written was text and nothing was cut off.
func (t *textCheck) valid() bool { return !t.bad && len(t.carry) == 0 }
