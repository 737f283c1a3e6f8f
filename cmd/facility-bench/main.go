// Command facility-bench measures Facility against the targets in the
// issues. Each scenario needs nothing beyond, for the server scenarios,
// FACILITY_DATABASE_URL (a PostgreSQL database it may fill and empty; SQLite
// otherwise): it generates its data, starts what it needs on loopback ports,
// measures, checks, stops what it started, and prints one JSON object as its
// last line.
//
//	facility-bench assign [-proposals 10000 -evaluators 3000 -k 3]
//	facility-bench calibrate [-reviews 100000]
//	facility-bench select [-proposals 2000]
//	facility-bench startup
//	facility-bench uploads [-n 200 -size-mb 10]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
)

type scenario func(ctx context.Context, args []string) (map[string]any, error)

func main() {
	scenarios := map[string]scenario{
		"assign":    benchAssign,
		"calibrate": benchCalibrate,
		"select":    benchSelect,
		"startup":   benchStartup,
		"spike":     benchSpike,
		"uploads":   benchUploads,
	}
	if len(os.Args) < 2 || scenarios[os.Args[1]] == nil {
		names := make([]string, 0, len(scenarios))
		for n := range scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: facility-bench %s [flags]\n", strings.Join(names, "|"))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := scenarios[os.Args[1]](ctx, os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "facility-bench:", err)
		os.Exit(1)
	}
	res["scenario"] = os.Args[1]
	b, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "facility-bench:", err)
		os.Exit(1)
	}
	fmt.Println(string(b))
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
