package authz_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"facility/internal/apptest"
	"facility/internal/authz"
	"facility/internal/database"
)

// Run with:
//
//	go test ./internal/authz/ -run '^$' -bench Enforce -benchtime 200000x
//
// (and FACILITY_TEST_DATABASE_URL set for PostgreSQL). The figures that
// count: p99-ns of Allowed (target under 200 µs) and load-ms for a full
// policy load of 20 000 grants (target under 2 s).

const benchGrants = 20000

var benchFacilities = []string{"climate_action_just_transition", "skills_lifelong_learning", "sustainable_enterprises", "transformative_technologies"}

type benchQuery struct{ user, dom, obj, act string }

// seedGrants writes n role grants in bulk, shaped like production: most are
// organisation roles, one org per owner; staff roles spread over facilities.
// It returns a mix of questions handlers ask, about these users.
func seedGrants(b *testing.B, env *apptest.Env, n int) []benchQuery {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	type row struct{ user, role, dom string }
	rows := make([]row, 0, n)
	var orgs []string
	for len(rows) < n {
		u := database.NewID()
		switch x := rng.IntN(100); {
		case x < 45:
			o := database.NewID()
			orgs = append(orgs, o)
			rows = append(rows, row{u, authz.RoleOrgOwner, authz.OrgDomain(o)})
		case x < 75 && len(orgs) > 0:
			rows = append(rows, row{u, authz.RoleOrgMember, authz.OrgDomain(orgs[rng.IntN(len(orgs))])})
		case x < 88:
			rows = append(rows, row{u, authz.RoleEvaluator, authz.FacilityDomain(benchFacilities[rng.IntN(4)])})
		case x < 93:
			rows = append(rows, row{u, authz.RoleManager, authz.FacilityDomain(benchFacilities[rng.IntN(4)])})
		case x < 96:
			rows = append(rows, row{u, authz.RoleMentor, authz.FacilityDomain(benchFacilities[rng.IntN(4)])})
		case x < 98:
			rows = append(rows, row{u, authz.RoleDonor, authz.FacilityDomain(benchFacilities[rng.IntN(4)])})
		case x < 99:
			rows = append(rows, row{u, authz.RoleAuditor, "system"})
		default:
			rows = append(rows, row{u, authz.RoleAdmin, "system"})
		}
	}
	const batch = 500
	for i := 0; i < len(rows); i += batch {
		part := rows[i:min(i+batch, len(rows))]
		var sb strings.Builder
		args := make([]any, 0, 3*len(part))
		sb.WriteString("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ")
		for j, r := range part {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("('g', ?, ?, ?, '', '', '')")
			args = append(args, authz.Subject(r.user), r.role, r.dom)
		}
		if err := env.DB.Gorm.Exec(sb.String(), args...).Error; err != nil {
			b.Fatal(err)
		}
	}
	objs := [][2]string{{authz.ObjCall, authz.ActCreate}, {authz.ObjProposal, authz.ActRead}, {authz.ObjReview, authz.ActScore},
		{authz.ObjOrganisation, authz.ActUpdate}, {authz.ObjProposal, authz.ActSubmit}, {authz.ObjReport, authz.ActRead}, {authz.ObjAudit, authz.ActRead}}
	qs := make([]benchQuery, 4096)
	for i := range qs {
		r := rows[rng.IntN(len(rows))]
		o := objs[rng.IntN(len(objs))]
		dom := r.dom
		switch rng.IntN(4) {
		case 0: // someone else's domain: the answer is mostly no
			dom = rows[rng.IntN(len(rows))].dom
		case 1:
			if r.dom == "system" {
				dom = authz.FacilityDomain(benchFacilities[rng.IntN(4)])
			}
		}
		qs[i] = benchQuery{r.user, dom, o[0], o[1]}
	}
	return qs
}

func bumpAndLoad(b *testing.B, env *apptest.Env) time.Duration {
	b.Helper()
	if err := env.DB.Gorm.Exec("UPDATE policy_version SET version = version + 1 WHERE id = 1").Error; err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := env.Authz.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// reportPercentiles adds p50 and p99 of per-call durations to the
// benchmark's output.
func reportPercentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	at := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
	b.ReportMetric(float64(d[len(d)-1].Nanoseconds()), "max-ns")
}

// BenchmarkEnforce measures Allowed with 20 000 role grants loaded, and the
// time to load that policy.
func BenchmarkEnforce(b *testing.B) {
	env := apptest.New(b)
	qs := seedGrants(b, env, benchGrants)
	var loads []time.Duration
	for range 5 {
		loads = append(loads, bumpAndLoad(b, env))
	}
	slices.Sort(loads)
	if gs, err := env.Authz.Grants(context.Background(), ""); err != nil || len(gs) < benchGrants {
		b.Fatalf("grants loaded: %d %v", len(gs), err)
	}
	allowedN := 0
	durations := make([]time.Duration, 0, max(b.N, 1))
	b.ResetTimer()
	for i := range b.N {
		q := qs[i%len(qs)]
		start := time.Now()
		ok, err := env.Authz.Allowed(q.user, q.dom, q.obj, q.act)
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			allowedN++
		}
	}
	b.StopTimer()
	reportPercentiles(b, durations)
	b.ReportMetric(float64(loads[len(loads)/2].Microseconds())/1000, "load-ms")
	b.ReportMetric(float64(allowedN)/float64(b.N), "allowed-ratio")
}

// BenchmarkEnforceParallel asks from many goroutines at once, as a busy
// instance does (the enforcer takes a read lock per question).
func BenchmarkEnforceParallel(b *testing.B) {
	env := apptest.New(b)
	qs := seedGrants(b, env, benchGrants)
	bumpAndLoad(b, env)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(qs))
		for pb.Next() {
			q := qs[i%len(qs)]
			if _, err := env.Authz.Allowed(q.user, q.dom, q.obj, q.act); err != nil {
				panic(fmt.Sprint(err))
			}
			i++
		}
	})
}
