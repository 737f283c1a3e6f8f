package web

import (
	"testing"
	"time"
)

func TestInZonesShowsEachDistinctTimeOnce(t *testing.T) {
	at := time.Date(2026, 12, 22, 16, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		zones []string
		want  string
	}{
		{[]string{"UTC", "UTC"}, "2026-12-22 16:30 UTC"},
		{[]string{"UTC", "UTC", "Europe/Zurich"}, "2026-12-22 16:30 UTC (2026-12-22 17:30 CET)"},
		{[]string{"Africa/Nairobi", "UTC", "Europe/Zurich"}, "2026-12-22 19:30 EAT (2026-12-22 16:30 UTC; 2026-12-22 17:30 CET)"},
		{[]string{"Not/AZone", "UTC"}, "2026-12-22 16:30 UTC"},
	} {
		if got := inZones(at, tc.zones...); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.zones, got, tc.want)
		}
	}
}
