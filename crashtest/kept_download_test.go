package crashtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/fault"
)

// A download cut off by a crash is kept beside the target: aktual status
// shows it (for a program it never updated, with --target), and the next
// update continues it.
func TestStatusShowsKeptDownload(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	target := f.newTarget(t)
	if p := f.update(target, f.state, fault.MidDownload); !p.killed || p.timedOut {
		t.Fatalf("want the update to die by SIGKILL at %s; got %s", fault.MidDownload, p)
	}

	p := run(f.ctx, "", aktualBin, "status", "--state-dir", f.state, "--target", target, "--json")
	if !p.exited(0) {
		t.Fatalf("status: %s", p)
	}
	var st struct {
		Downloads []struct {
			Target      string
			Have, Total int64
		}
	}
	if err := json.Unmarshal([]byte(p.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, p.stdout)
	}
	if len(st.Downloads) != 1 || st.Downloads[0].Target != target ||
		st.Downloads[0].Have <= 0 || st.Downloads[0].Have >= st.Downloads[0].Total || st.Downloads[0].Total != int64(len(f.v2)) {
		t.Fatalf("status --json downloads = %+v; want one partial download of %d bytes for %s", st.Downloads, len(f.v2), target)
	}
	t.Logf("kept after the crash: %d of %d bytes", st.Downloads[0].Have, st.Downloads[0].Total)
	text := run(f.ctx, "", aktualBin, "status", "--state-dir", f.state, "--target", target)
	if want := "running the update again continues it"; !strings.Contains(text.stdout, want) {
		t.Errorf("status does not say %q:\n%s", want, text.stdout)
	}

	u := f.update(target, f.state, "")
	if !u.exited(0) || u.status() != "updated" || !f.isNew(target) {
		t.Fatalf("the update after the crash: %s", u)
	}
	p = run(f.ctx, "", aktualBin, "status", "--state-dir", f.state, "--target", target, "--json")
	if err := json.Unmarshal([]byte(p.stdout), &st); err != nil || len(st.Downloads) != 0 {
		t.Errorf("after the update, status still shows downloads: %s", p.stdout)
	}
	f.requireInvariant(t, []string{target})
}
