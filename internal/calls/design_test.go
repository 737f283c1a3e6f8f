package calls_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/calls"
	"facility/internal/gates"
	"facility/internal/validate"
)

func design() calls.Input { return apptest.CallInput(24*time.Hour, 30*24*time.Hour) }

func check(t *testing.T, env *apptest.Env, in *calls.Input) validate.Errors {
	_, _, errs := env.Calls.Check(t.Context(), in)
	return errs
}

func ptr(f float64) *float64 { return &f }

// hasError reports whether errs holds field with code.
func hasError(errs validate.Errors, field, code string) bool {
	for _, e := range errs {
		if e.Field == field && e.Code == code {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	env := apptest.New(t)
	if in := design(); len(check(t, env, &in)) > 0 {
		t.Fatalf("the sample design is refused: %v", check(t, env, &in))
	}
	for _, tc := range []struct {
		name, field, code string
		change            func(in *calls.Input)
	}{
		{"unknown facility", "facility", "not_allowed", func(in *calls.Input) { in.FacilityCode = "space" }},
		{"no origin", "origin", "required", func(in *calls.Input) { in.Origin = "" }},
		{"unknown scope", "scope", "not_allowed", func(in *calls.Input) { in.Scope = "planetary" }},
		{"no language", "languages", "required", func(in *calls.Input) { in.Languages = nil }},
		{"unknown language", "languages", "not_allowed", func(in *calls.Input) { in.Languages = []string{"en", "de"} }},
		{"language twice", "languages", "not_allowed", func(in *calls.Input) { in.Languages = []string{"en", "fr", "en"} }},
		{"title missing in French", "title.fr", "required", func(in *calls.Input) { delete(in.Title, "fr") }},
		{"title in another language", "title", "language_not_in_call", func(in *calls.Input) { in.Title["es"] = "Empleos" }},
		{"title too long", "title.en", "too_long", func(in *calls.Input) { in.Title["en"] = strings.Repeat("a", 201) }},
		{"challenge with NUL", "challenge.en", "control_character", func(in *calls.Input) { in.Challenge["en"] = "a\x00b" }},
		{"challenge with RTL override", "challenge.fr", "bidi_control", func(in *calls.Input) { in.Challenge["fr"] = "a\u202eb" }},
		{"title not UTF-8", "title.en", "invalid_utf8", func(in *calls.Input) { in.Title["en"] = "a\xffb" }},
		{"unknown timezone", "timezone", "invalid_timezone", func(in *calls.Input) { in.Timezone = "Europe/Geneva" }},
		{"local timezone", "timezone", "invalid_timezone", func(in *calls.Input) { in.Timezone = "Local" }},
		{"unreadable opening", "opens", "invalid_datetime", func(in *calls.Input) { in.Opens = "2030-13-01T09:00" }},
		{"closing before opening", "closes", "closes_before_opens", func(in *calls.Input) { in.Closes = in.Opens }},
		{"grace too long", "grace_minutes", "out_of_range", func(in *calls.Input) { in.GraceMinutes = 1441 }},
		{"negative grace", "grace_minutes", "out_of_range", func(in *calls.Input) { in.GraceMinutes = -1 }},
		{"unknown currency", "currency", "not_allowed", func(in *calls.Input) { in.Currency = "BTC" }},
		{"no budget", "budget_minor", "must_be_positive", func(in *calls.Input) { in.BudgetMinor = 0 }},
		{"negative minimum", "min_grant_minor", "must_be_positive", func(in *calls.Input) { in.MinGrantMinor = -1 }},
		{"maximum below minimum", "max_grant_minor", "max_below_min", func(in *calls.Input) { in.MaxGrantMinor = in.MinGrantMinor - 1 }},
		{"maximum above budget", "max_grant_minor", "grant_above_budget", func(in *calls.Input) { in.MaxGrantMinor = in.BudgetMinor + 1 }},
		{"unknown region", "regions", "not_allowed", func(in *calls.Input) { in.Regions = []string{"atlantis"} }},
		{"country twice", "countries", "not_allowed", func(in *calls.Input) { in.Countries = []string{"GH", "GH"} }},
		{"unknown organisation type", "organisation_types", "not_allowed", func(in *calls.Input) { in.OrgTypes = []string{"guild"} }},
		{"unknown indicator", "indicators", "not_allowed", func(in *calls.Input) { in.Indicators = []string{"0.0.0"} }},
		{"regional without regions", "regions", "required", func(in *calls.Input) { in.Scope = "regional" }},
		{"national without countries", "countries", "required", func(in *calls.Input) { in.Scope = "national" }},
		{"empty donor", "donors.1", "required", func(in *calls.Input) { in.Donors = append(in.Donors, " ") }},
		{"criterion id", "criteria.0.id", "invalid_identifier", func(in *calls.Input) { in.Criteria[0].ID = "Impact!" }},
		{"criterion id twice", "criteria.1.id", "invalid_identifier", func(in *calls.Input) { in.Criteria[1].ID = in.Criteria[0].ID }},
		{"criterion name", "criteria.1.name.fr", "required", func(in *calls.Input) { delete(in.Criteria[1].Name, "fr") }},
		{"criterion weight", "criteria.0.weight", "out_of_range", func(in *calls.Input) { in.Criteria[0].Weight = 101 }},
		{"criterion scale", "criteria.0.scale_max", "invalid_scale", func(in *calls.Input) { in.Criteria[0].ScaleMax = in.Criteria[0].ScaleMin }},
		{"criterion step", "criteria.0.scale_max", "invalid_scale", func(in *calls.Input) { in.Criteria[0].Step = 10 }},
		{"criterion threshold", "criteria.0.threshold", "out_of_range", func(in *calls.Input) { in.Criteria[0].Threshold = ptr(6) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := design()
			tc.change(&in)
			if _, _, errs := env.Calls.Check(t.Context(), &in); !hasError(errs, tc.field, tc.code) {
				t.Errorf("want %s %s, got %v", tc.field, tc.code, errs)
			}
		})
	}

	// Wall-clock times are read in the call's timezone.
	in := design()
	in.Opens, in.Closes, in.Timezone = "2030-03-01T09:00", "2030-07-01T17:00", "Asia/Bangkok"
	opens, closes, errs := env.Calls.Check(t.Context(), &in)
	if len(errs) > 0 || opens.Format(time.RFC3339) != "2030-03-01T02:00:00Z" || closes.Format(time.RFC3339) != "2030-07-01T10:00:00Z" {
		t.Errorf("Bangkok times: %s %s %v", opens, closes, errs)
	}
	in.Timezone, in.Opens, in.Closes = "America/Lima", "2030-03-01T09:00", "2030-03-01T09:01"
	if opens, _, _ := env.Calls.Check(t.Context(), &in); opens.Format(time.RFC3339) != "2030-03-01T14:00:00Z" {
		t.Errorf("Lima opening: %s", opens)
	}
}

func TestFormCheck(t *testing.T) {
	env := apptest.New(t)
	q := func(in *calls.Input, i int) *calls.Question { return &in.Form.Sections[0].Questions[i] }
	const p = "form.sections.0."
	for _, tc := range []struct {
		name, field, code string
		change            func(in *calls.Input)
	}{
		{"section id", p + "id", "invalid_identifier", func(in *calls.Input) { in.Form.Sections[0].ID = "1st" }},
		{"section id twice", "form.sections.1.id", "invalid_identifier", func(in *calls.Input) {
			in.Form.Sections = append(in.Form.Sections, calls.Section{ID: "idea", Round: 1, Title: calls.Text{"en": "a", "fr": "b"}})
		}},
		{"round 2 in a one-round call", p + "round", "invalid_round", func(in *calls.Input) { in.Form.Sections[0].Round = 2 }},
		{"round 3", p + "round", "invalid_round", func(in *calls.Input) { in.TwoRound = true; in.Form.Sections[0].Round = 3 }},
		{"section title", p + "title.fr", "required", func(in *calls.Input) { in.Form.Sections[0].Title = calls.Text{"en": "a"} }},
		{"question id", p + "questions.0.id", "invalid_identifier", func(in *calls.Input) { q(in, 0).ID = "Summary" }},
		{"question id twice", p + "questions.1.id", "duplicate_identifier", func(in *calls.Input) { q(in, 1).ID = "summary" }},
		{"question kind", p + "questions.0.kind", "not_allowed", func(in *calls.Input) { q(in, 0).Kind = "essay" }},
		{"question label", p + "questions.0.label.en", "required", func(in *calls.Input) { q(in, 0).Label["en"] = " " }},
		{"help in another language", p + "questions.0.help", "language_not_in_call", func(in *calls.Input) { q(in, 0).Help = calls.Text{"es": "ayuda"} }},
		{"help too long", p + "questions.0.help.en", "too_long", func(in *calls.Input) { q(in, 0).Help = calls.Text{"en": strings.Repeat("h", 2001)} }},
		{"max words", p + "questions.0.max_words", "out_of_range", func(in *calls.Input) { q(in, 0).MaxWords = 20001 }},
		{"max chars", p + "questions.0.max_chars", "out_of_range", func(in *calls.Input) { q(in, 0).MaxChars = -1 }},
		{"min above max", p + "questions.0.min", "min_above_max", func(in *calls.Input) { q(in, 0).Min, q(in, 0).Max = ptr(5), ptr(1) }},
		{"one choice", p + "questions.0.choices", "too_few_choices", func(in *calls.Input) {
			q(in, 0).Kind, q(in, 0).Choices = calls.KindSingleChoice, []calls.Choice{{Value: "a", Label: calls.Text{"en": "A", "fr": "A"}}}
		}},
		{"choice value twice", p + "questions.0.choices.1.value", "invalid_identifier", func(in *calls.Input) {
			q(in, 0).Kind = calls.KindMultipleChoice
			q(in, 0).Choices = []calls.Choice{{Value: "a", Label: calls.Text{"en": "A", "fr": "A"}}, {Value: "a", Label: calls.Text{"en": "B", "fr": "B"}}}
		}},
		{"choice label", p + "questions.0.choices.0.label.fr", "required", func(in *calls.Input) {
			q(in, 0).Kind = calls.KindSingleChoice
			q(in, 0).Choices = []calls.Choice{{Value: "a", Label: calls.Text{"en": "A"}}, {Value: "b", Label: calls.Text{"en": "B", "fr": "B"}}}
		}},
		{"file without types", p + "questions.4.file_types", "required", func(in *calls.Input) { q(in, 4).FileTypes = nil }},
		{"executable files", p + "questions.4.file_types", "not_allowed", func(in *calls.Input) { q(in, 4).FileTypes = []string{"pdf", "exe"} }},
		{"file too large", p + "questions.4.max_file_mb", "out_of_range", func(in *calls.Input) { q(in, 4).MaxFileMB = 51 }},
		{"file size missing", p + "questions.4.max_file_mb", "out_of_range", func(in *calls.Input) { q(in, 4).MaxFileMB = 0 }},
		{"condition looks forward", p + "questions.1.visible_if", "condition_unknown_question", func(in *calls.Input) {
			q(in, 1).VisibleIf = &calls.Condition{Question: "country", Values: []string{"GH"}}
		}},
		{"condition on itself", p + "questions.2.visible_if", "condition_unknown_question", func(in *calls.Input) { q(in, 2).VisibleIf.Question = "pilot_results" }},
		{"condition on nothing", p + "questions.2.visible_if", "condition_unknown_question", func(in *calls.Input) { q(in, 2).VisibleIf.Question = "nowhere" }},
		{"condition without values", p + "questions.2.visible_if", "required", func(in *calls.Input) { q(in, 2).VisibleIf.Values = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := design()
			tc.change(&in)
			if _, _, errs := env.Calls.Check(t.Context(), &in); !hasError(errs, tc.field, tc.code) {
				t.Errorf("want %s %s, got %v", tc.field, tc.code, errs)
			}
		})
	}
}

func TestEligibilityRules(t *testing.T) {
	env := apptest.New(t)
	for _, tc := range []struct {
		name, field, code string
		rule              calls.Rule
	}{
		{"organisation types missing", "eligibility.2.values", "required", calls.Rule{Kind: calls.RuleOrgType}},
		{"unknown organisation type", "eligibility.2.values", "not_allowed", calls.Rule{Kind: calls.RuleOrgType, Values: []string{"guild"}}},
		{"unknown country", "eligibility.2.values", "not_allowed", calls.Rule{Kind: calls.RuleCountry, Values: []string{"GH", "ZZ"}}},
		{"unknown region", "eligibility.2.values", "not_allowed", calls.Rule{Kind: calls.RuleRegion, Values: []string{"atlantis"}}},
		{"age zero", "eligibility.2.min_years", "out_of_range", calls.Rule{Kind: calls.RuleOrgAge}},
		{"age 101", "eligibility.2.min_years", "out_of_range", calls.Rule{Kind: calls.RuleOrgAge, MinYears: 101}},
		{"yes/no on a text question", "eligibility.2.question", "condition_unknown_question", calls.Rule{Kind: calls.RuleYesNo, Question: "summary", Expect: "yes"}},
		{"yes/no expecting maybe", "eligibility.2.expect", "not_allowed", calls.Rule{Kind: calls.RuleYesNo, Question: "pilot", Expect: "maybe"}},
		{"unknown kind", "eligibility.2.kind", "not_allowed", calls.Rule{Kind: "lucky"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := design()
			in.Eligibility = append(in.Eligibility, tc.rule)
			if _, _, errs := env.Calls.Check(t.Context(), &in); !hasError(errs, tc.field, tc.code) {
				t.Errorf("want %s %s, got %v", tc.field, tc.code, errs)
			}
		})
	}

	c := &calls.Call{MinGrantMinor: 1_000_000, MaxGrantMinor: 5_000_000}
	facts := calls.Facts{OrgType: "cooperative", Country: "GH", Region: "africa", YearFounded: 2020, Year: 2026, Requested: 2_000_000,
		Answers: map[string]any{"pilot": true}}
	for _, tc := range []struct {
		name   string
		rule   calls.Rule
		change func(f *calls.Facts)
		passed bool
		reason string
	}{
		{"type in list", calls.Rule{Kind: calls.RuleOrgType, Values: []string{"cooperative", "ngo"}}, nil, true, "eligibility_org_type"},
		{"type not in list", calls.Rule{Kind: calls.RuleOrgType, Values: []string{"ngo"}}, nil, false, "eligibility_org_type"},
		{"country in list", calls.Rule{Kind: calls.RuleCountry, Values: []string{"GH"}}, nil, true, "eligibility_country"},
		{"country not in list", calls.Rule{Kind: calls.RuleCountry, Values: []string{"SN"}}, nil, false, "eligibility_country"},
		{"region in list", calls.Rule{Kind: calls.RuleRegion, Values: []string{"africa"}}, nil, true, "eligibility_region"},
		{"region not in list", calls.Rule{Kind: calls.RuleRegion, Values: []string{"americas"}}, nil, false, "eligibility_region"},
		{"old enough, to the year", calls.Rule{Kind: calls.RuleOrgAge, MinYears: 6}, nil, true, "eligibility_org_age"},
		{"too young", calls.Rule{Kind: calls.RuleOrgAge, MinYears: 7}, nil, false, "eligibility_org_age"},
		{"amount within", calls.Rule{Kind: calls.RuleAmount}, nil, true, "eligibility_amount"},
		{"amount at the minimum", calls.Rule{Kind: calls.RuleAmount}, func(f *calls.Facts) { f.Requested = 1_000_000 }, true, "eligibility_amount"},
		{"amount at the maximum", calls.Rule{Kind: calls.RuleAmount}, func(f *calls.Facts) { f.Requested = 5_000_000 }, true, "eligibility_amount"},
		{"amount one cent below", calls.Rule{Kind: calls.RuleAmount}, func(f *calls.Facts) { f.Requested = 999_999 }, false, "eligibility_amount"},
		{"amount one cent above", calls.Rule{Kind: calls.RuleAmount}, func(f *calls.Facts) { f.Requested = 5_000_001 }, false, "eligibility_amount"},
		{"yes expected, yes given", calls.Rule{Kind: calls.RuleYesNo, Question: "pilot", Expect: "yes"}, nil, true, "eligibility_yes_no"},
		{"yes expected, no given", calls.Rule{Kind: calls.RuleYesNo, Question: "pilot", Expect: "yes"}, func(f *calls.Facts) { f.Answers = map[string]any{"pilot": false} }, false, "eligibility_yes_no"},
		{"yes expected, no answer", calls.Rule{Kind: calls.RuleYesNo, Question: "pilot", Expect: "yes"}, func(f *calls.Facts) { f.Answers = nil }, false, "eligibility_yes_no"},
		{"no expected, no given", calls.Rule{Kind: calls.RuleYesNo, Question: "pilot", Expect: "no"}, func(f *calls.Facts) { f.Answers = map[string]any{"pilot": false} }, true, "eligibility_yes_no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := facts
			if tc.change != nil {
				tc.change(&f)
			}
			c.Eligibility.V = []calls.Rule{tc.rule}
			out := c.CheckEligibility(f)
			if len(out) != 1 || out[0].Passed != tc.passed || out[0].Reason != tc.reason || calls.Eligible(out) != tc.passed {
				t.Errorf("got %+v", out)
			}
		})
	}
	c.Eligibility.V = nil
	if out := c.CheckEligibility(facts); len(out) != 0 || !calls.Eligible(out) {
		t.Error("a call without rules must admit everyone")
	}
}

// step is one G0 workflow action.
type step func(env *apptest.Env, t *testing.T, a audit.Actor, id string) error

func TestG0Transitions(t *testing.T) {
	env := apptest.New(t)
	mgr, _ := env.User("g0@example.org", authz.RoleManager, authz.FacilityDomain("sustainable_enterprises"))
	a := audit.Actor{UserID: mgr.ID, IP: "127.0.0.1", RequestID: "test"}
	submit := func(env *apptest.Env, t *testing.T, a audit.Actor, id string) error {
		return env.Calls.SubmitForApproval(t.Context(), a, id)
	}
	decide := func(d, r string) step {
		return func(env *apptest.Env, t *testing.T, a audit.Actor, id string) error {
			return env.Calls.DecideG0(t.Context(), a, id, d, r)
		}
	}
	publish := func(env *apptest.Env, t *testing.T, a audit.Actor, id string) error {
		return env.Calls.Publish(t.Context(), a, id)
	}
	update := func(env *apptest.Env, t *testing.T, a audit.Actor, id string) error {
		c, _ := env.Calls.Get(t.Context(), id)
		_, err := env.Calls.Update(t.Context(), a, id, c.Version, design())
		return err
	}
	// reach brings a fresh call to a status.
	reach := map[string][]step{
		calls.StatusDraft:     nil,
		calls.StatusInReview:  {submit},
		calls.StatusApproved:  {submit, decide("approve", "")},
		calls.StatusPublished: {submit, decide("approve", "ok"), publish},
		calls.StatusCancelled: {submit, decide("cancel", "out of budget")},
	}
	for _, tc := range []struct {
		from, action string
		do           step
		to           string // "" when refused with ErrWrongStatus
	}{
		{calls.StatusDraft, "update", update, calls.StatusDraft},
		{calls.StatusDraft, "submit", submit, calls.StatusInReview},
		{calls.StatusDraft, "approve", decide("approve", ""), ""},
		{calls.StatusDraft, "publish", publish, ""},
		{calls.StatusInReview, "update", update, ""},
		{calls.StatusInReview, "submit again", submit, ""},
		{calls.StatusInReview, "approve", decide("approve", ""), calls.StatusApproved},
		{calls.StatusInReview, "revise", decide("revise", "clarify the budget"), calls.StatusDraft},
		{calls.StatusInReview, "cancel", decide("cancel", "duplicate of another call"), calls.StatusCancelled},
		{calls.StatusInReview, "publish", publish, ""},
		{calls.StatusApproved, "update", update, ""},
		{calls.StatusApproved, "decide again", decide("cancel", "late doubts"), ""},
		{calls.StatusApproved, "publish", publish, calls.StatusPublished},
		{calls.StatusPublished, "update", update, ""},
		{calls.StatusPublished, "publish again", publish, ""},
		{calls.StatusPublished, "cancel", decide("cancel", "x"), ""},
		{calls.StatusCancelled, "update", update, ""},
		{calls.StatusCancelled, "submit", submit, ""},
		{calls.StatusCancelled, "publish", publish, ""},
	} {
		t.Run(tc.from+" "+tc.action, func(t *testing.T) {
			c, err := env.Calls.Create(t.Context(), a, design())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range reach[tc.from] {
				if err := s(env, t, a, c.ID); err != nil {
					t.Fatalf("reach %s: %v", tc.from, err)
				}
			}
			before, _ := env.Calls.Get(t.Context(), c.ID)
			err = tc.do(env, t, a, c.ID)
			after, _ := env.Calls.Get(t.Context(), c.ID)
			if tc.to == "" {
				if !errors.Is(err, calls.ErrWrongStatus) || after.Status != before.Status || after.Version != before.Version {
					t.Fatalf("want a refusal, got %v (status %s)", err, after.Status)
				}
				return
			}
			if err != nil || after.Status != tc.to {
				t.Fatalf("got %v, status %s", err, after.Status)
			}
		})
	}

	// Decisions need a known decision and, unless approving, a reason;
	// refused ones record nothing.
	c, _ := env.Calls.Create(t.Context(), a, design())
	_ = env.Calls.SubmitForApproval(t.Context(), a, c.ID)
	for _, tc := range []struct{ decision, reason, field, code string }{
		{"", "x", "decision", "required"},
		{"maybe", "x", "decision", "not_allowed"},
		{"revise", " ", "reason", "required"},
		{"cancel", "", "reason", "required"},
		{"approve", "a\x00b", "reason", "control_character"},
		{"approve", strings.Repeat("r", 2001), "reason", "too_long"},
	} {
		err := env.Calls.DecideG0(t.Context(), a, c.ID, tc.decision, tc.reason)
		if fe, _ := validate.As(err); !hasError(fe, tc.field, tc.code) {
			t.Errorf("%q/%q: %v", tc.decision, tc.reason, err)
		}
	}
	if h, _ := gates.History(t.Context(), env.DB.Gorm, "call", c.ID); len(h) != 0 {
		t.Fatalf("refused decisions were recorded: %+v", h)
	}
	// Revise, change, resubmit, approve: two decisions, oldest first, with who and why.
	if err := env.Calls.DecideG0(t.Context(), a, c.ID, "revise", "add a gender criterion"); err != nil {
		t.Fatal(err)
	}
	if err := update(env, t, a, c.ID); err != nil {
		t.Fatalf("a revised call is a draft again: %v", err)
	}
	_ = env.Calls.SubmitForApproval(t.Context(), a, c.ID)
	if err := env.Calls.DecideG0(t.Context(), a, c.ID, "approve", ""); err != nil {
		t.Fatal(err)
	}
	h, _ := gates.History(t.Context(), env.DB.Gorm, "call", c.ID)
	if len(h) != 2 || h[0].Decision != "revise" || h[0].Reason != "add a gender criterion" || h[1].Decision != "approve" ||
		h[0].DecidedBy != mgr.ID || h[0].Gate != "G0" {
		t.Fatalf("history %+v", h)
	}
}

func TestSubmitNeedsAFormAndCriteria(t *testing.T) {
	env := apptest.New(t)
	a := manager(t, env)
	for _, tc := range []struct {
		name, field, code string
		change            func(in *calls.Input)
	}{
		{"no questions", "form", "form_empty", func(in *calls.Input) { in.Form.Sections[0].Questions = nil; in.Eligibility = nil }},
		{"no criteria", "criteria", "criteria_missing", func(in *calls.Input) { in.Criteria = nil }},
		{"criteria without weight", "criteria", "criteria_missing", func(in *calls.Input) {
			in.Criteria[0].Weight, in.Criteria[1].Weight = 0, 0
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := design()
			tc.change(&in)
			c, err := env.Calls.Create(t.Context(), a, in)
			if err != nil {
				t.Fatal(err)
			}
			err = env.Calls.SubmitForApproval(t.Context(), a, c.ID)
			if fe, _ := validate.As(err); !hasError(fe, tc.field, tc.code) {
				t.Fatalf("got %v", err)
			}
			if got, _ := env.Calls.Get(t.Context(), c.ID); got.Status != calls.StatusDraft {
				t.Fatalf("status %s", got.Status)
			}
		})
	}
}

func TestUpdateIsOptimistic(t *testing.T) {
	env := apptest.New(t)
	a := manager(t, env)
	c, err := env.Calls.Create(t.Context(), a, design())
	if err != nil {
		t.Fatal(err)
	}
	first := design()
	first.Title["en"] = "First editor"
	if _, err := env.Calls.Update(t.Context(), a, c.ID, c.Version, first); err != nil {
		t.Fatal(err)
	}
	second := design()
	second.Title["en"] = "Second editor"
	if _, err := env.Calls.Update(t.Context(), a, c.ID, c.Version, second); !errors.Is(err, calls.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	moved := design()
	moved.FacilityCode = "skills_lifelong_learning"
	got, _ := env.Calls.Get(t.Context(), c.ID)
	if _, err := env.Calls.Update(t.Context(), a, c.ID, got.Version, moved); !hasError(mustFields(err), "facility", "facility_fixed") {
		t.Fatalf("moving facility: %v", err)
	}
	if _, err := env.Calls.Update(t.Context(), a, "not-a-uuid", 1, design()); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("unknown call: %v", err)
	}
	got, _ = env.Calls.Get(t.Context(), c.ID)
	if got.Title.V["en"] != "First editor" || got.Version != c.Version+1 {
		t.Fatalf("title %q version %d", got.Title.V["en"], got.Version)
	}
}

// manager is a manager of the sample design's facility, as an audit actor.
func manager(t *testing.T, env *apptest.Env) audit.Actor {
	t.Helper()
	u, _ := env.User("manager@example.org", authz.RoleManager, authz.FacilityDomain("sustainable_enterprises"))
	return audit.Actor{UserID: u.ID, IP: "127.0.0.1", RequestID: "test"}
}

func mustFields(err error) validate.Errors {
	fe, _ := validate.As(err)
	return fe
}
