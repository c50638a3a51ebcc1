package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// inUseWaiter decides what happens while programs hold the files a
// folder's update or uninstall must replace: on a terminal, without
// --wait, it names them and asks the customer to close them (Enter checks
// again, q gives up); with --wait, or without a terminal, it checks again
// every few seconds until wait has passed, then stops with exit 9 and
// nothing changed or used.
func inUseWaiter(ios *IOStreams, target string, wait time.Duration) func(ctx context.Context, procs []updater.Process) error {
	var deadline time.Time
	return func(ctx context.Context, procs []updater.Process) error {
		if ios.InTTY && wait == 0 {
			return askToClose(ctx, ios, target, procs)
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(wait)
			if wait > 0 {
				fmt.Fprintln(ios.ErrOut, ios.P.Sprintf("Waiting up to %v for %s to be closed.", wait, updater.ProcessNames(procs)))
			}
		}
		if !now.Before(deadline) {
			return updater.InUseError(target, procs)
		}
		t := time.NewTimer(min(inUsePoll, deadline.Sub(now)))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
}

// inUsePoll is how often a waiting run checks the files again.
const inUsePoll = 2 * time.Second

// askToClose lists the programs and waits for the customer.
func askToClose(ctx context.Context, ios *IOStreams, target string, procs []updater.Process) error {
	P := ios.P
	fmt.Fprintln(ios.ErrOut, P.Sprintf("These programs use files of %s:", target))
	for _, p := range procs {
		fmt.Fprintf(ios.ErrOut, "  %s\n", P.Sprintf("%s (PID %d)", p.Name, p.PID))
	}
	line, err := ios.Prompt(ctx, P.Sprintf("Close them (on every computer that runs the program from this folder), then press Enter to try again, or type q to stop: "),
		i18n.M("programs use the files and standard input ended; close them, or pass --wait to wait for them"))
	if err != nil {
		return err
	}
	if s := strings.ToLower(strings.TrimSpace(line)); s == "q" || s == "quit" || s == "в" || s == "изход" {
		return updater.InUseError(target, procs)
	}
	return nil
}
