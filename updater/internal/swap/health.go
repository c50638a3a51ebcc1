package swap

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/held"

	"github.com/aktual/aktual/internal/fault"
)

// DefaultHealthTimeout bounds a health check.
const DefaultHealthTimeout = 30 * time.Second

// maxHealthOutput bounds what a health check's output is kept of.
const maxHealthOutput = 4 << 10

// OldPath is where the previous version waits during the health check.
func OldPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".old")
}

// HealthCheck runs the newly installed target with args; it must exit 0
// within the timeout (0: DefaultHealthTimeout). It is not cut short by
// Ctrl-C: a half-run check would only roll back a good update.
func HealthCheck(ctx context.Context, target string, args []string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	cmd := exec.CommandContext(hctx, target, args...)
	cmd.Dir = filepath.Dir(target)
	cmd.Env = withoutAktualEnv(os.Environ()) // never hand it the update code
	ownGroup(cmd)
	out := &limitedBuffer{max: maxHealthOutput}
	cmd.Stdout, cmd.Stderr = out, out
	// A program killed at the timeout may leave children holding its
	// output open: stop waiting for them soon after.
	cmd.WaitDelay = time.Second
	err := cmd.Start()
	if err == nil {
		fault.Hit(fault.DuringHealth)
		err = cmd.Wait()
	}
	switch {
	case hctx.Err() != nil:
		return i18n.Errorf("it did not finish within %s", timeout)
	case err != nil:
		line, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
		if line != "" {
			return i18n.Errorf("running it with %s: %v: %s", strings.Join(args, " "), err, line)
		}
		return i18n.Errorf("running it with %s: %v", strings.Join(args, " "), err)
	}
	return nil
}

// Rollback puts the previous version back over a new one that failed its
// health check. The check's program has just exited, and Windows may hold
// its file a moment longer: the rename is tried again for a short while
// (held.Retry). The new file may be read-only (Stage gives it the old
// one's attributes), and Windows renames nothing over a read-only file:
// it is made replaceable first.
func Rollback(target string) error {
	replaceable(target)
	if err := held.Retry(held.ByAnother, func() error { return os.Rename(OldPath(target), target) }); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(target))
}

// DropOld removes the previous version once the new one is accepted. On
// Windows a running program cannot be removed; it is then left, and the
// next update replaces it.
func DropOld(target string) {
	err := os.Remove(OldPath(target))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return
	}
}

// withoutAktualEnv drops aktual's own settings (AKTUAL_CODE among them)
// from the environment the checked program gets.
func withoutAktualEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(strings.ToUpper(kv), "AKTUAL_") {
			out = append(out, kv)
		}
	}
	return out
}

type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
