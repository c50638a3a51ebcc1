package crashtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/fault"
)

const (
	// defaultFolderSoakRounds keeps the folder soak a few seconds of go
	// test ./crashtest/; make soak runs more (FOLDER_SOAK_ROUNDS).
	defaultFolderSoakRounds = 8
	// folderSoakBudget bounds the whole folder soak; beyond, it stops,
	// failing.
	folderSoakBudget = 25 * time.Minute
	// maxFolderKillDelay bounds the server-kill instant, and the timing
	// update narrows it to what a whole update takes here.
	maxFolderKillDelay = 3 * time.Second
)

// folderStats are the folder soak's figures.
type folderStats struct {
	rounds, clientKills, serverKills, serverKillsMidRun, discrepancies int
	modes                                                              map[string]int // rounds by kind of fault
	steps                                                              map[string]int // client kills by step
	recoverExits                                                       map[int]int    // recover's exit codes
	stagesLeft                                                         int            // recover left a stage beside the folder
	killWindow, updateTime                                             time.Duration
	seen                                                               map[string]bool
}

func (st *folderStats) fresh(ps []problem) []problem {
	s := soakStats{seen: st.seen}
	out := s.fresh(ps)
	st.seen = s.seen
	return out
}

// folderHits is how many times each client step of the folder update
// from 1.0.0 to 2.0.0 is hit: once, or once per file (AKTUAL_FAULT_COUNT
// picks among them).
func (ff *folderFixture) folderHits() map[string]int {
	var puts, switched, removed int
	contents := map[string]bool{}
	for p, c := range ff.v2 {
		old, inV1 := ff.v1[p]
		if (preserved(p) && inV1) || bytes.Equal(old, c) {
			continue
		}
		puts++
		switched++ // the new file moved in
		if inV1 {
			switched++ // the old one moved aside first
		}
		contents[string(c)] = true
	}
	for p := range ff.v1 {
		if _, ok := ff.v2[p]; !ok && !preserved(p) {
			removed++
		}
	}
	hits := map[string]int{}
	for _, s := range fault.FolderSteps {
		hits[s] = 1
	}
	hits[fault.FolderFetched] = len(contents)
	hits[fault.FolderStaged] = puts
	hits[fault.FolderSwitched] = switched + removed
	return hits
}

// TestFolderSoak is issue 17's proof for program folders: rounds
// (AKTUAL_FOLDER_SOAK_ROUNDS, default 8) of a fresh install of buh 1.0.0
// (200 files), the customer's changes, then the update to 2.0.0 with, at
// random (AKTUAL_FOLDER_SOAK_SEED replays a run), no fault, the client
// killed at one of fault.FolderSteps (at a random one of its hits), the
// server killed at a random instant, or both. Then aktual recover alone,
// and the invariant: the folder is exactly 1.0.0 or 2.0.0 with the
// customer's files untouched, and consumed is the number of folders at
// 2.0.0. Then updates until the folder is 2.0.0, and the invariant again.
func TestFolderSoak(t *testing.T) {
	rounds := defaultFolderSoakRounds
	if s := os.Getenv("AKTUAL_FOLDER_SOAK_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("AKTUAL_FOLDER_SOAK_ROUNDS=%q: want a positive number", s)
		}
		rounds = n
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("AKTUAL_FOLDER_SOAK_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("AKTUAL_FOLDER_SOAK_SEED=%q: want an integer", s)
		}
		seed = n
	}
	t.Logf("folder soak: %d rounds, seed %d (replay with AKTUAL_FOLDER_SOAK_SEED=%d)", rounds, seed, seed)
	fmt.Printf("folder soak: seed %d\n", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))

	begin := time.Now()
	deadline := begin.Add(folderSoakBudget)
	if d, ok := t.Deadline(); ok && d.Add(-30*time.Second).Before(deadline) {
		deadline = d.Add(-30 * time.Second)
	}
	ff := newFolderFixture(t, rounds+3)
	if err := ff.startServer(""); err != nil {
		t.Fatal(err)
	}
	hits := ff.folderHits()
	t.Logf("folder soak: hits per step of an update 1.0.0 → 2.0.0: %v", hits)
	st := folderStats{modes: map[string]int{}, steps: map[string]int{}, recoverExits: map[int]int{}}
	versions := map[string]string{}
	st.killWindow = ff.folderKillWindow(t, versions, &st)
	t.Logf("folder soak: a whole update takes %v here; server kills at 0–%v after the client starts", st.updateTime.Round(time.Millisecond), st.killWindow.Round(time.Millisecond))
	for i := range rounds {
		if time.Now().After(deadline) {
			t.Errorf("folder soak stopped after %d of %d rounds: out of time (%v)", i, rounds, time.Since(begin).Round(time.Millisecond))
			break
		}
		ff.folderRound(t, rng, i, hits, versions, &st)
	}

	if fresh := st.fresh(ff.folderCheck(versions, ff.folders, true)); len(fresh) > 0 {
		st.discrepancies++
		t.Errorf("the final check over all %d folders broke the invariant:\n  %s", len(ff.folders), strings.Join(messages(fresh), "\n  "))
	}
	consumed := int64(-1)
	if s, err := ff.show(); err == nil {
		consumed = s.Consumed
	}
	elapsed := time.Since(begin)
	line := fmt.Sprintf("folder soak: rounds=%d no_fault=%d client=%d server=%d both=%d client_kills=%d server_kills=%d (%d mid-run) consumed=%d discrepancies=%d duration=%v per_round=%v seed=%d",
		st.rounds, st.modes["none"], st.modes["client"], st.modes["server"], st.modes["both"], st.clientKills, st.serverKills, st.serverKillsMidRun,
		consumed, st.discrepancies, elapsed.Round(time.Millisecond), (elapsed / time.Duration(max(st.rounds, 1))).Round(time.Millisecond), seed)
	t.Log(line)
	fmt.Println(line)
	t.Logf("folder soak: client kills by step %v; recover exits %v; %d recoveries left a stage beside the folder (cleared by the next update)", st.steps, st.recoverExits, st.stagesLeft)
	if st.discrepancies > 0 {
		t.Errorf("%d rounds broke the invariant (seed %d)", st.discrepancies, seed)
	}
}

// folderKillWindow installs a folder and times its whole update: the
// server-kill instants are drawn from a window a little longer than that.
// The folder counts like the rounds' (it is at 2.0.0, one consumed).
func (ff *folderFixture) folderKillWindow(t *testing.T, versions map[string]string, st *folderStats) time.Duration {
	dir := ff.newFolder()
	if p := ff.install(dir, ff.state); !p.exited(0) || p.status() != "installed" {
		t.Fatalf("the first install: want exit 0 and installed; got %s", p)
	}
	ff.customise(t, dir)
	begin := time.Now()
	if p := ff.updateFolder(dir, ff.state); !p.exited(0) || p.status() != "updated" {
		t.Fatalf("the timing update: want exit 0 and updated; got %s", p)
	}
	st.updateTime = time.Since(begin)
	if bad := ff.folderCheck(versions, []string{dir}, true); len(bad) > 0 || versions[dir] != "2.0.0" {
		t.Fatalf("the timing update (at %q):\n  %s", versions[dir], strings.Join(messages(bad), "\n  "))
	}
	return min(maxFolderKillDelay, st.updateTime*3/2)
}

// folderRound is one round of the folder soak.
func (ff *folderFixture) folderRound(t *testing.T, rng *rand.Rand, i int, hits map[string]int, versions map[string]string, st *folderStats) {
	t.Helper()
	st.rounds++
	mode := []string{"none", "client", "server", "both"}[rng.IntN(4)]
	st.modes[mode]++
	var step string
	count := 1
	if mode == "client" || mode == "both" {
		step = fault.FolderSteps[rng.IntN(len(fault.FolderSteps))]
		count = 1 + rng.IntN(hits[step])
	}
	delay := time.Duration(rng.Float64() * float64(st.killWindow))
	killServer := mode == "server" || mode == "both"

	dir := ff.newFolder()
	before, err := ff.showCode(ff.installCode)
	if err != nil {
		t.Fatal(err)
	}
	proBefore, err := ff.show()
	if err != nil {
		t.Fatal(err)
	}
	var bad []problem
	if p := ff.install(dir, ff.state); !p.exited(0) || p.status() != "installed" {
		t.Errorf("round %d: the install: want exit 0 and installed; got %s", i, p)
		st.discrepancies++
		return
	}
	after, _ := ff.showCode(ff.installCode)
	proAfter, _ := ff.show()
	if after != before || proAfter != proBefore {
		bad = append(bad, problem{"install-used", fmt.Sprintf("the install changed the counts: install code %v → %v, Pro code %v → %v", before, after, proBefore, proAfter)})
	}
	if v, ps := ff.folderVersion(dir); v != "1.0.0" || len(ps) > 0 {
		bad = append(bad, problem{"install-tree:" + dir, fmt.Sprintf("the fresh install of %s is at %q: %s", dir, v, strings.Join(messages(ps), "; "))})
	}
	ff.customise(t, dir)

	var what []string
	if step != "" {
		what = append(what, fmt.Sprintf("client killed at %s #%d", step, count))
	}
	c := ff.startFolderUpdate(dir, ff.state, step, count)
	ended := make(chan proc, 1)
	go func() { ended <- c.wait() }()
	if killServer {
		midRun, said := ff.killServerDuring(t, i, delay, ended)
		st.serverKills++
		if midRun {
			st.serverKillsMidRun++
		}
		what = append(what, said)
	}
	p := <-ended
	if len(what) == 0 {
		what = append(what, "no fault")
	}
	var first string
	switch {
	case p.timedOut || p.err != nil:
		t.Errorf("round %d (%s): %s", i, strings.Join(what, ", "), p)
		first = "hung or failed to run"
	case p.killed:
		if step == "" {
			t.Errorf("round %d: killed though no fault was armed: %s", i, p)
		}
		st.clientKills++
		st.steps[step]++
		first = "killed"
	default:
		first = fmt.Sprintf("exit %d %s", p.exit, p.status())
		if !p.exited(0) && !p.exited(3) && !p.exited(8) {
			bad = append(bad, problem{fmt.Sprintf("update-exit=%d", p.exit), fmt.Sprintf("want exit 0, 3 or 8 from the update; got %s", p)})
		}
		if step != "" && !killServer {
			bad = append(bad, problem{"not-killed:" + step, fmt.Sprintf("armed at %s #%d (of %d) but not killed: %s", step, count, hits[step], p)})
		}
	}

	// aktual recover alone, the server up: it settles everything.
	r := ff.recover(ff.state)
	st.recoverExits[r.exit]++
	if !r.exited(0) {
		bad = append(bad, problem{fmt.Sprintf("recover-exit=%d:%s", r.exit, step), fmt.Sprintf("want exit 0 from recover alone with the server up; got %s", r)})
	}
	if _, staged := workLeft(dir); staged > 0 {
		st.stagesLeft++
	}
	bad = append(bad, ff.folderCheck(versions, []string{dir}, false)...)
	afterRecover := versions[dir]

	settled := false
	var last proc
	for a := 0; a < settleAttempts && !settled; a++ {
		last = ff.updateFolder(dir, ff.state)
		if v, _ := ff.folderVersion(dir); last.exited(0) && v == "2.0.0" {
			settled = true
		} else if r := ff.recover(ff.state); !r.exited(0) {
			bad = append(bad, problem{fmt.Sprintf("recover-exit=%d:after-update", r.exit), fmt.Sprintf("recover after a failed update: %s", r)})
		}
	}
	bad = append(bad, ff.folderCheck(versions, []string{dir}, true)...)
	if !settled {
		bad = append(bad, problem{"unsettled:" + dir, fmt.Sprintf("%s is not 2.0.0 after %d updates; the last: %s", dir, settleAttempts, last)})
	}
	t.Logf("round %d: %s → %s; recover exit %d %v → %s; then %s", i, strings.Join(what, ", "), first, r.exit, r.statuses(), afterRecover, last.status())
	if fresh := st.fresh(bad); len(fresh) > 0 {
		st.discrepancies++
		slices.SortStableFunc(fresh, func(a, b problem) int { return strings.Compare(a.key, b.key) })
		t.Errorf("round %d (%s → %s) broke the invariant:\n  %s", i, strings.Join(what, ", "), first, strings.Join(messages(fresh), "\n  "))
	}
}
