package updater

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/updater/internal/fetch"
	"github.com/aktual/aktual/updater/internal/swap"
)

// harness is a real reference server (SQLite, keys, blobs) on loopback
// with two published versions of a product, and a target at 1.0.0.
type harness struct {
	t      *testing.T
	inst   *datadir.Instance
	admin  *admin.Admin
	ts     *httptest.Server
	wrap   func(http.Handler) http.Handler
	target string
	prod   string // product updated; default product
	v1, v2 []byte
	code   string
	events []Event
	u      *Updater
}

const product = "ledger"

func artifact(version string) []byte {
	return bytes.Repeat([]byte("ledger "+version+"\n"), 20000)
}

func newHarness(t *testing.T, updates int64) *harness {
	t.Helper()
	h := &harness{t: t, prod: product, v1: artifact("1.0.0"), v2: artifact("2.0.0")}
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	h.inst, h.admin = inst, admin.New(inst)
	ctx := t.Context()
	h.publish(product, api.SeriesPro, "1.0.0", h.v1)
	h.publish(product, api.SeriesPro, "2.0.0", h.v2)
	act, err := h.admin.ActivatePro(ctx, "Acme", updates)
	if err != nil {
		t.Fatal(err)
	}
	h.code = act.Code
	handler := server.New(inst, "test", nil).Handler()
	h.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.wrap != nil {
			h.wrap(handler).ServeHTTP(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(h.ts.Close)
	h.target = filepath.Join(t.TempDir(), "ledger")
	if err := os.WriteFile(h.target, h.v1, 0o755); err != nil {
		t.Fatal(err)
	}
	h.u = &Updater{
		Server:    h.ts.URL,
		OS:        "linux",
		Arch:      "amd64",
		Trust:     inst.Keys.Trust(),
		StateDir:  t.TempDir(),
		MachineID: func() (string, error) { return "m_test", nil },
		Events:    func(e Event) { h.events = append(h.events, e) },
	}
	return h
}

func (h *harness) publish(product, series, version string, data []byte) {
	h.t.Helper()
	if _, err := h.admin.Publish(h.t.Context(), admin.PublishParams{Product: product, Series: series, Version: version,
		OS: "linux", Arch: "amd64", File: bytes.NewReader(data)}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) update(code string) (*Result, error) {
	return h.u.Update(h.t.Context(), Request{
		CheckRequest: CheckRequest{Product: h.prod, Target: h.target},
		Credential: func(context.Context, *Plan) (api.Credential, error) {
			return api.Credential{Code: code}, nil
		},
	})
}

// counts returns the code's standing on the server.
func (h *harness) counts() admin.Standing {
	h.t.Helper()
	st, err := h.admin.ShowCode(context.Background(), h.code)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// expect checks the target's contents and the server's counts, and that
// the ledger audit is clean.
func (h *harness) expect(target []byte, remaining, held, consumed int64) {
	h.t.Helper()
	got, err := os.ReadFile(h.target)
	if err != nil {
		h.t.Fatalf("target: %v", err)
	}
	if !bytes.Equal(got, target) {
		h.t.Errorf("target holds %q…, want %q…", got[:12], target[:12])
	}
	st := h.counts()
	if st.Remaining != remaining || st.Held != held || st.Consumed != consumed {
		h.t.Errorf("counts remaining/held/consumed = %d/%d/%d, want %d/%d/%d",
			st.Remaining, st.Held, st.Consumed, remaining, held, consumed)
	}
	rep, err := h.admin.Audit(context.Background())
	if err != nil || !rep.OK() {
		h.t.Errorf("audit: %+v %v", rep.Violations, err)
	}
	// No staging debris beside the target; a download only when kept
	// whole for the next run.
	if fileExists(swap.StagedPath(h.target)) {
		h.t.Errorf("left behind %s", filepath.Base(swap.StagedPath(h.target)))
	}
	if fileExists(fetch.DownloadPath(h.target)) && !keptWhole(h.target) {
		h.t.Errorf("left behind %s, not a whole verified download", filepath.Base(fetch.DownloadPath(h.target)))
	}
}

// keptWhole reports whether beside target is a verified download kept
// for the next run: the whole file, with the sidecar that names it. A run
// that fails before the install (a refused code, no updates left, a cut
// line at the reserve, Ctrl-C) keeps it, so that it is not downloaded again.
func keptWhole(target string) bool {
	got, err := fileutil.SHA256(fetch.DownloadPath(target))
	fi, serr := os.Stat(fetch.DownloadPath(target))
	return err == nil && serr == nil && fetch.SidecarOf(target, got, fi.Size())
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %v", err, kind)
	}
}
