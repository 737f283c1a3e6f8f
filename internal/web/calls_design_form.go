package web

import (
	"math"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"facility/internal/calls"
	"facility/internal/validate"
)

// Reading the design forms into a calls.Input. What cannot be read (a
// number that is not one) is reported under the domain's field name, so it
// shows where the domain's own complaints would.

// readBasics reads the basics form into in (the facility is set by the
// caller: chosen on a new call, fixed afterwards).
func readBasics(c echo.Context, in *calls.Input) validate.Errors {
	var errs validate.Errors
	f, _ := c.FormParams()
	in.Origin, in.Scope = c.FormValue("origin"), c.FormValue("scope")
	in.Languages = orderedLanguages(f["languages"])
	in.Title, in.Challenge = calls.Text{}, calls.Text{}
	for _, l := range in.Languages {
		in.Title[l] = c.FormValue("title." + l)
		in.Challenge[l] = c.FormValue("challenge." + l)
	}
	in.TwoRound = c.FormValue("two_round") == "on"
	if in.TwoRound {
		// Only two-round calls have a full proposal; the field stays on the form.
		in.FullProposalCloses = wallClock(c.FormValue("full_proposal_closes"))
	}
	in.Opens, in.Closes = wallClock(c.FormValue("opens")), wallClock(c.FormValue("closes"))
	in.Timezone = c.FormValue("timezone")
	in.GraceMinutes = readInt(&errs, "grace_minutes", c.FormValue("grace_minutes"), true)
	in.Currency = c.FormValue("currency")
	in.BudgetMinor = readMoney(&errs, "budget_minor", c.FormValue("budget"), in.Currency)
	in.MinGrantMinor = readMoney(&errs, "min_grant_minor", c.FormValue("min_grant"), in.Currency)
	in.MaxGrantMinor = readMoney(&errs, "max_grant_minor", c.FormValue("max_grant"), in.Currency)
	in.Regions, in.Countries = nonEmpty(f["regions"]), nonEmpty(f["countries"])
	in.OrgTypes, in.Indicators = nonEmpty(f["organisation_types"]), nonEmpty(f["indicators"])
	in.Donors = lines(c.FormValue("donors"))
	return errs
}

// orderedLanguages keeps the known languages in the interface's order, so
// the call's first language does not depend on the order of checkboxes.
func orderedLanguages(sent []string) []string {
	out := []string{}
	for _, l := range []string{"en", "fr", "es"} {
		for _, s := range sent {
			if s == l {
				out = append(out, l)
				break
			}
		}
	}
	// Anything else is passed on, for the domain to refuse.
	for _, s := range sent {
		if s != "en" && s != "fr" && s != "es" {
			out = append(out, s)
		}
	}
	return out
}

// wallClock accepts what datetime-local inputs send, with or without seconds.
func wallClock(v string) string {
	v = strings.TrimSpace(v)
	if len(v) == len("2006-01-02T15:04:05") && strings.HasSuffix(v, ":00") {
		return v[:len(v)-3]
	}
	return v
}

func nonEmpty(vs []string) []string {
	out := []string{}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// lines splits a textarea into its non-empty lines.
func lines(v string) []string {
	return nonEmpty(strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n"))
}

// readInt reads a whole number; empty is zero unless required.
func readInt(errs *validate.Errors, field, v string, required bool) int {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			errs.Add(field, "required", nil)
		}
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > 1e9 || n < -1e9 {
		errs.Add(field, "not_a_number", nil)
		return 0
	}
	return n
}

// readFloat reads an optional decimal number.
func readFloat(errs *validate.Errors, field, v string) *float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		errs.Add(field, "not_a_decimal", nil)
		return nil
	}
	return &f
}

// minorDigits is how many decimals a currency's amounts have, as
// calls.FormatMoney writes them (the CFA franc has none).
func minorDigits(currency string) int {
	_, frac, _ := strings.Cut(calls.FormatMoney(0, currency), ".")
	return len(frac)
}

// readMoney reads an amount such as "25000", "25,000.50" or "25 000,50"
// into minor units of currency. Empty is required.
func readMoney(errs *validate.Errors, field, v, currency string) int64 {
	v = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "'", "", "_", "").Replace(strings.TrimSpace(v))
	if v == "" {
		errs.Add(field, "required", nil)
		return 0
	}
	// The last of "." and "," is the decimal separator, unless only one of
	// them is used and it groups thousands ("25,000", "25.000", "1,000,000").
	dot, comma := strings.LastIndex(v, "."), strings.LastIndex(v, ",")
	sep := max(dot, comma)
	if (dot < 0 || comma < 0) && sep >= 0 && (len(v)-sep-1 == 3 || strings.Count(v, v[sep:sep+1]) > 1) {
		sep = -1
	}
	whole, frac := v, ""
	if sep >= 0 {
		whole, frac = v[:sep], v[sep+1:]
	}
	whole = strings.NewReplacer(",", "", ".", "").Replace(whole)
	digits := minorDigits(currency)
	if whole == "" || len(whole) > 13 || len(frac) > digits || !allDigits(whole) || !allDigits(frac) {
		errs.Add(field, "invalid_money", map[string]any{"Decimals": digits})
		return 0
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		errs.Add(field, "invalid_money", map[string]any{"Decimals": digits})
		return 0
	}
	return n
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// moneyInput shows minor units as the decimal amount an input takes.
func moneyInput(minor int64, currency string) string {
	return strings.ReplaceAll(strings.TrimPrefix(calls.FormatMoney(minor, currency), currency+" "), ",", "")
}
