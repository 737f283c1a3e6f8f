// Package assignment assigns evaluators to proposals of a challenge call.
//
// Each proposal gets k evaluators; every evaluator reviews between a minimum
// and a maximum number of proposals. Conflicts of interest, language (the
// evaluator must read the proposal's language), pairs forbidden or fixed by a
// manager, evaluator loads and per-proposal group bounds (for example "at
// least one ILO technical specialist", "at most one evaluator from the
// applicant's own constituency") are hard constraints. Among the assignments
// that respect them, Solve finds one of minimum total cost, where cost is
// minus the affinity (shared topics, similarity scores, bids), minus an
// expertise bonus, plus a convex load cost that spreads work evenly, plus a
// removal cost for every existing assignment that is dropped.
//
// The problem is solved exactly as a minimum-cost flow. Pairs without any
// affinity all cost the same, so they are routed through a few aggregated
// "hub" nodes (one per language and evaluator group) instead of one arc per
// pair; the hub flow is then split into concrete pairs that avoid conflicts.
// Whenever that split is impossible for a proposal, the proposal's pairs in
// that hub are made explicit and the flow is solved again, so the answer is
// always optimal for the stated objective. Solve returns node potentials as
// an optimality certificate that VerifyCertificate checks independently.
package assignment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Limits keep every sum of costs far from int64 overflow and flows within
// int32; real calls are orders of magnitude smaller.
const (
	maxWeight   = 1_000_000
	maxScore    = 10_000
	maxBid      = 100
	maxDemand   = 1 << 24
	maxLoadEver = 1 << 16
)

// Instance is one assignment problem: the proposals of a call, the pool of
// evaluators and the rules and preferences that decide who reviews what.
type Instance struct {
	// K is the number of evaluators each proposal needs unless the proposal
	// sets its own k.
	K int `json:"k"`
	// Languages lists the languages proposals may be written in; any other
	// language in the instance is an error (usually a typo).
	Languages  []string    `json:"languages"`
	Proposals  []Proposal  `json:"proposals"`
	Evaluators []Evaluator `json:"evaluators"`
	// Bounds apply to every proposal, in addition to its own bounds.
	Bounds []GroupBound `json:"bounds,omitempty"`
	// Conflicts are conflicts of interest: the pair is never assigned.
	Conflicts []Pair `json:"conflicts,omitempty"`
	// Fixed pairs are forced by a manager.
	Fixed []Pair `json:"fixed,omitempty"`
	// Forbidden pairs are excluded by a manager.
	Forbidden []Pair `json:"forbidden,omitempty"`
	// Existing assignments are kept unless dropping them pays more than
	// Weights.Removal.
	Existing []Pair `json:"existing,omitempty"`
	// Bids are evaluators' preferences, from -100 (please not) to 100 (eager).
	Bids []Bid `json:"bids,omitempty"`
	// Affinities are sparse similarity scores (for example from text
	// matching); missing pairs score 0.
	Affinities []Affinity `json:"affinities,omitempty"`
	Weights    Weights    `json:"weights"`
	// Seed breaks ties between equally good assignments.
	Seed int64 `json:"seed"`
}

// Proposal is one application to be evaluated.
type Proposal struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	// Constituency of the applicant (for example "workers"), used by bounds
	// with own_constituency.
	Constituency string   `json:"constituency,omitempty"`
	Topics       []string `json:"topics,omitempty"`
	// K overrides Instance.K for this proposal when positive.
	K      int          `json:"k,omitempty"`
	Bounds []GroupBound `json:"bounds,omitempty"`
}

// Evaluator is one member of the evaluation pool.
type Evaluator struct {
	ID        string   `json:"id"`
	Languages []string `json:"languages"`
	MinLoad   int      `json:"min_load"`
	MaxLoad   int      `json:"max_load"`
	Expertise []string `json:"expertise,omitempty"`
	// Group is for example "ilo_specialist" or "external".
	Group        string `json:"group,omitempty"`
	Constituency string `json:"constituency,omitempty"`
}

// GroupBound limits how many of a proposal's evaluators come from a group.
// An evaluator belongs to the group when every selector that is set matches.
// The groups bounded for one proposal must be disjoint.
type GroupBound struct {
	Group        string `json:"group,omitempty"`
	Constituency string `json:"constituency,omitempty"`
	// OwnConstituency selects evaluators of the applicant's constituency.
	OwnConstituency bool `json:"own_constituency,omitempty"`
	Min             int  `json:"min,omitempty"`
	// Max is the upper bound; absent means no upper bound.
	Max *int `json:"max,omitempty"`
}

// Pair names an evaluator and a proposal.
type Pair struct {
	Evaluator string `json:"evaluator"`
	Proposal  string `json:"proposal"`
}

// Bid is an evaluator's preference for a proposal.
type Bid struct {
	Evaluator string `json:"evaluator"`
	Proposal  string `json:"proposal"`
	Bid       int    `json:"bid"`
}

// Affinity is a similarity score between an evaluator and a proposal.
type Affinity struct {
	Evaluator string `json:"evaluator"`
	Proposal  string `json:"proposal"`
	Score     int    `json:"score"`
}

// Weights turn affinities and loads into integer costs. Integers keep the
// optimum exact and the certificate checkable without rounding.
type Weights struct {
	// Topic rewards each topic shared by the proposal and the evaluator's
	// expertise.
	Topic int64 `json:"topic"`
	// Similarity multiplies Affinity.Score.
	Similarity int64 `json:"similarity"`
	// Bid multiplies Bid.Bid.
	Bid int64 `json:"bid"`
	// ExpertBonus rewards the first expert of a proposal (an evaluator
	// sharing at least ExpertOverlap topics).
	ExpertBonus int64 `json:"expert_bonus"`
	// KnowledgeableBonus rewards up to two evaluators sharing at least one
	// topic (experts included).
	KnowledgeableBonus int64 `json:"knowledgeable_bonus"`
	// ExpertOverlap is the number of shared topics that makes an expert;
	// 0 means 2.
	ExpertOverlap int `json:"expert_overlap,omitempty"`
	// Load makes every extra review cost more than the last: an evaluator's
	// j-th review costs Load*(j-1), so a load of n costs Load*n*(n-1)/2.
	Load int64 `json:"load"`
	// Removal is paid for every existing assignment that is dropped.
	Removal int64 `json:"removal"`
}

func (w Weights) expertOverlap() int {
	if w.ExpertOverlap <= 0 {
		return 2
	}
	return w.ExpertOverlap
}

// ReadInstance decodes an instance strictly (unknown fields are errors) and
// validates it.
func ReadInstance(r io.Reader) (*Instance, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var in Instance
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("assignment: decoding instance: %w", err)
	}
	if dec.More() {
		return nil, errors.New("assignment: decoding instance: trailing data after the instance")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &in, nil
}

// Hash is the SHA-256 of the instance's canonical JSON encoding, so a stored
// run can be matched with its input.
func (in *Instance) Hash() string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(in); err != nil {
		// Encoding plain structs of strings and integers cannot fail.
		panic(err)
	}
	sum := sha256.Sum256(bytes.TrimSpace(buf.Bytes()))
	return hex.EncodeToString(sum[:])
}

// InstanceError reports what is wrong with an instance and where.
type InstanceError struct {
	Item    string // for example `proposal "P12"` or `conflict #3`
	Problem string
}

func (e *InstanceError) Error() string {
	return "assignment: invalid instance: " + e.Item + ": " + e.Problem
}

func bad(item, format string, args ...any) error {
	return &InstanceError{Item: item, Problem: fmt.Sprintf(format, args...)}
}

// Validate reports the first problem that makes the instance unusable.
func (in *Instance) Validate() error {
	_, err := newIndex(in)
	return err
}

// index holds the validated instance in integer form.
type index struct {
	in      *Instance
	langIdx map[string]int
	propIdx map[string]int
	evalIdx map[string]int

	pLang  []int32
	pK     []int32
	eLangs [][]int32 // sorted language indices per evaluator
	eMin   []int32
	eMax   []int32

	pTopics   [][]int32 // topic ids per proposal (deduplicated)
	eTopicSet []map[int32]struct{}
	topicEval [][]int32 // evaluators per topic id

	blocked  map[uint64]struct{} // conflicts and forbidden
	conflict map[uint64]struct{}
	fixed    map[uint64]struct{}
	existing map[uint64]struct{}
	bid      map[uint64]int64
	score    map[uint64]int64

	// Evaluator signatures: distinct (group, constituency).
	eSig    []int32
	sigs    []signature
	pBounds [][]bound // effective bounds per proposal
	// pClass[p][s] is the bound matched by signature s for proposal p, or -1.
	pClass [][]int8
	demand int64
}

type signature struct{ group, constituency string }

type bound struct {
	sel      GroupBound
	min, max int32
}

func pairKey(e, p int) uint64 { return uint64(e)<<32 | uint64(uint32(p)) }

func (b GroupBound) matches(s signature, propConstituency string) bool {
	if b.Group != "" && s.group != b.Group {
		return false
	}
	if b.Constituency != "" && s.constituency != b.Constituency {
		return false
	}
	if b.OwnConstituency && (propConstituency == "" || s.constituency != propConstituency) {
		return false
	}
	return true
}

func (b GroupBound) describe() string {
	var s string
	if b.Group != "" {
		s = "group " + b.Group
	}
	if b.Constituency != "" {
		if s != "" {
			s += ", "
		}
		s += "constituency " + b.Constituency
	}
	if b.OwnConstituency {
		if s != "" {
			s += ", "
		}
		s += "the applicant's own constituency"
	}
	return s
}

func newIndex(in *Instance) (*index, error) {
	if in == nil {
		return nil, errors.New("assignment: invalid instance: nil")
	}
	x := &index{in: in}
	if in.K < 1 {
		return nil, bad("k", "must be at least 1, got %d", in.K)
	}
	if len(in.Proposals) == 0 {
		return nil, bad("proposals", "none given")
	}
	if len(in.Evaluators) == 0 {
		return nil, bad("evaluators", "none given")
	}
	if len(in.Proposals) >= 1<<31-1 || len(in.Evaluators) >= 1<<31-1 {
		return nil, bad("instance", "too large")
	}
	if err := in.Weights.validate(); err != nil {
		return nil, err
	}
	x.langIdx = make(map[string]int, len(in.Languages))
	for i, l := range in.Languages {
		if l == "" {
			return nil, bad(fmt.Sprintf("language #%d", i+1), "empty name")
		}
		if _, dup := x.langIdx[l]; dup {
			return nil, bad(fmt.Sprintf("language %q", l), "listed twice")
		}
		x.langIdx[l] = i
	}
	topicIdx := map[string]int32{}
	topicID := func(t string) int32 {
		id, ok := topicIdx[t]
		if !ok {
			id = int32(len(topicIdx))
			topicIdx[t] = id
			x.topicEval = append(x.topicEval, nil)
		}
		return id
	}

	x.evalIdx = make(map[string]int, len(in.Evaluators))
	x.eLangs = make([][]int32, len(in.Evaluators))
	x.eMin = make([]int32, len(in.Evaluators))
	x.eMax = make([]int32, len(in.Evaluators))
	x.eTopicSet = make([]map[int32]struct{}, len(in.Evaluators))
	x.eSig = make([]int32, len(in.Evaluators))
	sigIdx := map[signature]int32{}
	for i, e := range in.Evaluators {
		item := fmt.Sprintf("evaluator %q", e.ID)
		if e.ID == "" {
			return nil, bad(fmt.Sprintf("evaluator #%d", i+1), "empty id")
		}
		if _, dup := x.evalIdx[e.ID]; dup {
			return nil, bad(item, "duplicate id")
		}
		x.evalIdx[e.ID] = i
		if e.MinLoad < 0 || e.MaxLoad < 0 {
			return nil, bad(item, "negative load (min_load %d, max_load %d)", e.MinLoad, e.MaxLoad)
		}
		if e.MinLoad > e.MaxLoad {
			return nil, bad(item, "min_load %d is larger than max_load %d", e.MinLoad, e.MaxLoad)
		}
		if e.MaxLoad > maxLoadEver {
			return nil, bad(item, "max_load %d is unreasonably large", e.MaxLoad)
		}
		if len(e.Languages) == 0 {
			return nil, bad(item, "reads no language")
		}
		for _, l := range e.Languages {
			li, ok := x.langIdx[l]
			if !ok {
				return nil, bad(item, "unknown language %q (known: %v)", l, in.Languages)
			}
			if containsInt32(x.eLangs[i], int32(li)) {
				return nil, bad(item, "language %q listed twice", l)
			}
			x.eLangs[i] = append(x.eLangs[i], int32(li))
		}
		sort.Slice(x.eLangs[i], func(a, b int) bool { return x.eLangs[i][a] < x.eLangs[i][b] })
		x.eMin[i], x.eMax[i] = int32(e.MinLoad), int32(e.MaxLoad)
		x.eTopicSet[i] = make(map[int32]struct{}, len(e.Expertise))
		for _, t := range e.Expertise {
			id := topicID(t)
			if _, dup := x.eTopicSet[i][id]; !dup {
				x.eTopicSet[i][id] = struct{}{}
				x.topicEval[id] = append(x.topicEval[id], int32(i))
			}
		}
		s := signature{e.Group, e.Constituency}
		si, ok := sigIdx[s]
		if !ok {
			si = int32(len(x.sigs))
			sigIdx[s] = si
			x.sigs = append(x.sigs, s)
		}
		x.eSig[i] = si
	}

	for i, b := range in.Bounds {
		if err := b.validate(fmt.Sprintf("bound #%d", i+1), in.K); err != nil {
			return nil, err
		}
	}
	x.propIdx = make(map[string]int, len(in.Proposals))
	x.pLang = make([]int32, len(in.Proposals))
	x.pK = make([]int32, len(in.Proposals))
	x.pTopics = make([][]int32, len(in.Proposals))
	x.pBounds = make([][]bound, len(in.Proposals))
	x.pClass = make([][]int8, len(in.Proposals))
	for i, p := range in.Proposals {
		item := fmt.Sprintf("proposal %q", p.ID)
		if p.ID == "" {
			return nil, bad(fmt.Sprintf("proposal #%d", i+1), "empty id")
		}
		if _, dup := x.propIdx[p.ID]; dup {
			return nil, bad(item, "duplicate id")
		}
		x.propIdx[p.ID] = i
		li, ok := x.langIdx[p.Language]
		if !ok {
			return nil, bad(item, "unknown language %q (known: %v)", p.Language, in.Languages)
		}
		x.pLang[i] = int32(li)
		if p.K < 0 {
			return nil, bad(item, "negative k %d", p.K)
		}
		k := in.K
		if p.K > 0 {
			k = p.K
		}
		x.pK[i] = int32(k)
		x.demand += int64(k)
		if x.demand > maxDemand {
			return nil, bad(item, "total number of reviews is unreasonably large")
		}
		seen := map[int32]bool{}
		for _, t := range p.Topics {
			id := topicID(t)
			if !seen[id] {
				seen[id] = true
				x.pTopics[i] = append(x.pTopics[i], id)
			}
		}
		all := make([]GroupBound, 0, len(in.Bounds)+len(p.Bounds))
		all = append(all, in.Bounds...)
		for j, b := range p.Bounds {
			if err := b.validate(fmt.Sprintf("%s bound #%d", item, j+1), k); err != nil {
				return nil, err
			}
			all = append(all, b)
		}
		minSum := 0
		for _, b := range all {
			if b.OwnConstituency && p.Constituency == "" {
				if b.Min > 0 {
					return nil, bad(item, "has no constituency but a bound asks for at least %d evaluators of the applicant's own constituency", b.Min)
				}
				continue
			}
			mx := k
			if b.Max != nil && *b.Max < k {
				mx = *b.Max
			}
			if b.Min > k {
				return nil, bad(item, "needs %d evaluators but a bound asks for at least %d from %s", k, b.Min, b.describe())
			}
			x.pBounds[i] = append(x.pBounds[i], bound{sel: b, min: int32(b.Min), max: int32(mx)})
			minSum += b.Min
		}
		if len(x.pBounds[i]) > 100 {
			return nil, bad(item, "too many group bounds (%d)", len(x.pBounds[i]))
		}
		if minSum > k {
			return nil, bad(item, "group bounds ask for at least %d evaluators in total but the proposal needs only %d", minSum, k)
		}
		x.pClass[i] = make([]int8, len(x.sigs))
		for s, sig := range x.sigs {
			x.pClass[i][s] = -1
			for bi, b := range x.pBounds[i] {
				if !b.sel.matches(sig, p.Constituency) {
					continue
				}
				if x.pClass[i][s] >= 0 {
					prev := x.pBounds[i][x.pClass[i][s]].sel.describe()
					return nil, bad(item, "group bounds overlap: evaluators of group %q, constituency %q fall under both %q and %q", sig.group, sig.constituency, prev, b.sel.describe())
				}
				x.pClass[i][s] = int8(bi)
			}
		}
	}

	pair := func(kind string, n int, pr Pair) (int, int, error) {
		item := fmt.Sprintf("%s #%d (%s, %s)", kind, n+1, pr.Evaluator, pr.Proposal)
		e, ok := x.evalIdx[pr.Evaluator]
		if !ok {
			return 0, 0, bad(item, "unknown evaluator %q", pr.Evaluator)
		}
		p, ok := x.propIdx[pr.Proposal]
		if !ok {
			return 0, 0, bad(item, "unknown proposal %q", pr.Proposal)
		}
		return e, p, nil
	}
	x.blocked = map[uint64]struct{}{}
	x.conflict = map[uint64]struct{}{}
	for n, pr := range in.Conflicts {
		e, p, err := pair("conflict", n, pr)
		if err != nil {
			return nil, err
		}
		x.conflict[pairKey(e, p)] = struct{}{}
		x.blocked[pairKey(e, p)] = struct{}{}
	}
	for n, pr := range in.Forbidden {
		e, p, err := pair("forbidden pair", n, pr)
		if err != nil {
			return nil, err
		}
		x.blocked[pairKey(e, p)] = struct{}{}
	}
	x.fixed = map[uint64]struct{}{}
	fixedPerProp := make(map[int]int)
	fixedPerEval := make(map[int]int)
	for n, pr := range in.Fixed {
		e, p, err := pair("fixed pair", n, pr)
		if err != nil {
			return nil, err
		}
		item := fmt.Sprintf("fixed pair #%d (%s, %s)", n+1, pr.Evaluator, pr.Proposal)
		key := pairKey(e, p)
		if _, dup := x.fixed[key]; dup {
			return nil, bad(item, "listed twice")
		}
		if _, c := x.conflict[key]; c {
			return nil, bad(item, "is also a conflict of interest")
		}
		if _, f := x.blocked[key]; f {
			return nil, bad(item, "is also forbidden")
		}
		if !x.reads(e, int(x.pLang[p])) {
			return nil, bad(item, "evaluator does not read %s, the proposal's language", in.Proposals[p].Language)
		}
		x.fixed[key] = struct{}{}
		fixedPerProp[p]++
		fixedPerEval[e]++
		if fixedPerProp[p] > int(x.pK[p]) {
			return nil, bad(item, "proposal %q has more fixed evaluators than the %d it needs", pr.Proposal, x.pK[p])
		}
		if fixedPerEval[e] > int(x.eMax[e]) {
			return nil, bad(item, "evaluator %q has more fixed proposals than their max_load %d", pr.Evaluator, x.eMax[e])
		}
	}
	x.existing = map[uint64]struct{}{}
	for n, pr := range in.Existing {
		e, p, err := pair("existing assignment", n, pr)
		if err != nil {
			return nil, err
		}
		if _, dup := x.existing[pairKey(e, p)]; dup {
			return nil, bad(fmt.Sprintf("existing assignment #%d (%s, %s)", n+1, pr.Evaluator, pr.Proposal), "listed twice")
		}
		x.existing[pairKey(e, p)] = struct{}{}
	}
	x.bid = map[uint64]int64{}
	for n, b := range in.Bids {
		e, p, err := pair("bid", n, Pair{b.Evaluator, b.Proposal})
		if err != nil {
			return nil, err
		}
		item := fmt.Sprintf("bid #%d (%s, %s)", n+1, b.Evaluator, b.Proposal)
		if b.Bid < -maxBid || b.Bid > maxBid {
			return nil, bad(item, "bid %d outside [-%d, %d]", b.Bid, maxBid, maxBid)
		}
		if _, dup := x.bid[pairKey(e, p)]; dup {
			return nil, bad(item, "listed twice")
		}
		x.bid[pairKey(e, p)] = int64(b.Bid)
	}
	x.score = map[uint64]int64{}
	for n, a := range in.Affinities {
		e, p, err := pair("affinity", n, Pair{a.Evaluator, a.Proposal})
		if err != nil {
			return nil, err
		}
		item := fmt.Sprintf("affinity #%d (%s, %s)", n+1, a.Evaluator, a.Proposal)
		if a.Score < -maxScore || a.Score > maxScore {
			return nil, bad(item, "score %d outside [-%d, %d]", a.Score, maxScore, maxScore)
		}
		if _, dup := x.score[pairKey(e, p)]; dup {
			return nil, bad(item, "listed twice")
		}
		x.score[pairKey(e, p)] = int64(a.Score)
	}

	// The eligible pool: evaluators reading the language, minus blocked pairs.
	readers := make([]int, len(in.Languages))
	for e := range in.Evaluators {
		for _, l := range x.eLangs[e] {
			readers[l]++
		}
	}
	blockedReaders := make([]int, len(in.Proposals))
	for key := range x.blocked {
		e, p := int(key>>32), int(uint32(key))
		if x.reads(e, int(x.pLang[p])) {
			blockedReaders[p]++
		}
	}
	for p, pr := range in.Proposals {
		pool := readers[x.pLang[p]] - blockedReaders[p]
		if int(x.pK[p]) > pool {
			return nil, bad(fmt.Sprintf("proposal %q", pr.ID), "needs %d evaluators but only %d evaluators read %s and have no conflict or exclusion", x.pK[p], pool, pr.Language)
		}
	}
	return x, nil
}

func (w Weights) validate() error {
	for _, f := range []struct {
		name string
		v    int64
		neg  bool // negative allowed
	}{
		{"topic", w.Topic, true},
		{"similarity", w.Similarity, true},
		{"bid", w.Bid, true},
		{"expert_bonus", w.ExpertBonus, false},
		{"knowledgeable_bonus", w.KnowledgeableBonus, false},
		{"load", w.Load, false},
		{"removal", w.Removal, false},
	} {
		if f.v > maxWeight || f.v < -maxWeight {
			return bad("weights."+f.name, "%d outside [-%d, %d]", f.v, maxWeight, maxWeight)
		}
		if !f.neg && f.v < 0 {
			// A negative bonus or load weight would make the cost non-convex,
			// which no flow model can represent exactly.
			return bad("weights."+f.name, "must not be negative, got %d", f.v)
		}
	}
	if w.ExpertOverlap < 0 || w.ExpertOverlap > 1000 {
		return bad("weights.expert_overlap", "%d outside [0, 1000]", w.ExpertOverlap)
	}
	return nil
}

func (b GroupBound) validate(item string, k int) error {
	if b.Group == "" && b.Constituency == "" && !b.OwnConstituency {
		return bad(item, "selects no group: set group, constituency or own_constituency")
	}
	if b.Min < 0 {
		return bad(item, "negative min %d", b.Min)
	}
	if b.Max != nil && *b.Max < 0 {
		return bad(item, "negative max %d", *b.Max)
	}
	if b.Max != nil && *b.Max < b.Min {
		return bad(item, "min %d is larger than max %d", b.Min, *b.Max)
	}
	return nil
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (x *index) reads(e, lang int) bool { return containsInt32(x.eLangs[e], int32(lang)) }

// overlap counts the proposal's topics in the evaluator's expertise.
func (x *index) overlap(e, p int) int {
	n := 0
	for _, t := range x.pTopics[p] {
		if _, ok := x.eTopicSet[e][t]; ok {
			n++
		}
	}
	return n
}

// Expertise levels of a pair.
const (
	levelNone          = 0
	levelKnowledgeable = 1
	levelExpert        = 2
)

func levelOf(overlap, expertOverlap int) int {
	switch {
	case overlap >= expertOverlap:
		return levelExpert
	case overlap >= 1:
		return levelKnowledgeable
	}
	return levelNone
}

// class is the index of the proposal's bound that covers the evaluator, or -1.
func (x *index) class(e, p int) int { return int(x.pClass[p][x.eSig[e]]) }
