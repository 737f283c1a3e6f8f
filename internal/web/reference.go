package web

import (
	"context"
	"fmt"
)

// option is a code with its name in the reader's language, for selects.
type option struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// options reads a reference table's codes and names in lang. table and key
// are constants from this package, never input.
func (s *Server) options(ctx context.Context, table, key, lang string) ([]option, error) {
	col := "name_" + lang
	switch lang {
	case "en", "fr", "es":
	default:
		col = "name_en"
	}
	var out []option
	err := s.DB.Gorm.WithContext(ctx).Table(table).Select(key + " AS code, " + col + " AS name").Order(col).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

// orgFormData is what the organisation fields need.
func (s *Server) orgFormData(ctx context.Context, lang string) (map[string]any, error) {
	types, err := s.options(ctx, "organisation_types", "code", lang)
	if err != nil {
		return nil, err
	}
	countries, err := s.options(ctx, "countries", "iso2", lang)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Types": types, "Countries": countries}, nil
}
