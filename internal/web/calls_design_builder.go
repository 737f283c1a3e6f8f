package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/validate"
)

// The form builder, eligibility rules and criteria, without JavaScript:
// each button or form is one POST that edits the stored design and saves it
// with the version the page was built from.

func (s *Server) callBuilderRoutes() {
	e := s.echo
	e.POST("/manage/calls/:id/sections", s.addSection)
	e.POST("/manage/calls/:id/sections/:sid", s.saveSection)
	e.POST("/manage/calls/:id/sections/:sid/delete", s.deleteSection)
	e.POST("/manage/calls/:id/sections/:sid/move", s.moveSection)
	e.GET("/manage/calls/:id/sections/:sid/questions/new", s.newQuestionPage)
	e.POST("/manage/calls/:id/sections/:sid/questions", s.addQuestion)
	e.GET("/manage/calls/:id/questions/:qid", s.questionPage)
	e.POST("/manage/calls/:id/questions/:qid", s.saveQuestion)
	e.POST("/manage/calls/:id/questions/:qid/delete", s.deleteQuestion)
	e.POST("/manage/calls/:id/questions/:qid/move", s.moveQuestion)
	e.POST("/manage/calls/:id/rules", s.addRule)
	e.POST("/manage/calls/:id/rules/:n/delete", s.deleteRule)
	e.POST("/manage/calls/:id/criteria", s.addCriterion)
	e.POST("/manage/calls/:id/criteria/:cid", s.saveCriterion)
	e.POST("/manage/calls/:id/criteria/:cid/delete", s.deleteCriterion)
}

// edit changes a design. It returns the prefix of the domain fields of the
// part it edits (to place errors next to its inputs) and what the form
// itself could not read; an error (errNotFound) refuses the request.
type edit func(in *calls.Input) (prefix string, errs validate.Errors, err error)

type renderFunc func(status int, call *calls.Call, prepare func(*designView)) error

// changeDesign applies an edit from form and goes back to anchor.
func (s *Server) changeDesign(c echo.Context, form, anchor string, change edit, render renderFunc) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	if render == nil {
		render = func(status int, call *calls.Call, prepare func(*designView)) error {
			return s.designPage(c, status, call, prepare)
		}
	}
	in := inputOf(call)
	in.Form = cloneForm(in.Form)
	prefix, perrs, err := change(&in)
	if err != nil {
		return err
	}
	if len(perrs) > 0 {
		err = s.mergeCheck(c, &in, perrs)
	} else {
		_, err = s.Calls.Update(c.Request().Context(), actor(c), call.ID, formVersion(c), in)
	}
	if err != nil {
		return s.refused(c, err, &in, form, prefix, render)
	}
	return redirectWithFlash(c, "/manage/calls/"+call.ID+anchor, "call_saved")
}

// cloneForm copies a form deeply enough that edits do not reach the original.
func cloneForm(f calls.Form) calls.Form {
	out := calls.Form{Sections: make([]calls.Section, len(f.Sections))}
	for i, s := range f.Sections {
		s.Questions = slices.Clone(s.Questions)
		out.Sections[i] = s
	}
	return out
}

func sectionIndex(in *calls.Input, id string) int {
	return slices.IndexFunc(in.Form.Sections, func(s calls.Section) bool { return s.ID == id })
}

// questionAt finds a question: its section and position.
func questionAt(in *calls.Input, id string) (si, qi int) {
	for si, s := range in.Form.Sections {
		for qi, q := range s.Questions {
			if q.ID == id {
				return si, qi
			}
		}
	}
	return -1, -1
}

// readTexts reads name.<lang> for each of the call's languages; optional
// texts left empty are left out.
func readTexts(c echo.Context, name string, langs []string, optional bool) calls.Text {
	t := calls.Text{}
	for _, l := range langs {
		v := c.FormValue(name + "." + l)
		if optional && strings.TrimSpace(v) == "" {
			continue
		}
		t[l] = v
	}
	if optional && len(t) == 0 {
		return nil
	}
	return t
}

func readSection(c echo.Context, in *calls.Input, sec *calls.Section, prefix string) validate.Errors {
	var errs validate.Errors
	sec.ID = strings.TrimSpace(c.FormValue("id"))
	sec.Title = readTexts(c, "title", in.Languages, false)
	sec.Round = 1
	if in.TwoRound {
		sec.Round = readInt(&errs, prefix+"round", c.FormValue("round"), true)
	}
	return errs
}

func (s *Server) addSection(c echo.Context) error {
	return s.changeDesign(c, "section-new", "#form", func(in *calls.Input) (string, validate.Errors, error) {
		prefix := fmt.Sprintf("form.sections.%d.", len(in.Form.Sections))
		sec := calls.Section{Questions: []calls.Question{}}
		errs := readSection(c, in, &sec, prefix)
		in.Form.Sections = append(in.Form.Sections, sec)
		return prefix, errs, nil
	}, nil)
}

func (s *Server) saveSection(c echo.Context) error {
	sid := c.Param("sid")
	return s.changeDesign(c, "section-"+sid, "#section-"+sid, func(in *calls.Input) (string, validate.Errors, error) {
		i := sectionIndex(in, sid)
		if i < 0 {
			return "", nil, errNotFound
		}
		prefix := fmt.Sprintf("form.sections.%d.", i)
		return prefix, readSection(c, in, &in.Form.Sections[i], prefix), nil
	}, nil)
}

func (s *Server) deleteSection(c echo.Context) error {
	sid := c.Param("sid")
	return s.changeDesign(c, "section-"+sid, "#form", func(in *calls.Input) (string, validate.Errors, error) {
		i := sectionIndex(in, sid)
		if i < 0 {
			return "", nil, errNotFound
		}
		in.Form.Sections = slices.Delete(in.Form.Sections, i, i+1)
		return "-", nil, nil
	}, nil)
}

// direction is the move asked for: -1 (up) or +1 (down).
func direction(c echo.Context) int {
	if c.FormValue("direction") == "up" {
		return -1
	}
	return 1
}

func (s *Server) moveSection(c echo.Context) error {
	sid := c.Param("sid")
	return s.changeDesign(c, "section-"+sid, "#section-"+sid, func(in *calls.Input) (string, validate.Errors, error) {
		i := sectionIndex(in, sid)
		if i < 0 {
			return "", nil, errNotFound
		}
		if j := i + direction(c); j >= 0 && j < len(in.Form.Sections) {
			in.Form.Sections[i], in.Form.Sections[j] = in.Form.Sections[j], in.Form.Sections[i]
		}
		return "-", nil, nil
	}, nil)
}

// readQuestion reads the question form into q; prefix is q's place in the
// design, for the form's own complaints.
func readQuestion(c echo.Context, in *calls.Input, q *calls.Question, prefix string) validate.Errors {
	var errs validate.Errors
	f, _ := c.FormParams()
	q.ID, q.Kind = strings.TrimSpace(c.FormValue("id")), c.FormValue("kind")
	q.Label = readTexts(c, "label", in.Languages, false)
	q.Help = readTexts(c, "help", in.Languages, true)
	q.Required = c.FormValue("required") == "on"
	q.MaxWords = readInt(&errs, prefix+"max_words", c.FormValue("max_words"), false)
	q.MaxChars = readInt(&errs, prefix+"max_chars", c.FormValue("max_chars"), false)
	q.Min = readFloat(&errs, prefix+"min", c.FormValue("min"))
	q.Max = readFloat(&errs, prefix+"max", c.FormValue("max"))
	q.Choices, q.FileTypes, q.MaxFileMB, q.VisibleIf = nil, nil, 0, nil
	switch q.Kind {
	case calls.KindSingleChoice, calls.KindMultipleChoice:
		for i, line := range lines(c.FormValue("choices")) {
			parts := strings.Split(line, "|")
			if len(parts) != 1+len(in.Languages) {
				errs.Add(prefix+"choices", "choices_format", map[string]any{"Line": i + 1, "Columns": 1 + len(in.Languages)})
				break
			}
			ch := calls.Choice{Value: strings.TrimSpace(parts[0]), Label: calls.Text{}}
			for j, l := range in.Languages {
				ch.Label[l] = strings.TrimSpace(parts[1+j])
			}
			q.Choices = append(q.Choices, ch)
		}
	case calls.KindFile:
		q.FileTypes = nonEmpty(f["file_types"])
		q.MaxFileMB = readInt(&errs, prefix+"max_file_mb", c.FormValue("max_file_mb"), true)
	}
	if src := c.FormValue("visible_if"); src != "" {
		q.VisibleIf = &calls.Condition{Question: src, Values: []string{}}
		for _, v := range strings.Split(c.FormValue("visible_values"), ",") {
			if v = strings.TrimSpace(v); v != "" {
				q.VisibleIf.Values = append(q.VisibleIf.Values, v)
			}
		}
	}
	return errs
}

// questionRender shows the question page again after a refused form.
func (s *Server) questionRender(c echo.Context, sid, qid string) renderFunc {
	return func(status int, call *calls.Call, prepare func(*designView)) error {
		return s.renderQuestionPage(c, status, call, sid, qid, prepare)
	}
}

// renderQuestionPage shows the form of question qid, or of a new question
// in section sid when qid is "".
func (s *Server) renderQuestionPage(c echo.Context, status int, call *calls.Call, sid, qid string, prepare func(*designView)) error {
	d, err := s.designData(c, call)
	if err != nil {
		return err
	}
	in := &d.Input
	if qid != "" {
		si, qi := questionAt(in, qid)
		if si < 0 && prepare == nil {
			return errNotFound
		}
		if si >= 0 {
			d.Section, d.Question = &in.Form.Sections[si], &in.Form.Sections[si].Questions[qi]
		}
	} else if i := sectionIndex(in, sid); i >= 0 {
		d.Section = &in.Form.Sections[i]
	} else if prepare == nil {
		return errNotFound
	}
	// After a conflict the question or section may be gone; the form still
	// shows what was sent.
	if d.Section == nil {
		d.Section = &calls.Section{ID: sid}
	}
	if d.Question == nil {
		d.Question = &calls.Question{ID: qid, Kind: calls.KindShortText, MaxFileMB: 10}
	}
	d.Action = "/manage/calls/" + call.ID + "/sections/" + sid + "/questions"
	if qid != "" {
		d.Action = "/manage/calls/" + call.ID + "/questions/" + qid
	}
	if prepare != nil {
		prepare(d)
	}
	title := s.Text.Translate(lang(c), "calls_question_new_title", nil)
	if qid != "" {
		title = s.Text.Translate(lang(c), "calls_question_edit_title", map[string]any{"ID": qid})
	}
	return s.render(c, status, "manage_question", s.newPage(c, title, d))
}

// Earlier lists the questions a condition of the question on the page may
// use: those before it in the form.
func (d *designView) Earlier() []calls.Question {
	var out []calls.Question
	for _, sec := range d.Input.Form.Sections {
		for _, q := range sec.Questions {
			if d.Question != nil && q.ID == d.Question.ID && d.Question.ID != "" {
				return out
			}
			out = append(out, q)
		}
		if d.Question != nil && d.Question.ID == "" && d.Section != nil && sec.ID == d.Section.ID {
			return out
		}
	}
	return out
}

// ChoicesText is a question's choices as the builder's textarea shows them.
func (d *designView) ChoicesText(q *calls.Question) string {
	var b strings.Builder
	for _, ch := range q.Choices {
		b.WriteString(ch.Value)
		for _, l := range d.Input.Languages {
			b.WriteString(" | " + ch.Label[l])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ConditionValues is a condition's answers for the builder's input.
func (d *designView) ConditionValues(q *calls.Question) string {
	if q.VisibleIf == nil {
		return ""
	}
	return strings.Join(q.VisibleIf.Values, ", ")
}

// ConditionSource is the question a condition looks at, or "".
func (d *designView) ConditionSource(q *calls.Question) string {
	if q.VisibleIf == nil {
		return ""
	}
	return q.VisibleIf.Question
}

func (s *Server) newQuestionPage(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	return s.renderQuestionPage(c, http.StatusOK, call, c.Param("sid"), "", nil)
}

func (s *Server) questionPage(c echo.Context) error {
	call, err := s.managedCall(c, authz.ActUpdate)
	if err != nil {
		return err
	}
	return s.renderQuestionPage(c, http.StatusOK, call, "", c.Param("qid"), nil)
}

func (s *Server) addQuestion(c echo.Context) error {
	sid := c.Param("sid")
	return s.changeDesign(c, "question", "#section-"+sid, func(in *calls.Input) (string, validate.Errors, error) {
		i := sectionIndex(in, sid)
		if i < 0 {
			return "", nil, errNotFound
		}
		sec := &in.Form.Sections[i]
		prefix := fmt.Sprintf("form.sections.%d.questions.%d.", i, len(sec.Questions))
		var q calls.Question
		errs := readQuestion(c, in, &q, prefix)
		sec.Questions = append(sec.Questions, q)
		return prefix, errs, nil
	}, s.questionRender(c, sid, ""))
}

func (s *Server) saveQuestion(c echo.Context) error {
	qid := c.Param("qid")
	return s.changeDesign(c, "question", "#question-"+qid, func(in *calls.Input) (string, validate.Errors, error) {
		si, qi := questionAt(in, qid)
		if si < 0 {
			return "", nil, errNotFound
		}
		q := &in.Form.Sections[si].Questions[qi]
		prefix := fmt.Sprintf("form.sections.%d.questions.%d.", si, qi)
		errs := readQuestion(c, in, q, prefix)
		if q.ID != qid {
			renameQuestion(in, qid, q.ID)
		}
		return prefix, errs, nil
	}, s.questionRender(c, "", qid))
}

// renameQuestion follows a question's new id in the conditions and
// eligibility rules that name it.
func renameQuestion(in *calls.Input, from, to string) {
	for si := range in.Form.Sections {
		for qi := range in.Form.Sections[si].Questions {
			q := &in.Form.Sections[si].Questions[qi]
			if q.VisibleIf != nil && q.VisibleIf.Question == from {
				q.VisibleIf = &calls.Condition{Question: to, Values: q.VisibleIf.Values}
			}
		}
	}
	for i := range in.Eligibility {
		if in.Eligibility[i].Question == from {
			in.Eligibility[i].Question = to
		}
	}
}

func (s *Server) deleteQuestion(c echo.Context) error {
	qid := c.Param("qid")
	return s.changeDesign(c, "question-"+qid, "#form", func(in *calls.Input) (string, validate.Errors, error) {
		si, qi := questionAt(in, qid)
		if si < 0 {
			return "", nil, errNotFound
		}
		in.Form.Sections[si].Questions = slices.Delete(in.Form.Sections[si].Questions, qi, qi+1)
		return "-", nil, nil
	}, nil)
}

// moveQuestion moves a question up or down; past the edge of its section it
// goes to the end of the previous section or the start of the next.
func (s *Server) moveQuestion(c echo.Context) error {
	qid := c.Param("qid")
	return s.changeDesign(c, "question-"+qid, "#question-"+qid, func(in *calls.Input) (string, validate.Errors, error) {
		si, qi := questionAt(in, qid)
		if si < 0 {
			return "", nil, errNotFound
		}
		secs := in.Form.Sections
		qs := secs[si].Questions
		switch dir := direction(c); {
		case qi+dir >= 0 && qi+dir < len(qs):
			qs[qi], qs[qi+dir] = qs[qi+dir], qs[qi]
		case si+dir >= 0 && si+dir < len(secs):
			q := qs[qi]
			secs[si].Questions = slices.Delete(qs, qi, qi+1)
			if dir < 0 {
				secs[si-1].Questions = append(secs[si-1].Questions, q)
			} else {
				secs[si+1].Questions = slices.Insert(secs[si+1].Questions, 0, q)
			}
		}
		return "-", nil, nil
	}, nil)
}

func (s *Server) addRule(c echo.Context) error {
	kind := c.FormValue("kind")
	form := "rule-" + kind
	if !slices.Contains(calls.RuleKinds, kind) {
		form = "rule"
	}
	return s.changeDesign(c, form, "#eligibility", func(in *calls.Input) (string, validate.Errors, error) {
		prefix := fmt.Sprintf("eligibility.%d.", len(in.Eligibility))
		var errs validate.Errors
		f, _ := c.FormParams()
		r := calls.Rule{Kind: kind}
		switch kind {
		case calls.RuleOrgType, calls.RuleCountry, calls.RuleRegion:
			r.Values = nonEmpty(f["values"])
		case calls.RuleOrgAge:
			r.MinYears = readInt(&errs, prefix+"min_years", c.FormValue("min_years"), true)
		case calls.RuleYesNo:
			r.Question, r.Expect = c.FormValue("question"), c.FormValue("expect")
		}
		in.Eligibility = append(in.Eligibility, r)
		return prefix, errs, nil
	}, nil)
}

func (s *Server) deleteRule(c echo.Context) error {
	return s.changeDesign(c, "rule-delete", "#eligibility", func(in *calls.Input) (string, validate.Errors, error) {
		n, err := strconv.Atoi(c.Param("n"))
		if err != nil || n < 0 || n >= len(in.Eligibility) {
			return "", nil, errNotFound
		}
		in.Eligibility = slices.Delete(in.Eligibility, n, n+1)
		return "-", nil, nil
	}, nil)
}

func readCriterion(c echo.Context, in *calls.Input, cr *calls.Criterion, prefix string) validate.Errors {
	var errs validate.Errors
	cr.ID = strings.TrimSpace(c.FormValue("id"))
	cr.Name = readTexts(c, "name", in.Languages, false)
	cr.Description = readTexts(c, "description", in.Languages, true)
	number := func(field string) float64 {
		v := readFloat(&errs, prefix+field, c.FormValue(field))
		if v == nil {
			if !errs.Has(prefix + field) {
				errs.Add(prefix+field, "required", nil)
			}
			return 0
		}
		return *v
	}
	cr.Weight, cr.ScaleMin, cr.ScaleMax, cr.Step = number("weight"), number("scale_min"), number("scale_max"), number("step")
	cr.Threshold = readFloat(&errs, prefix+"threshold", c.FormValue("threshold"))
	return errs
}

func criterionIndex(in *calls.Input, id string) int {
	return slices.IndexFunc(in.Criteria, func(cr calls.Criterion) bool { return cr.ID == id })
}

func (s *Server) addCriterion(c echo.Context) error {
	return s.changeDesign(c, "criterion-new", "#criteria", func(in *calls.Input) (string, validate.Errors, error) {
		prefix := fmt.Sprintf("criteria.%d.", len(in.Criteria))
		var cr calls.Criterion
		errs := readCriterion(c, in, &cr, prefix)
		in.Criteria = append(in.Criteria, cr)
		return prefix, errs, nil
	}, nil)
}

func (s *Server) saveCriterion(c echo.Context) error {
	cid := c.Param("cid")
	return s.changeDesign(c, "criterion-"+cid, "#criterion-"+cid, func(in *calls.Input) (string, validate.Errors, error) {
		i := criterionIndex(in, cid)
		if i < 0 {
			return "", nil, errNotFound
		}
		prefix := fmt.Sprintf("criteria.%d.", i)
		return prefix, readCriterion(c, in, &in.Criteria[i], prefix), nil
	}, nil)
}

func (s *Server) deleteCriterion(c echo.Context) error {
	cid := c.Param("cid")
	return s.changeDesign(c, "criterion-"+cid, "#criteria", func(in *calls.Input) (string, validate.Errors, error) {
		i := criterionIndex(in, cid)
		if i < 0 {
			return "", nil, errNotFound
		}
		in.Criteria = slices.Delete(in.Criteria, i, i+1)
		return "-", nil, nil
	}, nil)
}
