package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"facility/internal/assignment"
	"facility/internal/portfolio"
	"facility/internal/scoring"
)

// solve runs the evaluation engine on a JSON instance file, so managers and
// other programs can use it without the web application. Formats are in
// the README; examples in configs/examples.
func solve(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("solve: name a problem: assign, calibrate or select")
	}
	kind := args[0]
	fs := flag.NewFlagSet("solve "+kind, flag.ContinueOnError)
	in := fs.String("in", "", "instance file (JSON), or - for standard input")
	out := fs.String("out", "", "result file (JSON); standard output when empty")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("solve %s: --in FILE is required", kind)
	}
	r := io.Reader(os.Stdin)
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("solve %s: %w", kind, err)
		}
		defer f.Close()
		r = f
	}
	progress := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	var result any
	switch kind {
	case "assign":
		inst, err := assignment.ReadInstance(r)
		if err != nil {
			return fmt.Errorf("solve assign: %w", err)
		}
		if short := assignment.CheckFeasibility(inst); len(short) > 0 {
			msgs := make([]string, len(short))
			for i, s := range short {
				msgs[i] = s.Message
			}
			return fmt.Errorf("solve assign: the instance cannot be solved:\n  %s", strings.Join(msgs, "\n  "))
		}
		res, err := assignment.Solve(ctx, inst, assignment.Options{
			Progress: func(done, total int) { progress("assign: %d of %d reviews routed", done, total) },
		})
		if err != nil {
			return fmt.Errorf("solve assign: %w", err)
		}
		result = res
	case "calibrate":
		inst, err := scoring.ReadInstance(r)
		if err != nil {
			return fmt.Errorf("solve calibrate: %w", err)
		}
		res, err := scoring.Analyse(ctx, inst)
		if err != nil {
			return fmt.Errorf("solve calibrate: %w", err)
		}
		result = res
	case "select":
		inst, err := portfolio.ReadInstance(r)
		if err != nil {
			return fmt.Errorf("solve select: %w", err)
		}
		res, err := portfolio.Select(ctx, inst, portfolio.Options{
			Progress: func(p portfolio.Progress) { progress("select: %+v", p) },
		})
		if err != nil {
			return fmt.Errorf("solve select: %w", err)
		}
		result = res
	default:
		return fmt.Errorf("solve: unknown problem %q (assign, calibrate or select)", kind)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("solve %s: %w", kind, err)
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(result); err != nil {
		return fmt.Errorf("solve %s: write result: %w", kind, err)
	}
	return nil
}
