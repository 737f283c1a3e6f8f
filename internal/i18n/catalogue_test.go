package i18n

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"facility/ui"
)

// placeholder finds the names of {{.Name}} template fields in a message.
var placeholder = regexp.MustCompile(`\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)`)

func loadCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := Load(ui.Locales())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// readMessages parses one message file into id -> message.
func readMessages(t *testing.T, dir fs.FS, name string) map[string]string {
	t.Helper()
	data, err := fs.ReadFile(dir, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return m
}

// diff returns the members of a missing from b, sorted.
func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func toSet(ids []string) map[string]bool {
	s := make(map[string]bool, len(ids))
	for _, id := range ids {
		s[id] = true
	}
	return s
}

func placeholders(msg string) map[string]bool {
	s := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(msg, -1) {
		s[m[1]] = true
	}
	return s
}

func keys(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCatalogueIDs checks that every language has exactly the English ids.
func TestCatalogueIDs(t *testing.T) {
	c := loadCatalogue(t)
	en := toSet(c.IDs("en"))
	if len(en) == 0 {
		t.Fatal("no English messages")
	}
	for _, lang := range Languages[1:] {
		got := toSet(c.IDs(lang))
		if missing := diff(en, got); len(missing) > 0 {
			t.Errorf("%s: missing %d message(s): %s", lang, len(missing), strings.Join(missing, ", "))
		}
		if extra := diff(got, en); len(extra) > 0 {
			t.Errorf("%s: %d message(s) not in English: %s", lang, len(extra), strings.Join(extra, ", "))
		}
	}
}

// TestCatalogueFiles checks each area file against its English original:
// same keys, and the same {{.Placeholder}} names in every message.
func TestCatalogueFiles(t *testing.T) {
	dir := ui.Locales()
	enFiles, err := fs.Glob(dir, "*.en.yaml")
	if err != nil || len(enFiles) == 0 {
		t.Fatalf("no English message files (%v)", err)
	}
	areas := map[string]bool{}
	for _, name := range enFiles {
		areas[strings.TrimSuffix(name, ".en.yaml")] = true
	}
	for _, lang := range Languages[1:] {
		names, err := fs.Glob(dir, "*."+lang+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if area := strings.TrimSuffix(name, "."+lang+".yaml"); !areas[area] {
				t.Errorf("%s has no English original %s.en.yaml", name, area)
			}
		}
	}
	for _, area := range keys(areas) {
		en := readMessages(t, dir, area+".en.yaml")
		enIDs := map[string]bool{}
		for id := range en {
			enIDs[id] = true
		}
		for _, lang := range Languages[1:] {
			name := area + "." + lang + ".yaml"
			if _, err := fs.Stat(dir, name); err != nil {
				t.Errorf("%s is missing (English has %s.en.yaml)", name, area)
				continue
			}
			tr := readMessages(t, dir, name)
			trIDs := map[string]bool{}
			for id := range tr {
				trIDs[id] = true
			}
			if missing := diff(enIDs, trIDs); len(missing) > 0 {
				t.Errorf("%s: missing %s", name, strings.Join(missing, ", "))
			}
			if extra := diff(trIDs, enIDs); len(extra) > 0 {
				t.Errorf("%s: not in English: %s", name, strings.Join(extra, ", "))
			}
			for id, msg := range en {
				got, ok := tr[id]
				if !ok {
					continue
				}
				if strings.TrimSpace(got) == "" {
					t.Errorf("%s: %s is empty", name, id)
				}
				want, have := placeholders(msg), placeholders(got)
				if strings.Join(keys(want), ",") != strings.Join(keys(have), ",") {
					t.Errorf("%s: %s uses placeholders %v, English uses %v", name, id, keys(have), keys(want))
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	c := loadCatalogue(t)
	for header, want := range map[string]string{
		"fr-CH,fr;q=0.9,en;q=0.5": "fr",
		"es-419":                  "es",
		"de":                      "en",
		"":                        "en",
	} {
		if got := c.Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestTranslate(t *testing.T) {
	c := loadCatalogue(t)
	got := c.Translate("fr", "error_required", map[string]any{"Field": "Nom"})
	if !strings.Contains(got, "Nom") {
		t.Errorf("Translate(fr, error_required) = %q, want it to contain %q", got, "Nom")
	}
	if got == "error_required" || got == c.Translate("en", "error_required", map[string]any{"Field": "Nom"}) {
		t.Errorf("Translate(fr, error_required) = %q, not a French message", got)
	}
}

// TestRenderAll renders every message in every language with its
// placeholders filled, so a broken template cannot reach a person.
func TestRenderAll(t *testing.T) {
	c := loadCatalogue(t)
	dir := ui.Locales()
	enFiles, err := fs.Glob(dir, "*.en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	for _, name := range enFiles {
		for _, msg := range readMessages(t, dir, name) {
			for p := range placeholders(msg) {
				data[p] = "x" + p
			}
		}
	}
	for _, id := range c.IDs("en") {
		for _, lang := range Languages {
			got := c.Translate(lang, id, data)
			if got == id || strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
				t.Errorf("%s: %s renders as %q", lang, id, got)
			}
		}
	}
}

// TestNoMessageInTwoAreas: areas share one catalogue, so a key defined in
// two files would silently take whichever loads last.
func TestNoMessageInTwoAreas(t *testing.T) {
	dir := ui.Locales()
	for _, lang := range Languages {
		names, err := fs.Glob(dir, "*."+lang+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, name := range names {
			for id := range readMessages(t, dir, name) {
				if other, dup := seen[id]; dup {
					t.Errorf("%s is defined in both %s and %s", id, other, name)
				}
				seen[id] = name
			}
		}
	}
}
