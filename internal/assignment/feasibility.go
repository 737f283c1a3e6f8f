package assignment

import (
	"fmt"
	"sort"
	"strings"
)

// Shortfall is one reason why no assignment can exist, in words a manager
// understands.
type Shortfall struct {
	// Kind is one of "invalid", "total", "minimum", "language",
	// "language_minimum", "group", "group_minimum", "proposal", "evaluator".
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Need    int64  `json:"need"`
	Have    int64  `json:"have"`
	Message string `json:"message"`
}

// CheckFeasibility compares what the proposals need with what the
// evaluators can give, overall, per language, per group bound, per proposal
// and per evaluator. An empty result does not guarantee a solution (the
// counts can add up while conflicts still make it impossible) but every
// shortfall reported is a real obstacle.
func CheckFeasibility(in *Instance) []Shortfall {
	x, err := newIndex(in)
	if err != nil {
		return []Shortfall{{Kind: "invalid", Message: err.Error()}}
	}
	return checkFeasibility(x)
}

// languageName spells out the common language codes.
func languageName(code string) string {
	switch strings.ToLower(code) {
	case "en", "eng", "english":
		return "English"
	case "fr", "fra", "fre", "french":
		return "French"
	case "es", "spa", "spanish":
		return "Spanish"
	case "ar", "ara", "arabic":
		return "Arabic"
	case "ru", "rus", "russian":
		return "Russian"
	case "zh", "zho", "chi", "chinese":
		return "Chinese"
	case "pt", "por", "portuguese":
		return "Portuguese"
	}
	return code
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func checkFeasibility(x *index) []Shortfall {
	in := x.in
	var out []Shortfall
	nl := len(in.Languages)

	// Usable proposals per evaluator: in a language they read, not blocked.
	propsInLang := make([]int64, nl)
	demandInLang := make([]int64, nl)
	for p := range in.Proposals {
		propsInLang[x.pLang[p]]++
		demandInLang[x.pLang[p]] += int64(x.pK[p])
	}
	blockedPerEval := make([]int64, len(in.Evaluators))
	blockedPerProp := make(map[[2]int32]int64) // (proposal, signature)
	for key := range x.blocked {
		e, p := int(key>>32), int(uint32(key))
		if x.reads(e, int(x.pLang[p])) {
			blockedPerEval[e]++
			blockedPerProp[[2]int32{int32(p), x.eSig[e]}]++
		}
	}
	effMax := make([]int64, len(in.Evaluators))
	var sumMin, sumMax int64
	for e, ev := range in.Evaluators {
		var usable int64
		for _, l := range x.eLangs[e] {
			usable += propsInLang[l]
		}
		usable -= blockedPerEval[e]
		effMax[e] = min(int64(ev.MaxLoad), usable)
		sumMin += int64(ev.MinLoad)
		sumMax += effMax[e]
		if int64(ev.MinLoad) > usable {
			out = append(out, Shortfall{Kind: "evaluator", Subject: ev.ID, Need: int64(ev.MinLoad), Have: usable,
				Message: fmt.Sprintf("evaluator %s must review at least %s but only %s in languages they read and free of conflicts",
					ev.ID, plural(int64(ev.MinLoad), "proposal", "proposals"), plural(usable, "proposal is", "proposals are"))})
		}
	}
	D := x.demand
	if D > sumMax {
		out = append(out, Shortfall{Kind: "total", Subject: "all proposals", Need: D, Have: sumMax,
			Message: fmt.Sprintf("proposals need %d reviews but evaluators can give at most %d: %s needed",
				D, sumMax, plural(D-sumMax, "more evaluator slot is", "more evaluator slots are"))})
	}
	if sumMin > D {
		out = append(out, Shortfall{Kind: "minimum", Subject: "all evaluators", Need: sumMin, Have: D,
			Message: fmt.Sprintf("evaluators' minimum loads add up to %d reviews but proposals need only %d: lower minimum loads by %d in total",
				sumMin, D, sumMin-D)})
	}

	for l, code := range in.Languages {
		name := languageName(code)
		var capacity, onlyMin int64
		for e := range in.Evaluators {
			if x.reads(e, l) {
				capacity += effMax[e]
				if len(x.eLangs[e]) == 1 {
					onlyMin += int64(in.Evaluators[e].MinLoad)
				}
			}
		}
		if demandInLang[l] > capacity {
			out = append(out, Shortfall{Kind: "language", Subject: code, Need: demandInLang[l], Have: capacity,
				Message: fmt.Sprintf("proposals in %s need %d more evaluator slots than %s readers can give (%d reviews needed, at most %d available)",
					name, demandInLang[l]-capacity, name, demandInLang[l], capacity)})
		}
		if onlyMin > demandInLang[l] {
			out = append(out, Shortfall{Kind: "language_minimum", Subject: code, Need: onlyMin, Have: demandInLang[l],
				Message: fmt.Sprintf("evaluators who read only %s must do at least %d reviews but proposals in %s need only %d",
					name, onlyMin, name, demandInLang[l])})
		}
	}

	// Group bounds: per language and resolved group, the minimum reviews the
	// proposals ask from the group versus what its members can give.
	type groupNeed struct {
		need int64
		sigs map[int32]bool
	}
	needs := map[string]*groupNeed{}
	var order []string
	sigCap := make([][]int64, nl) // capacity per language per signature
	sigCount := make([][]int64, nl)
	for l := range sigCap {
		sigCap[l] = make([]int64, len(x.sigs))
		sigCount[l] = make([]int64, len(x.sigs))
	}
	for e := range in.Evaluators {
		for _, l := range x.eLangs[e] {
			sigCap[l][x.eSig[e]] += effMax[e]
			sigCount[l][x.eSig[e]]++
		}
	}
	// Allowance per signature: how many reviews group bounds let it do.
	allowance := make([]int64, len(x.sigs))
	sigReads := make([][]bool, len(x.sigs))
	for s := range x.sigs {
		sigReads[s] = make([]bool, nl)
	}
	for e := range in.Evaluators {
		for _, l := range x.eLangs[e] {
			sigReads[x.eSig[e]][l] = true
		}
	}
	for p, prop := range in.Proposals {
		l := x.pLang[p]
		name := languageName(prop.Language)
		for s := range x.sigs {
			if !sigReads[s][l] {
				continue
			}
			if c := x.pClass[p][s]; c >= 0 {
				allowance[s] += int64(x.pBounds[p][c].max)
			} else {
				allowance[s] += int64(x.pK[p])
			}
		}
		// Per proposal: enough eligible evaluators in every bounded class,
		// and enough overall once class maxima apply.
		var reachable int64
		classAvail := make([]int64, len(x.pBounds[p])+1)
		for s := range x.sigs {
			avail := sigCount[l][s] - blockedPerProp[[2]int32{int32(p), int32(s)}]
			c := int(x.pClass[p][s])
			if c < 0 {
				c = len(x.pBounds[p])
			}
			classAvail[c] += avail
		}
		for b, bd := range x.pBounds[p] {
			if classAvail[b] < int64(bd.min) {
				out = append(out, Shortfall{Kind: "proposal", Subject: prop.ID, Need: int64(bd.min), Have: classAvail[b],
					Message: fmt.Sprintf("proposal %s needs at least %s from %s but only %s who read %s and have no conflict",
						prop.ID, plural(int64(bd.min), "evaluator", "evaluators"), bd.sel.describe(), plural(classAvail[b], "such evaluator exists", "such evaluators exist"), name)})
			}
			reachable += min(classAvail[b], int64(bd.max))
		}
		reachable += classAvail[len(x.pBounds[p])]
		if reachable < int64(x.pK[p]) {
			out = append(out, Shortfall{Kind: "proposal", Subject: prop.ID, Need: int64(x.pK[p]), Have: reachable,
				Message: fmt.Sprintf("proposal %s needs %d evaluators but the group bounds leave only %d eligible %s readers",
					prop.ID, x.pK[p], reachable, name)})
		}
		for b, bd := range x.pBounds[p] {
			if bd.min == 0 {
				continue
			}
			sigs := map[int32]bool{}
			for s := range x.sigs {
				if int(x.pClass[p][s]) == b {
					sigs[int32(s)] = true
				}
			}
			desc := bd.sel.describe()
			if bd.sel.OwnConstituency {
				desc = strings.Replace(desc, "the applicant's own constituency", "constituency "+prop.Constituency, 1)
			}
			key := fmt.Sprintf("%s|%s", prop.Language, desc)
			gn, ok := needs[key]
			if !ok {
				gn = &groupNeed{sigs: sigs}
				needs[key] = gn
				order = append(order, key)
			}
			gn.need += int64(bd.min)
		}
	}
	sort.Strings(order)
	// Across languages: each evaluator's capacity counts once.
	type total struct {
		need int64
		sigs map[int32]bool
	}
	totals := map[string]*total{}
	var descs []string
	for _, key := range order {
		_, desc, _ := strings.Cut(key, "|")
		tt, ok := totals[desc]
		if !ok {
			tt = &total{sigs: needs[key].sigs}
			totals[desc] = tt
			descs = append(descs, desc)
		}
		tt.need += needs[key].need
	}
	sort.Strings(descs)
	for _, desc := range descs {
		tt := totals[desc]
		var capacity int64
		for e := range in.Evaluators {
			if tt.sigs[x.eSig[e]] {
				capacity += effMax[e]
			}
		}
		if tt.need > capacity {
			out = append(out, Shortfall{Kind: "group", Subject: desc, Need: tt.need, Have: capacity,
				Message: fmt.Sprintf("proposals need at least %d reviews from %s but those evaluators can give at most %d: %d more slots are needed",
					tt.need, desc, capacity, tt.need-capacity)})
		}
	}
	for _, key := range order {
		gn := needs[key]
		lang, desc, _ := strings.Cut(key, "|")
		l := int32(x.langIdx[lang])
		var capacity int64
		for s := range gn.sigs {
			capacity += sigCap[l][s]
		}
		if gn.need > capacity {
			name := languageName(lang)
			out = append(out, Shortfall{Kind: "group", Subject: lang + ": " + desc, Need: gn.need, Have: capacity,
				Message: fmt.Sprintf("proposals in %s need at least %d reviews from %s but those evaluators who read %s can give at most %d: %d more slots are needed",
					name, gn.need, desc, name, capacity, gn.need-capacity)})
		}
	}
	for s, sig := range x.sigs {
		var minNeed int64
		for e := range in.Evaluators {
			if int(x.eSig[e]) == s {
				minNeed += int64(in.Evaluators[e].MinLoad)
			}
		}
		if minNeed > allowance[s] {
			out = append(out, Shortfall{Kind: "group_minimum", Subject: sig.group + "/" + sig.constituency, Need: minNeed, Have: allowance[s],
				Message: fmt.Sprintf("evaluators of group %q, constituency %q must do at least %d reviews but group bounds let them do only %d",
					sig.group, sig.constituency, minNeed, allowance[s])})
		}
	}
	return out
}
