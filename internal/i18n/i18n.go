// Package i18n translates Facility's interface into English, French and
// Spanish from the message files in ui/locales. Every string a person reads
// goes through it, including e-mails and error messages.
package i18n

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// Languages offered, the first being the default.
var Languages = []string{"en", "fr", "es"}

// Catalogue holds the messages of every language.
type Catalogue struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	matcher    language.Matcher
	ids        map[string][]string // language -> message ids, for checks
}

// Load reads every <area>.<lang>.yaml in dir; each area of the interface
// keeps its own files.
func Load(dir fs.FS) (*Catalogue, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	c := &Catalogue{bundle: b, localizers: map[string]*goi18n.Localizer{}, ids: map[string][]string{}}
	tags := make([]language.Tag, 0, len(Languages))
	for _, lang := range Languages {
		names, err := fs.Glob(dir, "*."+lang+".yaml")
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("no translations for %s", lang)
		}
		for _, name := range names {
			data, err := fs.ReadFile(dir, name)
			if err != nil {
				return nil, fmt.Errorf("read translations %s: %w", name, err)
			}
			mf, err := b.ParseMessageFileBytes(data, path.Join("locales", name))
			if err != nil {
				return nil, fmt.Errorf("parse translations %s: %w", name, err)
			}
			for _, m := range mf.Messages {
				c.ids[lang] = append(c.ids[lang], m.ID)
			}
		}
		sort.Strings(c.ids[lang])
		c.localizers[lang] = goi18n.NewLocalizer(b, lang)
		tags = append(tags, language.Make(lang))
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// Translate renders message id in lang with data. A missing message shows
// its id, which the catalogue test prevents from reaching a person.
func (c *Catalogue) Translate(lang, id string, data map[string]any) string {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[Languages[0]]
	}
	s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Has reports whether message id exists in English.
func (c *Catalogue) Has(id string) bool {
	i := sort.SearchStrings(c.ids["en"], id)
	return i < len(c.ids["en"]) && c.ids["en"][i] == id
}

// IDs lists the message ids of a language.
func (c *Catalogue) IDs(lang string) []string { return c.ids[lang] }

// Match picks the best offered language for an Accept-Language header.
func (c *Catalogue) Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, i, _ := c.matcher.Match(tags...)
	return Languages[i]
}

// Supported reports whether lang is offered.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == strings.ToLower(lang) {
			return true
		}
	}
	return false
}
