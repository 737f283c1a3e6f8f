package portfolio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExampleInstanceParsesAndSelects(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "configs", "examples", "select.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := ReadInstance(f)
	if err != nil {
		t.Fatalf("example instance rejected: %v", err)
	}
	res, err := Select(context.Background(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Optimal || len(res.Selected) == 0 || res.TotalAmount > in.Budget {
		t.Fatalf("example not solved: %+v", res)
	}
	if res.Diversity == nil || res.Diversity.Price < -1e-9 {
		t.Fatalf("price of diversity missing or negative: %+v", res.Diversity)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
}

// validJSON is a small valid instance that the bad cases below alter.
const validJSON = `{"currency":"USD","budget":1000,"proposals":[
 {"id":"a","amount":400,"score":1,"organisation_type":"startup","region":"Africa","country":"KE","organisation_id":"o1","passes_thresholds":true},
 {"id":"b","amount":500,"score":2,"organisation_type":"employers_org","region":"Arab States","country":"JO","organisation_id":"o2","passes_thresholds":true}],
 "rules":{}}`

func TestReadInstanceRejectsBadInstances(t *testing.T) {
	if _, err := ReadInstance(strings.NewReader(validJSON)); err != nil {
		t.Fatalf("valid instance rejected: %v", err)
	}
	cases := []struct{ name, from, to, want string }{
		{"zero budget", `"budget":1000`, `"budget":0`, "budget must be positive"},
		{"negative budget", `"budget":1000`, `"budget":-5`, "budget must be positive"},
		{"negative amount", `"amount":400`, `"amount":-400`, "negative"},
		{"zero amount", `"amount":400`, `"amount":0`, "amount is zero"},
		{"duplicate id", `"id":"b"`, `"id":"a"`, "duplicate proposal id"},
		{"unknown field", `"score":1,`, `"score":1,"colour":"red",`, "unknown field"},
		{"missing thresholds", `"organisation_id":"o1","passes_thresholds":true`, `"organisation_id":"o1"`, "passes_thresholds is missing"},
		{"bad region", `"region":"Africa"`, `"region":"Atlantis"`, "not an ILO region"},
		{"share above 1", `"rules":{}`, `"rules":{"organisation_types":[{"organisation_type":"startup","min_share":1.5}]}`, "outside 0..1"},
		{"min share above max", `"rules":{}`, `"rules":{"organisation_types":[{"organisation_type":"startup","min_share":0.5,"max_share":0.2}]}`, "above max_share"},
		{"min count above max", `"rules":{}`, `"rules":{"regions":[{"region":"Africa","min_count":3,"max_count":1}]}`, "min_count 3 is above max_count 1"},
		{"unknown type", `"rules":{}`, `"rules":{"organisation_types":[{"organisation_type":"guild","min_count":1}]}`, "no proposal has this organisation type"},
		{"unknown proposal in exclusion", `"rules":{}`, `"rules":{"exclusions":[{"proposals":["a","zz"]}]}`, `unknown proposal "zz"`},
		{"unknown forced", `"rules":{}`, `"rules":{"forced_in":["zz"]}`, `forced_in: unknown proposal "zz"`},
		{"forced both ways", `"rules":{}`, `"rules":{"forced_in":["a"],"forced_out":["a"]}`, "both forced in and forced out"},
		{"bad objective", `"budget":1000`, `"budget":1000,"objective":"luck"`, "objective"},
		{"trailing data", `"rules":{}}`, `"rules":{}} {}`, "after the instance"},
		{"negative cap", `"rules":{}`, `"rules":{"country_cap":-1}`, "country_cap is negative"},
		{"not JSON", `{"currency"`, `{currency`, "decoding JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(validJSON, c.from, c.to, 1)
			if src == validJSON {
				t.Fatalf("case does not change the instance")
			}
			_, err := ReadInstance(strings.NewReader(src))
			if err == nil {
				t.Fatalf("accepted")
			}
			if !errors.Is(err, ErrInvalidInstance) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := Select(context.Background(), &Instance{}, Options{}); !errors.Is(err, ErrInvalidInstance) {
		t.Fatalf("empty instance: %v", err)
	}
}

func FuzzReadInstance(f *testing.F) {
	f.Add([]byte(validJSON))
	if b, err := os.ReadFile(filepath.Join("..", "..", "configs", "examples", "select.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"currency":"USD","budget":1,"proposals":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ReadInstance(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(in.Proposals) > 12 {
			return
		}
		// Whatever it accepts must solve without error or panic.
		res, err := Select(context.Background(), in, Options{NodeLimit: 200})
		if err != nil {
			t.Fatalf("accepted instance fails to select: %v", err)
		}
		if res.Status == "optimal" && res.TotalAmount > in.Budget {
			t.Fatalf("selection over budget")
		}
	})
}
