package migrations

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// refTable describes one reference-data CSV under migrations/data.
type refTable struct {
	file    string
	header  []string
	key     []string // columns that together form the (unique, sorted) key
	names   []string // columns that must be non-empty
	minRows int
	maxRows int // 0 means no upper bound
}

var refTables = []refTable{
	{file: "ilo_regions.csv", header: []string{"code", "name_en", "name_fr", "name_es"},
		key: []string{"code"}, names: []string{"code", "name_en", "name_fr", "name_es"}, minRows: 5, maxRows: 5},
	{file: "ilo_subregions.csv", header: []string{"code", "region_code", "name_en", "name_fr", "name_es"},
		key: []string{"code"}, names: []string{"code", "region_code", "name_en", "name_fr", "name_es"}, minRows: 11, maxRows: 11},
	{file: "countries.csv", header: []string{"iso2", "iso3", "name_en", "name_fr", "name_es", "ilo_region", "ilo_subregion"},
		key: []string{"iso2"}, names: []string{"iso2", "iso3", "name_en", "name_fr", "name_es", "ilo_region", "ilo_subregion"}, minRows: 190},
	{file: "income_groups.csv", header: []string{"iso3", "fiscal_year", "income_group"},
		key: []string{"iso3", "fiscal_year"}, names: []string{"iso3", "fiscal_year", "income_group"}, minRows: 2 * 180},
	{file: "organisation_types.csv", header: []string{"code", "name_en", "name_fr", "name_es", "is_constituent", "constituent_group"},
		key: []string{"code"}, names: []string{"code", "name_en", "name_fr", "name_es", "is_constituent"}, minRows: 16, maxRows: 16},
	{file: "thematic_facilities.csv", header: []string{"code", "name_en", "name_fr", "name_es"},
		key: []string{"code"}, names: []string{"code", "name_en", "name_fr", "name_es"}, minRows: 4, maxRows: 4},
	{file: "iso_processes.csv", header: []string{"code", "position", "clause", "name_en", "name_fr", "name_es", "gate_code"},
		key: []string{"code"}, names: []string{"code", "position", "clause", "name_en", "name_fr", "name_es", "gate_code"}, minRows: 5, maxRows: 5},
	{file: "indicators.csv", header: []string{"code", "goal", "name_en", "name_fr", "name_es", "ilo_role", "ilostat_series"},
		key: []string{"code"}, names: []string{"code", "goal", "name_en", "name_fr", "name_es", "ilo_role"}, minRows: 26},
}

// table is a parsed CSV: rows as maps from column name to value.
type table struct {
	header []string
	rows   []map[string]string
}

func readTable(t *testing.T, file string) table {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("data", file))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	if !utf8.Valid(raw) {
		t.Fatalf("%s: not valid UTF-8", file)
	}
	if bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		t.Fatalf("%s: starts with a byte-order mark", file)
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = 0 // every record must have as many fields as the header
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	if len(records) == 0 {
		t.Fatalf("%s: empty", file)
	}
	tb := table{header: records[0]}
	for i, rec := range records[1:] {
		row := make(map[string]string, len(rec))
		for j, v := range rec {
			if v != strings.TrimSpace(v) {
				t.Errorf("%s line %d column %s: leading or trailing space in %q", file, i+2, tb.header[j], v)
			}
			row[tb.header[j]] = v
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

func loadAll(t *testing.T) map[string]table {
	t.Helper()
	all := make(map[string]table, len(refTables))
	for _, rt := range refTables {
		all[rt.file] = readTable(t, rt.file)
	}
	return all
}

func keyOf(row map[string]string, cols []string) []string {
	k := make([]string, len(cols))
	for i, c := range cols {
		k[i] = row[c]
	}
	return k
}

func TestReferenceDataShape(t *testing.T) {
	for _, rt := range refTables {
		t.Run(rt.file, func(t *testing.T) {
			tb := readTable(t, rt.file)
			if !slices.Equal(tb.header, rt.header) {
				t.Fatalf("header = %v, want %v", tb.header, rt.header)
			}
			if n := len(tb.rows); n < rt.minRows || (rt.maxRows > 0 && n > rt.maxRows) {
				t.Errorf("%d rows, want between %d and %d (0 = unbounded)", n, rt.minRows, rt.maxRows)
			}
			seen := make(map[string]int)
			var prev []string
			for i, row := range tb.rows {
				line := i + 2
				for _, c := range rt.names {
					if row[c] == "" {
						t.Errorf("line %d: empty %s", line, c)
					}
				}
				k := keyOf(row, rt.key)
				ks := strings.Join(k, "\x00")
				if first, dup := seen[ks]; dup {
					t.Errorf("line %d: duplicate key %v (first on line %d)", line, k, first)
				}
				seen[ks] = line
				if prev != nil && slices.Compare(prev, k) > 0 {
					t.Errorf("line %d: key %v sorts before previous key %v", line, k, prev)
				}
				prev = k
			}
		})
	}
}

var (
	codeRe      = regexp.MustCompile(`^[a-z][a-z0-9_]*[a-z0-9]$`)
	iso2Re      = regexp.MustCompile(`^[A-Z]{2}$`)
	iso3Re      = regexp.MustCompile(`^[A-Z]{3}$`)
	indicatorRe = regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2}|[a-z])\.[0-9]{1,2}$`)
	seriesRe    = regexp.MustCompile(`^SDG_[0-9A-Z]{4}_[A-Z_]+_(RT|NB)$`)
	clauseRe    = regexp.MustCompile(`^8\.3\.[2-6]$`)
	gateRe      = regexp.MustCompile(`^G[0-9]$`)
)

func TestReferenceDataCodes(t *testing.T) {
	all := loadAll(t)
	for _, file := range []string{"ilo_regions.csv", "ilo_subregions.csv", "organisation_types.csv", "thematic_facilities.csv", "iso_processes.csv"} {
		for _, row := range all[file].rows {
			if !codeRe.MatchString(row["code"]) {
				t.Errorf("%s: code %q is not snake_case", file, row["code"])
			}
		}
	}
}

func TestReferenceDataRegions(t *testing.T) {
	all := loadAll(t)
	wantRegions := []string{"africa", "americas", "arab_states", "asia_pacific", "europe_central_asia"}
	var regions []string
	for _, r := range all["ilo_regions.csv"].rows {
		regions = append(regions, r["code"])
	}
	if !slices.Equal(regions, wantRegions) {
		t.Errorf("regions = %v, want %v", regions, wantRegions)
	}

	subRegion := make(map[string]string)
	perRegion := make(map[string]int)
	for _, s := range all["ilo_subregions.csv"].rows {
		if !slices.Contains(wantRegions, s["region_code"]) {
			t.Errorf("subregion %s: unknown region_code %q", s["code"], s["region_code"])
		}
		subRegion[s["code"]] = s["region_code"]
		perRegion[s["region_code"]]++
	}
	wantPerRegion := map[string]int{"africa": 2, "americas": 2, "arab_states": 1, "asia_pacific": 3, "europe_central_asia": 3}
	for r, n := range wantPerRegion {
		if perRegion[r] != n {
			t.Errorf("region %s has %d subregions, want %d", r, perRegion[r], n)
		}
	}

	// Spot checks of the ILOSTAT grouping named in the design brief.
	want := map[string][2]string{
		"EG": {"africa", "northern_africa"},
		"SD": {"africa", "northern_africa"},
		"MA": {"africa", "northern_africa"},
		"NG": {"africa", "sub_saharan_africa"},
		"BR": {"americas", "latin_america_caribbean"},
		"PR": {"americas", "latin_america_caribbean"},
		"US": {"americas", "northern_america"},
		"SA": {"arab_states", "arab_states"},
		"PS": {"arab_states", "arab_states"},
		"LB": {"arab_states", "arab_states"},
		"IR": {"asia_pacific", "southern_asia"},
		"HK": {"asia_pacific", "eastern_asia"},
		"MO": {"asia_pacific", "eastern_asia"},
		"AU": {"asia_pacific", "south_eastern_asia_pacific"},
		"TR": {"europe_central_asia", "central_western_asia"},
		"IL": {"europe_central_asia", "central_western_asia"},
		"CY": {"europe_central_asia", "central_western_asia"},
		"KZ": {"europe_central_asia", "central_western_asia"},
		"FR": {"europe_central_asia", "northern_southern_western_europe"},
		"XK": {"europe_central_asia", "northern_southern_western_europe"},
		"PL": {"europe_central_asia", "eastern_europe"},
	}

	arabStates := []string{"BH", "IQ", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "AE", "YE"}
	seenIso3 := make(map[string]string)
	usedSub := make(map[string]bool)
	var arab []string
	for _, c := range all["countries.csv"].rows {
		iso2, iso3 := c["iso2"], c["iso3"]
		if !iso2Re.MatchString(iso2) {
			t.Errorf("country %q: bad iso2", iso2)
		}
		if !iso3Re.MatchString(iso3) {
			t.Errorf("country %s: bad iso3 %q", iso2, iso3)
		}
		if other, dup := seenIso3[iso3]; dup {
			t.Errorf("iso3 %s used by %s and %s", iso3, other, iso2)
		}
		seenIso3[iso3] = iso2
		region, ok := subRegion[c["ilo_subregion"]]
		switch {
		case !ok:
			t.Errorf("country %s: unknown ilo_subregion %q", iso2, c["ilo_subregion"])
		case region != c["ilo_region"]:
			t.Errorf("country %s: subregion %s belongs to %s, not %s", iso2, c["ilo_subregion"], region, c["ilo_region"])
		}
		usedSub[c["ilo_subregion"]] = true
		if w, ok := want[iso2]; ok {
			if got := [2]string{c["ilo_region"], c["ilo_subregion"]}; got != w {
				t.Errorf("country %s: region/subregion = %v, want %v", iso2, got, w)
			}
			delete(want, iso2)
		}
		if c["ilo_region"] == "arab_states" {
			arab = append(arab, iso2)
		}
	}
	for iso2 := range want {
		t.Errorf("country %s missing", iso2)
	}
	for code := range subRegion {
		if !usedSub[code] {
			t.Errorf("subregion %s has no country", code)
		}
	}
	slices.Sort(arab)
	slices.Sort(arabStates)
	if !slices.Equal(arab, arabStates) {
		t.Errorf("Arab States = %v, want %v", arab, arabStates)
	}
}

func TestReferenceDataIncomeGroups(t *testing.T) {
	all := loadAll(t)
	countries := make(map[string]bool)
	for _, c := range all["countries.csv"].rows {
		countries[c["iso3"]] = true
	}
	groups := []string{"low", "lower_middle", "upper_middle", "high"}
	years := []string{"2025", "2026"}
	perYear := make(map[string]int)
	perCountry := make(map[string]int)
	for _, g := range all["income_groups.csv"].rows {
		if !countries[g["iso3"]] {
			t.Errorf("income group for unknown country %q", g["iso3"])
		}
		if !slices.Contains(years, g["fiscal_year"]) {
			t.Errorf("%s: fiscal_year %q not in %v", g["iso3"], g["fiscal_year"], years)
		}
		if !slices.Contains(groups, g["income_group"]) {
			t.Errorf("%s %s: income_group %q not in %v", g["iso3"], g["fiscal_year"], g["income_group"], groups)
		}
		perYear[g["fiscal_year"]]++
		perCountry[g["iso3"]]++
	}
	for _, y := range years {
		if perYear[y] < 180 {
			t.Errorf("fiscal year %s: %d countries classified, want at least 180", y, perYear[y])
		}
	}
	for iso3, n := range perCountry {
		if n != len(years) {
			t.Errorf("%s: classified for %d fiscal years, want %d", iso3, n, len(years))
		}
	}
}

func TestReferenceDataOrganisationTypes(t *testing.T) {
	all := loadAll(t)
	want := map[string]string{
		"government_ministry": "government", "public_agency": "government",
		"employers_org": "employers", "business_membership_org": "employers",
		"workers_org_trade_union": "workers",
		"cooperative":             "", "social_enterprise": "", "startup": "", "private_enterprise": "",
		"ngo_cso": "", "association": "", "tvet_training_provider": "", "university_research": "",
		"regional_sectoral_body": "", "un_agency_internal": "", "individual": "",
	}
	for _, o := range all["organisation_types.csv"].rows {
		code := o["code"]
		group, ok := want[code]
		if !ok {
			t.Errorf("unexpected organisation type %q", code)
			continue
		}
		delete(want, code)
		if o["constituent_group"] != group {
			t.Errorf("%s: constituent_group = %q, want %q", code, o["constituent_group"], group)
		}
		wantFlag := fmt.Sprint(group != "")
		if o["is_constituent"] != wantFlag {
			t.Errorf("%s: is_constituent = %q, want %q", code, o["is_constituent"], wantFlag)
		}
	}
	for code := range want {
		t.Errorf("organisation type %s missing", code)
	}
}

func TestReferenceDataThematicFacilities(t *testing.T) {
	all := loadAll(t)
	var got []string
	for _, f := range all["thematic_facilities.csv"].rows {
		got = append(got, f["code"])
	}
	want := []string{"climate_action_just_transition", "skills_lifelong_learning", "sustainable_enterprises", "transformative_technologies"}
	if !slices.Equal(got, want) {
		t.Errorf("thematic facilities = %v, want %v", got, want)
	}
}

func TestReferenceDataISOProcesses(t *testing.T) {
	all := loadAll(t)
	want := map[string][3]string{ // code -> position, clause, gate
		"identify_opportunities": {"1", "8.3.2", "G0"},
		"create_concepts":        {"2", "8.3.3", "G1"},
		"validate_concepts":      {"3", "8.3.4", "G2"},
		"develop_solutions":      {"4", "8.3.5", "G4"},
		"deploy_solutions":       {"5", "8.3.6", "G5"},
	}
	for _, p := range all["iso_processes.csv"].rows {
		if !clauseRe.MatchString(p["clause"]) {
			t.Errorf("%s: clause %q is not an ISO 56002 8.3.x clause", p["code"], p["clause"])
		}
		if !gateRe.MatchString(p["gate_code"]) {
			t.Errorf("%s: bad gate_code %q", p["code"], p["gate_code"])
		}
		w, ok := want[p["code"]]
		if !ok {
			t.Errorf("unexpected process %q", p["code"])
			continue
		}
		delete(want, p["code"])
		if got := [3]string{p["position"], p["clause"], p["gate_code"]}; got != w {
			t.Errorf("%s: position/clause/gate = %v, want %v", p["code"], got, w)
		}
	}
	for code := range want {
		t.Errorf("process %s missing", code)
	}
}

func TestReferenceDataIndicators(t *testing.T) {
	all := loadAll(t)
	roles := []string{"custodian", "co_custodian", "partner", "producer", "related"}
	required := []string{
		"1.1.1", "1.3.1", "5.5.2", "8.2.1", "8.3.1", "8.5.1", "8.5.2", "8.6.1", "8.7.1", "8.8.1", "8.8.2",
		"8.b.1", "9.2.2", "10.4.1", "10.7.1", "14.c.1", "16.10.1", "5.4.1",
		"4.3.1", "4.4.1", "9.3.1", "9.3.2", "8.10.2", "9.c.1", "5.b.1", "7.2.1",
	}
	got := make(map[string]bool)
	for _, ind := range all["indicators.csv"].rows {
		code := ind["code"]
		got[code] = true
		m := indicatorRe.FindStringSubmatch(code)
		if m == nil {
			t.Errorf("indicator %q: bad code", code)
			continue
		}
		if ind["goal"] != m[1] {
			t.Errorf("indicator %s: goal %q, want %q", code, ind["goal"], m[1])
		}
		if !slices.Contains(roles, ind["ilo_role"]) {
			t.Errorf("indicator %s: ilo_role %q not in %v", code, ind["ilo_role"], roles)
		}
		if s := ind["ilostat_series"]; s != "" {
			for _, id := range strings.Split(s, ";") {
				if !seriesRe.MatchString(id) {
					t.Errorf("indicator %s: bad ILOSTAT series %q", code, id)
				}
			}
		}
	}
	for _, code := range required {
		if !got[code] {
			t.Errorf("indicator %s missing", code)
		}
	}
}
