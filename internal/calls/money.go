package calls

import (
	"fmt"
	"strconv"
	"strings"
)

// minorDigits is how many minor units a currency has (ISO 4217); two
// unless listed.
var minorDigits = map[string]int{"XOF": 0}

// FormatMoney writes an amount in minor units as people read it, with the
// currency first: "USD 25,000.00", "XOF 1,500,000".
func FormatMoney(minor int64, currency string) string {
	digits, ok := minorDigits[currency]
	if !ok {
		digits = 2
	}
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor) // two's complement: right even for the smallest int64
	}
	unit := uint64(1)
	for range digits {
		unit *= 10
	}
	whole := strconv.FormatUint(u/unit, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if digits > 0 {
		fmt.Fprintf(&b, ".%0*d", digits, u%unit)
	}
	return currency + " " + b.String()
}

// Money formats an amount in the call's currency.
func (c *Call) Money(minor int64) string { return FormatMoney(minor, c.Currency) }
