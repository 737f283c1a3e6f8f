package calls

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"facility/internal/audit"
	"facility/internal/authz"
	"facility/internal/database"
	"facility/internal/gates"
	"facility/internal/validate"
)

// Errors of the calls domain.
var (
	ErrNotFound    = errors.New("call not found")
	ErrConflict    = errors.New("the call was changed by someone else")
	ErrWrongStatus = errors.New("not possible in the call's current status")
)

// Service is the calls domain.
type Service struct {
	db        *gorm.DB
	countries *countryCodes
}

// countryCodes caches the valid country codes: reference data that only a
// migration changes, checked on every answer of every save.
type countryCodes struct {
	mu    sync.Mutex
	codes map[string]bool
}

// New builds the service.
func New(db *gorm.DB) *Service { return &Service{db: db, countries: &countryCodes{}} }

// WithTx returns the service working inside tx, sharing its caches.
func (s *Service) WithTx(tx *gorm.DB) *Service { return &Service{db: tx, countries: s.countries} }

// Input is a call's design as a manager writes it. Opening and closing times
// are wall-clock times in the call's own timezone ("2026-12-15T17:00").
type Input struct {
	FacilityCode  string      `json:"facility"`
	Origin        string      `json:"origin"`
	Scope         string      `json:"scope"`
	Languages     []string    `json:"languages"`
	Title         Text        `json:"title"`
	Challenge     Text        `json:"challenge"`
	TwoRound      bool        `json:"two_round"`
	Opens         string      `json:"opens"`
	Closes        string      `json:"closes"`
	Timezone      string      `json:"timezone"`
	GraceMinutes  int         `json:"grace_minutes"`
	Currency      string      `json:"currency"`
	BudgetMinor   int64       `json:"budget_minor"`
	MinGrantMinor int64       `json:"min_grant_minor"`
	MaxGrantMinor int64       `json:"max_grant_minor"`
	Regions       []string    `json:"regions"`
	Countries     []string    `json:"countries"`
	OrgTypes      []string    `json:"organisation_types"`
	Indicators    []string    `json:"indicators"`
	Donors        []string    `json:"donors"`
	Form          Form        `json:"form"`
	Eligibility   []Rule      `json:"eligibility"`
	Criteria      []Criterion `json:"criteria"`

	// FullProposalCloses closes round 2 of a two-round call, in the call's
	// timezone like Closes; required for two-round calls only.
	FullProposalCloses string `json:"full_proposal_closes,omitempty"`
}

// Currencies accepted for budgets (ISO 4217, those the Facility funds in).
var Currencies = []string{"USD", "EUR", "CHF", "GBP", "XOF", "KES", "INR", "BRL", "PEN", "ZAR"}

const localLayout = "2006-01-02T15:04"

func (s *Service) codes(ctx context.Context, table, key string) map[string]bool {
	var vals []string
	s.db.WithContext(ctx).Table(table).Pluck(key, &vals)
	out := make(map[string]bool, len(vals))
	for _, v := range vals {
		out[v] = true
	}
	return out
}

// Countries returns the valid country codes (for answer checks).
func (s *Service) Countries(ctx context.Context) map[string]bool {
	s.countries.mu.Lock()
	defer s.countries.mu.Unlock()
	if len(s.countries.codes) == 0 {
		s.countries.codes = s.codes(ctx, "countries", "iso2")
	}
	return s.countries.codes
}

// Check validates a design and returns it resolved: times in UTC.
func (s *Service) Check(ctx context.Context, in *Input) (opens, closes time.Time, errs validate.Errors) {
	at, errs := s.check(ctx, in)
	return at.opens, at.closes, errs
}

// schedule is a design's times, resolved to instants.
type schedule struct {
	opens, closes      time.Time
	fullProposalCloses *time.Time // two-round calls only
}

func (s *Service) check(ctx context.Context, in *Input) (at schedule, errs validate.Errors) {
	if !s.codes(ctx, "thematic_facilities", "code")[in.FacilityCode] {
		errs.Add("facility", "not_allowed", nil)
	}
	errs.OneOf("origin", in.Origin, []string{"external", "internal"})
	errs.OneOf("scope", in.Scope, []string{"global", "regional", "national"})
	if len(in.Languages) == 0 {
		errs.Add("languages", "required", nil)
	}
	for i, l := range in.Languages {
		// Each language once: a repeated one would be asked for twice.
		if !slices.Contains([]string{"en", "fr", "es"}, l) || slices.Contains(in.Languages[:i], l) {
			errs.Add("languages", "not_allowed", nil)
			break
		}
	}
	langs := in.Languages
	checkText(&errs, "title", in.Title, langs, true, 200)
	checkText(&errs, "challenge", in.Challenge, langs, true, 20000)
	loc, err := time.LoadLocation(in.Timezone)
	if in.Timezone == "" || in.Timezone == "Local" || err != nil {
		errs.Add("timezone", "invalid_timezone", nil)
		loc = time.UTC
	}
	var perr error
	if at.opens, perr = time.ParseInLocation(localLayout, in.Opens, loc); perr != nil {
		errs.Add("opens", "invalid_datetime", nil)
	}
	if at.closes, perr = time.ParseInLocation(localLayout, in.Closes, loc); perr != nil {
		errs.Add("closes", "invalid_datetime", nil)
	} else if !at.closes.After(at.opens) {
		errs.Add("closes", "closes_before_opens", nil)
	}
	at.fullProposalCloses = fullProposalCloses(&errs, in, loc, at.closes)
	errs.IntRange("grace_minutes", in.GraceMinutes, 0, 1440)
	errs.OneOf("currency", in.Currency, Currencies)
	if in.BudgetMinor <= 0 {
		errs.Add("budget_minor", "must_be_positive", nil)
	}
	if in.MinGrantMinor < 0 {
		errs.Add("min_grant_minor", "must_be_positive", nil)
	}
	if in.MaxGrantMinor < in.MinGrantMinor || in.MaxGrantMinor <= 0 {
		errs.Add("max_grant_minor", "max_below_min", nil)
	} else if in.MaxGrantMinor > in.BudgetMinor {
		errs.Add("max_grant_minor", "grant_above_budget", nil)
	}
	regions, countries := s.codes(ctx, "ilo_regions", "code"), s.Countries(ctx)
	orgTypes, indicators := s.codes(ctx, "organisation_types", "code"), s.codes(ctx, "indicators", "code")
	checkCodes(&errs, "regions", in.Regions, regions)
	checkCodes(&errs, "countries", in.Countries, countries)
	checkCodes(&errs, "organisation_types", in.OrgTypes, orgTypes)
	checkCodes(&errs, "indicators", in.Indicators, indicators)
	switch in.Scope {
	case "regional":
		if len(in.Regions) == 0 {
			errs.Add("regions", "required", nil)
		}
	case "national":
		if len(in.Countries) == 0 {
			errs.Add("countries", "required", nil)
		}
	}
	for i, d := range in.Donors {
		errs.Text(fmt.Sprintf("donors.%d", i), d, true, 200, false)
	}
	in.Form.check(&errs, langs, in.TwoRound)
	checkRules(&errs, in.Eligibility, &in.Form, orgTypes, countries, regions)
	ids := map[string]bool{}
	for i, c := range in.Criteria {
		p := fmt.Sprintf("criteria.%d.", i)
		if !identifier.MatchString(c.ID) || ids[c.ID] {
			errs.Add(p+"id", "invalid_identifier", nil)
		}
		ids[c.ID] = true
		checkText(&errs, p+"name", c.Name, langs, true, 200)
		checkText(&errs, p+"description", c.Description, langs, false, 2000)
		if c.Weight < 0 || c.Weight > 100 {
			errs.Add(p+"weight", "out_of_range", map[string]any{"Min": 0, "Max": 100})
		}
		if c.ScaleMax <= c.ScaleMin || c.Step < 0 || c.Step > c.ScaleMax-c.ScaleMin {
			errs.Add(p+"scale_max", "invalid_scale", nil)
		}
		if c.Threshold != nil && (*c.Threshold < c.ScaleMin || *c.Threshold > c.ScaleMax) {
			errs.Add(p+"threshold", "out_of_range", map[string]any{"Min": c.ScaleMin, "Max": c.ScaleMax})
		}
	}
	at.opens, at.closes = at.opens.UTC(), at.closes.UTC()
	return at, errs
}

func checkCodes(errs *validate.Errors, field string, vals []string, known map[string]bool) {
	seen := map[string]bool{}
	for _, v := range vals {
		if !known[v] || seen[v] {
			errs.Add(field, "not_allowed", nil)
			return
		}
		seen[v] = true
	}
}

// completeness lists what a call needs before it can go to approval.
func (c *Call) completeness() validate.Errors {
	var errs validate.Errors
	if len(c.Form.V.Questions()) == 0 {
		errs.Add("form", "form_empty", nil)
	}
	weight := 0.0
	for _, cr := range c.Criteria.V {
		weight += cr.Weight
	}
	if weight <= 0 {
		errs.Add("criteria", "criteria_missing", nil)
	}
	return errs
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Call) apply(in Input, at schedule) {
	c.FacilityCode, c.Origin, c.Scope = in.FacilityCode, in.Origin, in.Scope
	c.Languages.V, c.Title.V, c.Challenge.V = nonNil(in.Languages), in.Title, in.Challenge
	c.TwoRound, c.OpensAt, c.ClosesAt, c.Timezone, c.GraceMinutes = in.TwoRound, at.opens, at.closes, in.Timezone, in.GraceMinutes
	c.FullProposalClosesAt = at.fullProposalCloses
	c.Currency, c.BudgetMinor, c.MinGrantMinor, c.MaxGrantMinor = in.Currency, in.BudgetMinor, in.MinGrantMinor, in.MaxGrantMinor
	c.Regions.V, c.Countries.V, c.OrgTypes.V = nonNil(in.Regions), nonNil(in.Countries), nonNil(in.OrgTypes)
	c.Indicators.V, c.Donors.V = nonNil(in.Indicators), nonNil(in.Donors)
	if in.Form.Sections == nil {
		in.Form.Sections = []Section{}
	}
	c.Form.V = in.Form
	c.Eligibility.V = in.Eligibility
	if c.Eligibility.V == nil {
		c.Eligibility.V = []Rule{}
	}
	c.Criteria.V = in.Criteria
	if c.Criteria.V == nil {
		c.Criteria.V = []Criterion{}
	}
}

// Create saves a new draft call.
func (s *Service) Create(ctx context.Context, actor audit.Actor, in Input) (*Call, error) {
	at, errs := s.check(ctx, &in)
	if len(errs) > 0 {
		return nil, errs
	}
	c := &Call{ID: database.NewID(), Status: StatusDraft, Version: 1, CreatedBy: actor.UserID}
	c.apply(in, at)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = now, now
		var n int64
		if err := tx.Model(&Call{}).Where("facility_code = ?", c.FacilityCode).Count(&n).Error; err != nil {
			return fmt.Errorf("number the call: %w", err)
		}
		c.Reference = fmt.Sprintf("%s-%d-%03d", abbreviation(c.FacilityCode), now.Year(), n+1)
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("create call: %w", err)
		}
		return audit.Append(tx, actor, audit.Entry{Action: "call.create", ObjectType: "call", ObjectID: c.ID,
			Domain: authz.FacilityDomain(c.FacilityCode)})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func abbreviation(code string) string {
	var b strings.Builder
	for _, w := range strings.Split(code, "_") {
		if w != "" && len(b.String()) < 3 {
			b.WriteByte(w[0] - 'a' + 'A')
		}
	}
	return b.String()
}

// Update replaces a draft call's design, if nobody changed it since version.
func (s *Service) Update(ctx context.Context, actor audit.Actor, id string, version int, in Input) (*Call, error) {
	at, errs := s.check(ctx, &in)
	if len(errs) > 0 {
		return nil, errs
	}
	var c *Call
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if c, err = get(tx, id); err != nil {
			return err
		}
		if c.Status != StatusDraft {
			return ErrWrongStatus
		}
		if in.FacilityCode != c.FacilityCode {
			return validate.One("facility", "facility_fixed")
		}
		if c.Version != version {
			return ErrConflict
		}
		now, err := database.Now(tx)
		if err != nil {
			return err
		}
		c.apply(in, at)
		c.UpdatedAt, c.Version = now, version+1
		res := tx.Model(&Call{}).Where("id = ? AND version = ?", id, version).Select("*").Omit("id", "reference", "created_by", "created_at").Updates(c)
		if res.Error != nil {
			return fmt.Errorf("update call: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		return audit.Append(tx, actor, audit.Entry{Action: "call.update", ObjectType: "call", ObjectID: id,
			Domain: authz.FacilityDomain(c.FacilityCode), Details: map[string]any{"version": c.Version}})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func get(tx *gorm.DB, id string) (*Call, error) {
	if !database.ValidID(id) {
		return nil, ErrNotFound
	}
	var c Call
	err := tx.Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read call: %w", err)
	}
	return &c, nil
}

// Get returns a call (the caller decides who may see it).
func (s *Service) Get(ctx context.Context, id string) (*Call, error) {
	return get(s.db.WithContext(ctx), id)
}

// SubmitForApproval sends a complete draft to the G0 gate.
func (s *Service) SubmitForApproval(ctx context.Context, actor audit.Actor, id string) error {
	return s.transition(ctx, actor, id, StatusDraft, StatusInReview, "call.submit_for_approval", func(c *Call) error {
		if errs := c.completeness(); len(errs) > 0 {
			return errs
		}
		return nil
	})
}

// DecideG0 records the G0 call-approval decision: approve, revise (back to
// draft) or cancel, with who decided and why.
func (s *Service) DecideG0(ctx context.Context, actor audit.Actor, id, decision, reason string) error {
	var errs validate.Errors
	errs.OneOf("decision", decision, gates.Decisions["G0"])
	errs.Text("reason", reason, decision != "approve", 2000, true)
	if len(errs) > 0 {
		return errs
	}
	next := map[string]string{"approve": StatusApproved, "revise": StatusDraft, "cancel": StatusCancelled}[decision]
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := get(tx, id)
		if err != nil {
			return err
		}
		if c.Status != StatusInReview {
			return ErrWrongStatus
		}
		if err := gates.Record(tx, actor, &gates.Decision{SubjectType: "call", SubjectID: id, Gate: "G0", Decision: decision, Reason: reason}); err != nil {
			return err
		}
		return setStatus(tx, c, next)
	})
}

// Publish makes an approved call public.
func (s *Service) Publish(ctx context.Context, actor audit.Actor, id string) error {
	return s.transition(ctx, actor, id, StatusApproved, StatusPublished, "call.publish", nil)
}

func (s *Service) transition(ctx context.Context, actor audit.Actor, id, from, to, action string, check func(*Call) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := get(tx, id)
		if err != nil {
			return err
		}
		if c.Status != from {
			return ErrWrongStatus
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		if err := setStatus(tx, c, to); err != nil {
			return err
		}
		return audit.Append(tx, actor, audit.Entry{Action: action, ObjectType: "call", ObjectID: id, Domain: authz.FacilityDomain(c.FacilityCode)})
	})
}

func setStatus(tx *gorm.DB, c *Call, to string) error {
	now, err := database.Now(tx)
	if err != nil {
		return err
	}
	fields := map[string]any{"status": to, "updated_at": now, "version": gorm.Expr("version + 1")}
	if to == StatusPublished {
		fields["published_at"] = now
	}
	res := tx.Model(&Call{}).Where("id = ? AND status = ?", c.ID, c.Status).Updates(fields)
	if res.Error != nil {
		return fmt.Errorf("change call status: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// ForFacilities lists the calls of the given facilities, newest first.
func (s *Service) ForFacilities(ctx context.Context, facilities []string) ([]Call, error) {
	var out []Call
	if len(facilities) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Where("facility_code IN ?", facilities).Order("created_at DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}

// PublicFilter narrows the public list; empty fields match everything.
type PublicFilter struct {
	Facility string
	Region   string // an ILO region code: calls open to it (global calls are)
	Country  string // ISO alpha-2: calls open to it
	OrgType  string
	Language string
}

// Public lists published calls that are open or upcoming, soonest deadline
// first. A country's region comes from the reference table.
func (s *Service) Public(ctx context.Context, f PublicFilter) ([]Call, error) {
	db := s.db.WithContext(ctx)
	now, err := database.Now(db)
	if err != nil {
		return nil, err
	}
	var all []Call
	q := db.Where("status = ? AND closes_at > ?", StatusPublished, now.Add(-24*time.Hour))
	if f.Facility != "" {
		q = q.Where("facility_code = ?", f.Facility)
	}
	if err := q.Order("closes_at").Find(&all).Error; err != nil {
		return nil, fmt.Errorf("list public calls: %w", err)
	}
	countryRegion := ""
	if f.Country != "" {
		var r []string
		db.Table("countries").Where("iso2 = ?", f.Country).Pluck("ilo_region", &r)
		if len(r) == 1 {
			countryRegion = r[0]
		}
	}
	// A national call is open to a region when one of its countries lies there.
	var regionCountries []string
	if f.Region != "" {
		if err := db.Table("countries").Where("ilo_region = ?", f.Region).Pluck("iso2", &regionCountries).Error; err != nil {
			return nil, fmt.Errorf("read the region's countries: %w", err)
		}
	}
	out := all[:0]
	for _, c := range all {
		if now.After(c.Deadline()) {
			continue
		}
		if f.Language != "" && !c.Speaks(f.Language) {
			continue
		}
		if f.OrgType != "" && len(c.OrgTypes.V) > 0 && !slices.Contains(c.OrgTypes.V, f.OrgType) {
			continue
		}
		if f.Region != "" && !c.OpenToRegion(f.Region, regionCountries) {
			continue
		}
		if f.Country != "" && !c.OpenToCountry(f.Country, countryRegion) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// OpenToRegion reports whether organisations from region may answer:
// global calls, calls naming the region, and calls naming one of its
// countries (regionCountries).
func (c *Call) OpenToRegion(region string, regionCountries []string) bool {
	if c.Scope == "global" || slices.Contains(c.Regions.V, region) {
		return true
	}
	return slices.ContainsFunc(c.Countries.V, func(cc string) bool { return slices.Contains(regionCountries, cc) })
}

// OpenToCountry reports whether organisations from country (in region) may answer.
func (c *Call) OpenToCountry(country, region string) bool {
	switch c.Scope {
	case "national":
		return slices.Contains(c.Countries.V, country)
	case "regional":
		return slices.Contains(c.Regions.V, region) || slices.Contains(c.Countries.V, country)
	}
	return true
}
