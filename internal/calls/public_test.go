package calls

import (
	"math"
	"testing"
)

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{2_500_000, "USD", "USD 25,000.00"},
		{5, "EUR", "EUR 0.05"},
		{100_000_000_000, "CHF", "CHF 1,000,000,000.00"},
		{1_500_000, "XOF", "XOF 1,500,000"},
		{-123_456, "GBP", "GBP -1,234.56"},
		{0, "KES", "KES 0.00"},
		{math.MinInt64, "USD", "USD -92,233,720,368,547,758.08"},
	} {
		if got := FormatMoney(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestOpenToRegion(t *testing.T) {
	africa := []string{"GH", "SN", "KE"}
	national := &Call{Scope: "national"}
	national.Countries.V = []string{"GH"}
	if !national.OpenToRegion("africa", africa) {
		t.Error("a national call for Ghana is not shown for Africa")
	}
	if national.OpenToRegion("americas", []string{"PE", "BR"}) {
		t.Error("a national call for Ghana is shown for the Americas")
	}
	regional := &Call{Scope: "regional"}
	regional.Regions.V = []string{"americas"}
	if !regional.OpenToRegion("americas", nil) || regional.OpenToRegion("africa", africa) {
		t.Error("a regional call for the Americas is matched wrongly")
	}
	if !(&Call{Scope: "global"}).OpenToRegion("arab_states", nil) {
		t.Error("a global call is not open to every region")
	}
}
