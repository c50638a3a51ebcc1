package aktual_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/pgtest"
)

// replicaWorld is a vendor's server beyond one machine: releases 1.0.0 and
// 2.0.0 of ledger, one Pro customer, and a cluster of aktuald replicas on
// one database (db: "" for the data folder's SQLite file, shared by the
// replicas; or a postgres:// URL).
type replicaWorld struct {
	t       *testing.T
	dir     string
	data    string
	db      string
	code    string
	v1, v2  []byte
	cluster *cluster
	logs    *syncBuffer
}

// aktuald runs an aktuald command on the world's data and database and
// returns its standard output.
func (w *replicaWorld) aktuald(args ...string) string {
	w.t.Helper()
	full := append([]string{"--data", w.data}, args...)
	if w.db != "" {
		full = append([]string{"--db", w.db}, full...)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command("aktuald", full...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("aktuald %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func newReplicaWorld(t *testing.T, db string, updates, replicas int) *replicaWorld {
	return newReplicaWorldServe(t, db, updates, replicas, nil)
}

// newReplicaWorldServe is newReplicaWorld with serve's own flags for
// replica i.
func newReplicaWorldServe(t *testing.T, db string, updates, replicas int, serveArgs func(i int) []string) *replicaWorld {
	t.Helper()
	w := &replicaWorld{t: t, dir: t.TempDir(), db: db, logs: &syncBuffer{},
		v1: bytes.Repeat([]byte("ledger 1.0.0\n"), 4096), v2: bytes.Repeat([]byte("ledger 2.0.0\n"), 4096)}
	w.data = filepath.Join(w.dir, "srv")
	for v, b := range map[string][]byte{"1.0.0": w.v1, "2.0.0": w.v2} {
		f := filepath.Join(w.dir, v+".bin")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		w.aktuald("release", "publish", "--product", "ledger", "--series", "pro", "--version", v, "--file", f)
	}
	var act struct{ Code string }
	if err := json.Unmarshal([]byte(w.aktuald("--json", "admin", "activate", "--customer", "Acme", "--series", "pro", "--updates", fmt.Sprint(updates))), &act); err != nil || act.Code == "" {
		t.Fatalf("activate: %v", err)
	}
	w.code = act.Code
	var env []string
	if db != "" {
		env = append(env, "AKTUALD_DB="+db)
	}
	c, err := startClusterServe(w.dir, w.data, replicas, env, w.dbArgs(), serveArgs, w.logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, w.logs)
	}
	w.cluster = c
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("replicas' logs:\n%s", w.logs)
		}
	})
	return w
}

func (w *replicaWorld) dbArgs() []string {
	if w.db == "" {
		return nil
	}
	return []string{"--db", w.db}
}

// update runs one `aktual update` of its own copy of ledger 1.0.0 and
// returns the exit code and its output (JSON events, then any message).
func (w *replicaWorld) update(name string) (int, string) {
	target := filepath.Join(w.dir, name, "ledger")
	os.MkdirAll(filepath.Dir(target), 0o755)
	if err := os.WriteFile(target, w.v1, 0o755); err != nil {
		w.t.Fatal(err)
	}
	var errOut syncBuffer
	cmd := exec.Command("aktual", "update", "--server", w.cluster.URL, "--trust", filepath.Join(w.data, "trust.json"),
		"--product", "ledger", "--target", target, "--code", w.code, "--yes", "--json",
		"--state-dir", filepath.Join(w.dir, name, "state"))
	cmd.Stdout, cmd.Stderr = &errOut, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, errOut.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), errOut.String()
	}
	w.t.Fatalf("aktual update: %v", err)
	return -1, ""
}

// standing is what `aktuald admin show --code` says.
func (w *replicaWorld) standing() (purchased, remaining, held, consumed int64) {
	var st struct{ Purchased, Remaining, Held, Consumed int64 }
	if err := json.Unmarshal([]byte(w.aktuald("--json", "admin", "show", "--code", w.code)), &st); err != nil {
		w.t.Fatal(err)
	}
	return st.Purchased, st.Remaining, st.Held, st.Consumed
}

func (w *replicaWorld) requireAudit() {
	w.t.Helper()
	if out := w.aktuald("admin", "audit"); !strings.Contains(out, "Audit passed") {
		w.t.Fatalf("audit: %s", out)
	}
}

// storeKinds are the databases the replica tests run on: the embedded
// SQLite file shared by replicas on one machine, and PostgreSQL.
func storeKinds(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": postgresDB,
	}
}

// Many customers' installers race through two replicas for k updates:
// exactly k are updated, the rest are told none remain, and the ledger
// agrees.
func TestReplicasRaceForUpdates(t *testing.T) {
	const updates, clients = 5, 12
	for kind, db := range storeKinds(t) {
		t.Run(kind, func(t *testing.T) {
			w := newReplicaWorld(t, db(t), updates, 2)
			start := time.Now()
			exits := make([]int, clients)
			stderrs := make([]string, clients)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					exits[i], stderrs[i] = w.update(fmt.Sprintf("client-%02d", i))
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			got := map[int]int{}
			for i, code := range exits {
				got[code]++
				if code != 0 && code != 5 {
					t.Errorf("client %d exited %d:\n%s", i, code, stderrs[i])
				}
			}
			if got[0] != updates || got[5] != clients-updates {
				t.Errorf("exits %v; want %d updated (0) and %d told none remain (5)", got, updates, clients-updates)
			}
			if p, r, h, c := w.standing(); p != updates || r != 0 || h != 0 || c != updates {
				t.Errorf("standing purchased %d remaining %d held %d consumed %d; want %d, 0, 0, %d", p, r, h, c, updates, updates)
			}
			w.requireAudit()
			served := w.cluster.LB.Served()
			if served[0] == 0 || served[1] == 0 {
				t.Errorf("the balancer sent requests %v: both replicas should have served", served)
			}
			t.Logf("%s: %d installers, %d updates, two replicas: %v; requests served per replica %v", kind, clients, updates, elapsed.Round(time.Millisecond), served)
		})
	}
}

// A replica is killed in the middle of a reserve or a complete: before
// the request reaches it (the balancer moves the request), while it works
// (a race: the client may or may not get 502), or after it did the work
// but before its answer left (the client gets 502, sends the request
// again, and the other replica answers from the idempotency key). The
// update finishes in one run and uses exactly one paid update.
func TestReplicaKilledMidRequest(t *testing.T) {
	for kind, db := range storeKinds(t) {
		for _, step := range []string{"reserve", "complete"} {
			for _, when := range []string{"before it arrives", "while it works", "after the work, before the answer"} {
				t.Run(kind+"/"+step+"/"+when, func(t *testing.T) {
					w := newReplicaWorld(t, db(t), 3, 2)
					var fired atomic.Bool
					var killed sync.WaitGroup
					matches := func(r *http.Request) bool {
						return r.Method == "POST" && (step == "reserve" && r.URL.Path == "/v1/reservations" ||
							step == "complete" && strings.HasSuffix(r.URL.Path, "/complete"))
					}
					w.cluster.LB.OnForward = func(replica int, r *http.Request) {
						if when == "after the work, before the answer" || !matches(r) || !fired.CompareAndSwap(false, true) {
							return
						}
						if when == "before it arrives" {
							w.cluster.Kill(replica)
							return
						}
						killed.Add(1)
						go func() {
							defer killed.Done()
							time.Sleep(time.Millisecond)
							w.cluster.Kill(replica)
						}()
					}
					w.cluster.LB.OnAnswer = func(replica int, r *http.Request, _ *http.Response) bool {
						if when != "after the work, before the answer" || !matches(r) || !fired.CompareAndSwap(false, true) {
							return false
						}
						w.cluster.Kill(replica)
						return true
					}
					code, out := w.update("app")
					killed.Wait()
					if !fired.Load() {
						t.Fatal("no request was cut")
					}
					if code != 0 {
						t.Fatalf("update exited %d:\n%s", code, out)
					}
					if when == "after the work, before the answer" && !strings.Contains(out, "sending it again") {
						t.Errorf("no notice of the repeated %s:\n%s", step, out)
					}
					if got, _ := os.ReadFile(filepath.Join(w.dir, "app", "ledger")); !bytes.Equal(got, w.v2) {
						t.Error("the target does not hold 2.0.0")
					}
					if p, r, h, c := w.standing(); p != 3 || r != 2 || h != 0 || c != 1 {
						t.Errorf("standing purchased %d remaining %d held %d consumed %d; want 3, 2, 0, 1", p, r, h, c)
					}
					w.requireAudit()
				})
			}
		}
	}
}

// postgresDB returns a fresh PostgreSQL database for one test (see
// internal/pgtest: the server AKTUAL_TEST_POSTGRES names, or a throwaway
// one; without either the test is skipped, or fails where CI requires it).
func postgresDB(t *testing.T) string { return pgtest.URL(t) }
