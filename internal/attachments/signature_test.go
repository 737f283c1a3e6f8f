package attachments

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// zipWith builds a ZIP archive whose entries come in the order given; a
// name starting with "=" is stored uncompressed (the "=" dropped).
func zipWith(t testing.TB, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		name, body, _ := strings.Cut(e, ":")
		h := &zip.FileHeader{Name: strings.TrimPrefix(name, "="), Method: zip.Deflate}
		if strings.HasPrefix(name, "=") {
			h.Method = zip.Store
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheckAcceptsRealFormatsAndRefusesImpostors(t *testing.T) {
	docx := zipWith(t, "[Content_Types].xml:<Types/>", "word/document.xml:<w:document/>")
	xlsx := zipWith(t, "[Content_Types].xml:<Types/>", "xl/workbook.xml:<workbook/>")
	wordFirst := zipWith(t, "word/document.xml:<w:document/>")
	odt := zipWith(t, "=mimetype:application/vnd.oasis.opendocument.text", "content.xml:<office/>")
	ods := zipWith(t, "=mimetype:application/vnd.oasis.opendocument.spreadsheet", "content.xml:<office/>")
	odtTemplate := zipWith(t, "=mimetype:application/vnd.oasis.opendocument.text-template", "content.xml:<office/>")
	plainZip := zipWith(t, "evil.exe:MZ")
	cases := []struct {
		name string
		ext  string
		head []byte
		ok   bool
	}{
		{"pdf", "pdf", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj"), true},
		{"windows program renamed .pdf", "pdf", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), false},
		{"linux program renamed .pdf", "pdf", []byte("\x7fELF\x02\x01\x01\x00"), false},
		{"html renamed .pdf", "pdf", []byte("<html><script>alert(1)</script>"), false},
		{"pdf header late", "pdf", []byte("junk%PDF-1.7"), false},
		{"png", "png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), true},
		{"jpeg", "jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), true},
		{"pdf renamed .png", "png", []byte("%PDF-1.4"), false},
		{"docx", "docx", docx, true},
		{"docx content called .xlsx (neutral first entry)", "xlsx", docx, true},
		{"xlsx", "xlsx", xlsx, true},
		{"word part first", "docx", wordFirst, true},
		{"word part first called .xlsx", "xlsx", wordFirst, false},
		{"zip of a program called .docx", "docx", plainZip, false},
		{"odt", "odt", odt, true},
		{"spreadsheet called .odt", "odt", ods, false},
		{"template called .odt", "odt", odtTemplate, false},
		{"docx called .odt", "odt", docx, false},
		{"truncated zip header", "docx", []byte("PK\x03\x04\x14\x00"), false},
		{"text", "txt", []byte("Hello, monde, 世界\r\n"), true},
		{"csv", "csv", []byte("a,b\n1,2\n"), true},
		{"text cut inside a character", "txt", []byte("caf\xc3"), true},
		{"text with NUL", "txt", []byte("MZ\x90\x00"), false},
		{"invalid UTF-8 text", "csv", []byte("a,b\n\xff\xfe"), false},
		{"empty text", "txt", nil, false},
		{"unknown extension", "exe", []byte("MZ"), false},
	}
	for _, tc := range cases {
		if got := Check(tc.ext, tc.head); got != tc.ok {
			t.Errorf("%s: Check(%q) = %v, want %v", tc.name, tc.ext, got, tc.ok)
		}
	}
	if d := Detect([]byte("MZ\x90\x00")); d != "exe" {
		t.Errorf("Detect(MZ) = %q, want exe", d)
	}
	if d := Detect(odt); d != "odt" {
		t.Errorf("Detect(odt) = %q", d)
	}
}

func TestExtension(t *testing.T) {
	for in, want := range map[string]string{"a.PDF": "pdf", "photo.JPEG": "jpg", "x.tar.gz": "gz", "noext": "", "dot.": "", ".pdf": "pdf"} {
		if got := Extension(in); got != want {
			t.Errorf("Extension(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanFilename(t *testing.T) {
	long := strings.Repeat("é", 300) + ".pdf"
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"report.pdf", "report.pdf", true},
		{"../../etc/passwd", "passwd", true},
		{`C:\Users\ana\Desktop\plan.docx`, "plan.docx", true},
		{"invoice\u202efdp.exe", "invoicefdp.exe", true},
		{"tab\tand\nnewline.pdf", "tabandnewline.pdf", true},
		{"  ..hidden.pdf ", "hidden.pdf", true},
		{"evil.exe\x00.pdf", "", false},
		{"bad\xffname.pdf", "", false},
		{"...", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := CleanFilename(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CleanFilename(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	got, ok := CleanFilename(long)
	if !ok || utf8.RuneCountInString(got) != MaxFilenameRunes || !strings.HasSuffix(got, ".pdf") {
		t.Errorf("long name: %d runes, %q suffix, ok %v", utf8.RuneCountInString(got), got[len(got)-4:], ok)
	}
}

// TestTextCheckAcrossWrites splits text at every byte, including inside
// characters, and compares with checking it whole.
func TestTextCheckAcrossWrites(t *testing.T) {
	for _, s := range []string{"plain ascii", "naïve café, 世界, 🙂 ok", "bad \xe4\xb8 cut", "trailing cut \xf0\x9f", "nul\x00inside", "\xed\xa0\x80 surrogate"} {
		want := utf8.ValidString(s) && !strings.Contains(s, "\x00")
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				tc := &textCheck{}
				_, _ = tc.Write([]byte(s[:i]))
				_, _ = tc.Write([]byte(s[i:j]))
				_, _ = tc.Write([]byte(s[j:]))
				if tc.valid() != want {
					t.Fatalf("%q split at %d,%d: valid %v, want %v", s, i, j, tc.valid(), want)
				}
			}
		}
	}
}

// FuzzCheck: the detector never panics on any bytes, agrees with the
// prefixes it promises, and the streaming text check agrees with checking
// the whole text however it is split.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("%PDF-1.7"), 3)
	f.Add([]byte("MZ\x90\x00"), 1)
	f.Add(zipWith(f, "[Content_Types].xml:x"), 10)
	f.Add(zipWith(f, "=mimetype:application/vnd.oasis.opendocument.text"), 40)
	f.Add([]byte("PK\x03\x04\x14\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), 5)
	f.Add([]byte("caf\xc3\xa9"), 4)
	f.Fuzz(func(t *testing.T, head []byte, cut int) {
		for _, ext := range []string{"pdf", "png", "jpg", "docx", "xlsx", "pptx", "odt", "csv", "txt"} {
			if Check(ext, head) && ext == "pdf" && !bytes.HasPrefix(head, []byte("%PDF-")) {
				t.Fatalf("pdf without %%PDF-: %q", head)
			}
			if Check(ext, head) && (ext == "docx" || ext == "odt") && !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
				t.Fatalf("%s without a ZIP header: %q", ext, head)
			}
		}
		_ = Detect(head)
		if len(head) > 0 {
			cut = ((cut % len(head)) + len(head)) % len(head)
		} else {
			cut = 0
		}
		tc := &textCheck{}
		_, _ = tc.Write(head[:cut])
		_, _ = tc.Write(head[cut:])
		want := utf8.Valid(head) && bytes.IndexByte(head, 0) < 0
		if tc.valid() != want {
			t.Fatalf("text check of %q split at %d: %v, want %v", head, cut, tc.valid(), want)
		}
	})
}
