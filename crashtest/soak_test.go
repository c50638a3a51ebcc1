package crashtest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/fault"
)

const (
	defaultSoakRounds = 20
	// soakBudget bounds the whole soak; it stops early, failing, beyond.
	soakBudget = 20 * time.Minute
	// maxServerKillDelay: the server is killed at a random instant up to
	// this long after the client started; less when a whole update takes
	// less on this machine (see killWindow).
	maxServerKillDelay = 60 * time.Millisecond
	// settleAttempts bounds the recover-and-update runs that must bring a
	// round's target to 2.0.0 once the server is up.
	settleAttempts = 5
)

// soakStats are the soak's figures.
type soakStats struct {
	rounds, clientKills, serverKills, discrepancies int
	serverKillsMidRun                               int             // server kills that found the client still running
	killWindow                                      time.Duration   // the server-kill delays are drawn from [0, killWindow)
	seen                                            map[string]bool // problem keys already reported
}

// TestSoak runs rounds (AKTUAL_SOAK_ROUNDS, default 20) of an update on a
// fresh target, each at random (AKTUAL_SOAK_SEED replays a run) with no
// fault, the client killed at one of its steps, the server killed at a
// random instant, or both; then recovers and updates until the target is
// 2.0.0, and checks the invariant after every round.
func TestSoak(t *testing.T) {
	rounds := defaultSoakRounds
	if s := os.Getenv("AKTUAL_SOAK_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("AKTUAL_SOAK_ROUNDS=%q: want a positive number", s)
		}
		rounds = n
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("AKTUAL_SOAK_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("AKTUAL_SOAK_SEED=%q: want an integer", s)
		}
		seed = n
	}
	t.Logf("soak: %d rounds, seed %d (replay with AKTUAL_SOAK_SEED=%d)", rounds, seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	begin := time.Now()
	deadline := begin.Add(soakBudget)
	if d, ok := t.Deadline(); ok && d.Add(-30*time.Second).Before(deadline) {
		deadline = d.Add(-30 * time.Second) // leave time to report
	}
	f := newFixture(t, rounds+5)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	st := soakStats{killWindow: f.killWindow(t)}
	t.Logf("soak: server kills at 0–%v after the client starts (timed by one more update, counted in applied and consumed)", st.killWindow.Round(time.Microsecond))
	for i := range rounds {
		if time.Now().After(deadline) {
			t.Errorf("soak stopped after %d of %d rounds: out of time (%v)", i, rounds, time.Since(begin).Round(time.Millisecond))
			break
		}
		f.soakRound(t, rng, i, &st)
	}

	// Every target once more: no round may have damaged an earlier one.
	if fresh := st.fresh(f.check(f.targets)); len(fresh) > 0 {
		st.discrepancies++
		t.Errorf("the final check over all %d targets broke the invariant:\n  %s", len(f.targets), strings.Join(messages(fresh), "\n  "))
	}

	consumed := int64(-1)
	if s, err := f.show(); err != nil {
		t.Error(err)
	} else {
		consumed = s.Consumed
	}
	line := fmt.Sprintf("soak: rounds=%d client_kills=%d server_kills=%d applied=%d consumed=%d discrepancies=%d duration=%v",
		st.rounds, st.clientKills, st.serverKills, f.applied(), consumed, st.discrepancies, time.Since(begin).Round(time.Millisecond))
	t.Log(line)
	fmt.Println(line)
	t.Logf("soak: %d of the %d server kills found the client still running", st.serverKillsMidRun, st.serverKills)
	if st.discrepancies > 0 {
		t.Errorf("%d rounds broke the invariant (seed %d)", st.discrepancies, seed)
	}
}

// killWindow times one whole update on this machine (on a target of its
// own, which the checks count like the others): a server kill drawn from a
// window much longer than that would mostly land after the client is done.
func (f *fixture) killWindow(t *testing.T) time.Duration {
	target := f.newTarget(t)
	begin := time.Now()
	if p := f.update(target, f.state, ""); !p.exited(0) || p.status() != "updated" {
		t.Fatalf("the timing update: want exit 0 and updated; got %s", p)
	}
	return min(maxServerKillDelay, time.Since(begin)*3/2)
}

// soakRound is one round: a fresh target, the update with its faults, then
// recovery until the target is 2.0.0, then the invariant.
func (f *fixture) soakRound(t *testing.T, rng *rand.Rand, i int, st *soakStats) {
	t.Helper()
	st.rounds++
	var step string
	if rng.IntN(2) == 1 {
		step = fault.ClientSteps[rng.IntN(len(fault.ClientSteps))]
	}
	killServer := rng.IntN(2) == 1
	// A fraction, not a duration, from the seed: a replay on a faster or
	// slower machine kills at the same point of its own window.
	delay := time.Duration(rng.Float64() * float64(st.killWindow))
	target := f.newTarget(t)

	var what []string
	if step != "" {
		what = append(what, "client fault "+step)
	}
	c := f.startUpdate(target, f.state, step)
	ended := make(chan proc, 1)
	go func() { ended <- c.wait() }()
	if killServer {
		midRun, said := f.killServerDuring(t, i, delay, ended)
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
		first = "killed at " + step
	default:
		first = fmt.Sprintf("exit %d %s", p.exit, p.status())
		if !p.exited(0) && !p.exited(3) && !p.exited(8) {
			t.Errorf("round %d (%s): want exit 0, 3 or 8 from the update; got %s", i, strings.Join(what, ", "), p)
		}
	}

	settled := false
	var last proc
	for a := 0; a < settleAttempts && !settled; a++ {
		// The server is up: recover alone settles every journal, an
		// unanswered reserve too (by its key), so it exits 0.
		if r := f.recover(f.state); !r.exited(0) {
			t.Errorf("round %d: want exit 0 from recover; got %s", i, r)
		}
		last = f.update(target, f.state, "")
		settled = last.exited(0) && f.isNew(target)
	}
	bad := f.check([]string{target})
	if !settled {
		bad = append(bad, problem{"unsettled:" + target,
			fmt.Sprintf("the target is not 2.0.0 after %d recover-and-update attempts; the last: %s", settleAttempts, last)})
	}
	t.Logf("round %d: %s → %s; then %s", i, strings.Join(what, ", "), first, last.status())
	if fresh := st.fresh(bad); len(fresh) > 0 {
		st.discrepancies++
		t.Errorf("round %d (%s → %s) broke the invariant:\n  %s", i, strings.Join(what, ", "), first, strings.Join(messages(fresh), "\n  "))
	}
}

// fresh returns the problems not reported before, and remembers them: a
// unit lost or a file left in one round is one discrepancy, not one in
// every later round.
func (st *soakStats) fresh(ps []problem) []problem {
	if st.seen == nil {
		st.seen = map[string]bool{}
	}
	var out []problem
	for _, p := range ps {
		if !st.seen[p.key] {
			st.seen[p.key] = true
			out = append(out, p)
		}
	}
	return out
}

// killServerDuring kills the server delay after the round's client
// started (ended receives the client when it ends), starts it again, and
// says whether the kill found the client still running, and how.
func (f *fixture) killServerDuring(t *testing.T, round int, delay time.Duration, ended chan proc) (midRun bool, said string) {
	t.Helper()
	time.Sleep(delay)
	midRun = len(ended) == 0
	f.killServer()
	when := "after the client ended"
	if midRun {
		when = "while the client ran"
	}
	if err := f.startServer(""); err != nil {
		t.Fatalf("round %d: restarting the server: %v", round, err)
	}
	return midRun, fmt.Sprintf("server killed after %v %s", delay.Round(time.Microsecond), when)
}
