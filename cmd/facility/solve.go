package main

import (
	"context"
	"fmt"
	"io"
)

func solve(ctx context.Context, args []string, stdout io.Writer) error {
	return fmt.Errorf("solve: not built yet")
}
