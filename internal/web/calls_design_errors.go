package web

import (
	"strconv"
	"strings"

	"facility/internal/calls"
	"facility/internal/validate"
)

// The calls domain names fields by their place in the design
// ("form.sections.0.questions.2.label.fr"). A manager reads them as
// "Section 1 (idea) › Question 3 (pilot) › Label (French)", in the summary
// at the top of the page and in the API's messages, and next to the input
// of the form they sent where it has one.

// designProblem is one refused field: its message, and the form and input
// it belongs to when the page has that input.
type designProblem struct {
	Field   string
	Form    string
	Input   string
	Message string // for the summary: says where in the design
	Short   string // next to the input: the input's own name
}

// Anchor is where the summary links to: the input, or the form.
func (p designProblem) Anchor() string {
	if p.Input != "" {
		return "f-" + p.Form + "-" + p.Input
	}
	return "form-" + p.Form
}

// designProblems translates errs for a page where form was sent; fields
// under prefix (the part of the design the form edits; "" for the basics)
// belong to its inputs.
func (s *Server) designProblems(lang string, in *calls.Input, errs validate.Errors, form, prefix string) []designProblem {
	out := make([]designProblem, 0, len(errs))
	for _, e := range errs {
		p := designProblem{Field: e.Field, Form: form, Message: s.designMessage(lang, in, e)}
		if rest, ok := strings.CutPrefix(e.Field, prefix); ok {
			p.Input = inputName(rest, prefix == "")
			short := e
			short.Field = rest
			p.Short = s.designMessage(lang, in, short)
		}
		out = append(out, p)
	}
	return out
}

// inputName is the input of a form that a domain field (relative to what
// the form edits) is entered in, or "".
func inputName(rest string, basics bool) string {
	parts := strings.Split(rest, ".")
	if basics {
		switch parts[0] {
		case "budget_minor":
			return "budget"
		case "min_grant_minor":
			return "min_grant"
		case "max_grant_minor":
			return "max_grant"
		case "donors":
			return "donors"
		case "form", "eligibility", "criteria":
			return ""
		}
		return rest
	}
	switch parts[0] {
	case "choices":
		return "choices"
	case "questions":
		return "" // a section form does not hold its questions
	}
	return rest
}

func (s *Server) designMessage(lang string, in *calls.Input, e validate.FieldError) string {
	return s.Text.Translate(lang, "error_"+e.Code, mergeParams(e.Params, "Field", s.designFieldLabel(lang, in, e.Field)))
}

// designFieldLabel reads a domain field name in words.
func (s *Server) designFieldLabel(lang string, in *calls.Input, field string) string {
	t := func(id string, args ...any) string {
		data := map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			data[args[i].(string)] = args[i+1]
		}
		return s.Text.Translate(lang, id, data)
	}
	parts := strings.Split(field, ".")
	var out []string
	var section *calls.Section
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		n := -1
		if i+1 < len(parts) {
			if v, err := strconv.Atoi(parts[i+1]); err == nil && v >= 0 {
				n = v
			}
		}
		switch {
		case p == "form" && i+1 < len(parts):
			continue
		case p == "sections" && n >= 0:
			i++
			id := ""
			if in != nil && n < len(in.Form.Sections) {
				section = &in.Form.Sections[n]
				id = section.ID
			}
			out = append(out, t("calls_where_section", "N", n+1, "ID", id))
		case p == "questions" && n >= 0:
			i++
			id := ""
			if section != nil && n < len(section.Questions) {
				id = section.Questions[n].ID
			}
			out = append(out, t("calls_where_question", "N", n+1, "ID", id))
		case p == "choices" && n >= 0:
			i++
			out = append(out, t("calls_where_choice", "N", n+1))
		case p == "eligibility" && n >= 0:
			i++
			out = append(out, t("calls_where_rule", "N", n+1))
		case p == "criteria" && n >= 0:
			i++
			id := ""
			if in != nil && n < len(in.Criteria) {
				id = in.Criteria[n].ID
			}
			out = append(out, t("calls_where_criterion", "N", n+1, "ID", id))
		case p == "donors" && n >= 0:
			i++
			out = append(out, t("calls_where_donor", "N", n+1))
		case (p == "en" || p == "fr" || p == "es") && len(out) > 0:
			out[len(out)-1] += " (" + t("calls_language_"+p) + ")"
		case s.Text.Has("calls_field_" + p):
			out = append(out, t("calls_field_"+p))
		case s.Text.Has("field_" + p):
			out = append(out, t("field_"+p))
		default:
			out = append(out, p)
		}
	}
	return strings.Join(out, " › ")
}
