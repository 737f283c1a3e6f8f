package calls

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"facility/internal/validate"
)

// Question kinds.
const (
	KindShortText      = "short_text"
	KindLongText       = "long_text"
	KindNumber         = "number"
	KindMoney          = "money"
	KindSingleChoice   = "single_choice"
	KindMultipleChoice = "multiple_choice"
	KindCountry        = "country"
	KindDate           = "date"
	KindFile           = "file"
	KindYesNo          = "yes_no"
)

// QuestionKinds lists every kind a form may use.
var QuestionKinds = []string{KindShortText, KindLongText, KindNumber, KindMoney, KindSingleChoice,
	KindMultipleChoice, KindCountry, KindDate, KindFile, KindYesNo}

// Form is the application form: sections of questions. In a two-round call,
// round 1 sections make the concept note and round 2 the full proposal.
type Form struct {
	Sections []Section `json:"sections"`
}

// Section groups questions.
type Section struct {
	ID        string     `json:"id"`
	Round     int        `json:"round"`
	Title     Text       `json:"title"`
	Questions []Question `json:"questions"`
}

// Question is one thing the applicant answers.
type Question struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Label     Text       `json:"label"`
	Help      Text       `json:"help,omitempty"`
	Required  bool       `json:"required"`
	MaxWords  int        `json:"max_words,omitempty"`
	MaxChars  int        `json:"max_chars,omitempty"`
	Min       *float64   `json:"min,omitempty"`
	Max       *float64   `json:"max,omitempty"`
	Choices   []Choice   `json:"choices,omitempty"`
	VisibleIf *Condition `json:"visible_if,omitempty"`
	// FileTypes are allowed extensions for file questions (pdf, docx, xlsx, png, jpg).
	FileTypes []string `json:"file_types,omitempty"`
	MaxFileMB int      `json:"max_file_mb,omitempty"`
}

// Choice is an option of a choice question.
type Choice struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
}

// Condition shows a question only when another question's answer is one of
// Values (for yes/no: "yes" or "no").
type Condition struct {
	Question string   `json:"question"`
	Values   []string `json:"values"`
}

// FileTypes the system knows how to recognise by their content.
var FileTypes = []string{"pdf", "docx", "xlsx", "pptx", "odt", "png", "jpg", "csv", "txt"}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Questions lists every question of the form, in order.
func (f *Form) Questions() []Question {
	var out []Question
	for _, s := range f.Sections {
		out = append(out, s.Questions...)
	}
	return out
}

// Question finds a question by id.
func (f *Form) Question(id string) (Question, bool) {
	for _, q := range f.Questions() {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// check validates the form's design; field names point into it
// ("form.sections.0.questions.2.label").
func (f *Form) check(errs *validate.Errors, languages []string, twoRound bool) {
	seen := map[string]int{} // question id -> position, for conditions
	pos := 0
	sectionIDs := map[string]bool{}
	for si, s := range f.Sections {
		sp := fmt.Sprintf("form.sections.%d.", si)
		if !identifier.MatchString(s.ID) || sectionIDs[s.ID] {
			errs.Add(sp+"id", "invalid_identifier", nil)
		}
		sectionIDs[s.ID] = true
		if s.Round != 1 && !(twoRound && s.Round == 2) {
			errs.Add(sp+"round", "invalid_round", nil)
		}
		checkText(errs, sp+"title", s.Title, languages, true, 200)
		for qi, q := range s.Questions {
			qp := fmt.Sprintf("%squestions.%d.", sp, qi)
			if !identifier.MatchString(q.ID) {
				errs.Add(qp+"id", "invalid_identifier", nil)
			} else if _, dup := seen[q.ID]; dup {
				errs.Add(qp+"id", "duplicate_identifier", nil)
			}
			if !slices.Contains(QuestionKinds, q.Kind) {
				errs.Add(qp+"kind", "not_allowed", nil)
			}
			checkText(errs, qp+"label", q.Label, languages, true, 500)
			checkText(errs, qp+"help", q.Help, languages, false, 2000)
			if q.MaxWords < 0 || q.MaxWords > 20000 {
				errs.Add(qp+"max_words", "out_of_range", map[string]any{"Min": 0, "Max": 20000})
			}
			if q.MaxChars < 0 || q.MaxChars > 100000 {
				errs.Add(qp+"max_chars", "out_of_range", map[string]any{"Min": 0, "Max": 100000})
			}
			if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
				errs.Add(qp+"min", "min_above_max", nil)
			}
			switch q.Kind {
			case KindSingleChoice, KindMultipleChoice:
				if len(q.Choices) < 2 {
					errs.Add(qp+"choices", "too_few_choices", nil)
				}
				values := map[string]bool{}
				for ci, ch := range q.Choices {
					if !identifier.MatchString(ch.Value) || values[ch.Value] {
						errs.Add(fmt.Sprintf("%schoices.%d.value", qp, ci), "invalid_identifier", nil)
					}
					values[ch.Value] = true
					checkText(errs, fmt.Sprintf("%schoices.%d.label", qp, ci), ch.Label, languages, true, 200)
				}
			case KindFile:
				if len(q.FileTypes) == 0 {
					errs.Add(qp+"file_types", "required", nil)
				}
				for _, t := range q.FileTypes {
					if !slices.Contains(FileTypes, t) {
						errs.Add(qp+"file_types", "not_allowed", nil)
						break
					}
				}
				if q.MaxFileMB < 1 || q.MaxFileMB > 50 {
					errs.Add(qp+"max_file_mb", "out_of_range", map[string]any{"Min": 1, "Max": 50})
				}
			}
			if c := q.VisibleIf; c != nil {
				// A condition may only look back, so visibility has no cycles.
				prev, ok := seen[c.Question]
				if !ok || prev >= pos {
					errs.Add(qp+"visible_if", "condition_unknown_question", nil)
				} else if len(c.Values) == 0 {
					errs.Add(qp+"visible_if", "required", nil)
				}
			}
			seen[q.ID] = pos
			pos++
		}
	}
}

func checkText(errs *validate.Errors, field string, t Text, languages []string, required bool, max int) {
	for lang := range t {
		if !slices.Contains(languages, lang) {
			errs.Add(field, "language_not_in_call", map[string]any{"Language": lang})
			return
		}
	}
	for _, lang := range languages {
		errs.Text(field+"."+lang, t[lang], required, max, true)
	}
}

// Visible reports whether question q is shown, given the answers: its
// condition's question must be visible and answered with one of the values.
func (f *Form) Visible(q Question, answers map[string]any) bool {
	if q.VisibleIf == nil {
		return true
	}
	src, ok := f.Question(q.VisibleIf.Question)
	if !ok || !f.Visible(src, answers) {
		return false
	}
	for _, v := range answerValues(answers[src.ID]) {
		if slices.Contains(q.VisibleIf.Values, v) {
			return true
		}
	}
	return false
}

// answerValues reads an answer as the values a condition compares.
func answerValues(a any) []string {
	switch v := a.(type) {
	case string:
		return []string{v}
	case bool:
		if v {
			return []string{"yes"}
		}
		return []string{"no"}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// CheckAnswers validates answers to round's questions. Draft answers may be
// incomplete; complete=true also requires every visible required question
// except file questions, whose files the caller counts.
// Answers to hidden questions are dropped (returned cleaned), so a changed
// answer never leaves stale data behind a condition. countries is the set
// of valid country codes. Fields are "answers.<question id>".
func (f *Form) CheckAnswers(round int, answers map[string]any, countries map[string]bool, complete bool) (map[string]any, validate.Errors) {
	var errs validate.Errors
	clean := map[string]any{}
	known := map[string]bool{}
	for _, s := range f.Sections {
		if s.Round > round {
			continue
		}
		for _, q := range s.Questions {
			known[q.ID] = true
			a, given := answers[q.ID]
			if !f.Visible(q, answers) {
				continue
			}
			field := "answers." + q.ID
			if !given || isEmpty(a) {
				// A file question is answered by stored files, not by
				// its answer (uploads do not write one): the caller
				// counts the files (proposals' completeness check).
				if complete && q.Required && q.Kind != KindFile {
					errs.Add(field, "required", nil)
				}
				continue
			}
			if v, ok := checkAnswer(&errs, field, q, a, countries); ok {
				clean[q.ID] = v
			}
		}
	}
	for id := range answers {
		if !known[id] {
			errs.Add("answers."+id, "unknown_field", nil)
		}
	}
	return clean, errs
}

func isEmpty(a any) bool {
	switch v := a.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	}
	return false
}

func checkAnswer(errs *validate.Errors, field string, q Question, a any, countries map[string]bool) (any, bool) {
	before := len(*errs)
	switch q.Kind {
	case KindShortText, KindLongText:
		s, ok := a.(string)
		if !ok {
			errs.Add(field, "wrong_type", nil)
			break
		}
		max := q.MaxChars
		if max == 0 {
			max = 200
			if q.Kind == KindLongText {
				max = 20000
			}
		}
		errs.Text(field, s, false, max, q.Kind == KindLongText)
		if q.MaxWords > 0 && len(strings.Fields(s)) > q.MaxWords {
			errs.Add(field, "too_many_words", map[string]any{"Max": q.MaxWords, "Count": len(strings.Fields(s))})
		}
		return s, len(*errs) == before
	case KindNumber, KindMoney:
		n, ok := a.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			errs.Add(field, "not_a_number", nil)
			break
		}
		if q.Kind == KindMoney && (n != math.Trunc(n) || n < 0 || n > 1e15) {
			errs.Add(field, "invalid_amount", nil)
			break
		}
		if (q.Min != nil && n < *q.Min) || (q.Max != nil && n > *q.Max) {
			errs.Add(field, "out_of_range", map[string]any{"Min": deref(q.Min), "Max": deref(q.Max)})
			break
		}
		return n, true
	case KindSingleChoice, KindCountry:
		s, ok := a.(string)
		if !ok {
			errs.Add(field, "wrong_type", nil)
			break
		}
		if q.Kind == KindCountry && !countries[s] || q.Kind == KindSingleChoice && !hasChoice(q, s) {
			errs.Add(field, "not_allowed", nil)
			break
		}
		return s, true
	case KindMultipleChoice:
		vals, ok := a.([]any)
		if !ok {
			errs.Add(field, "wrong_type", nil)
			break
		}
		out := make([]string, 0, len(vals))
		for _, v := range vals {
			s, ok := v.(string)
			if !ok || !hasChoice(q, s) || slices.Contains(out, s) {
				errs.Add(field, "not_allowed", nil)
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case KindDate:
		s, ok := a.(string)
		if _, err := time.Parse("2006-01-02", s); !ok || err != nil {
			errs.Add(field, "invalid_date", nil)
			break
		}
		return s, true
	case KindYesNo:
		b, ok := a.(bool)
		if !ok {
			errs.Add(field, "wrong_type", nil)
			break
		}
		return b, true
	case KindFile:
		// Files are attachments of their own; the answer lists their ids.
		ids, ok := a.([]any)
		if !ok {
			errs.Add(field, "wrong_type", nil)
			break
		}
		out := make([]string, 0, len(ids))
		for _, v := range ids {
			s, ok := v.(string)
			if !ok || utf8.RuneCountInString(s) != 36 {
				errs.Add(field, "not_allowed", nil)
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func hasChoice(q Question, v string) bool {
	for _, c := range q.Choices {
		if c.Value == v {
			return true
		}
	}
	return false
}

func deref(f *float64) any {
	if f == nil {
		return "—"
	}
	return *f
}
