package updater

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

// BenchmarkFolderUpdate is bench/run's figure 6 in process, for a
// profile: a program folder of 300 files and 200 MiB (4 large libraries,
// 16 medium files, the rest small, in nested folders), of which 5 files
// (4.5 MiB) change; each iteration installs 1.0.0 into a new folder with
// a new code (not timed) and times the update to 2.0.0. The server runs in
// the same process, so a CPU profile shows both sides.
//
//	go test -run '^$' -bench FolderUpdate -benchtime 20x -cpuprofile cpu.prof ./updater
//	go tool pprof -top -cum updater.test cpu.prof
func BenchmarkFolderUpdate(b *testing.B) {
	base := b.TempDir()
	inst, err := datadir.Open(datadir.DataDir(filepath.Join(base, "srv")), "")
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Close()
	adm := admin.New(inst)
	v1, v2 := filepath.Join(base, "v1"), filepath.Join(base, "v2")
	benchFolders(b, v1, v2)
	publish := func(version, dir string) {
		p := admin.FolderParams{
			PublishParams: admin.PublishParams{Product: "fold", Series: api.SeriesPro, Version: version, OS: "linux", Arch: "amd64"},
			Dir:           dir, Preserve: []string{"data/**"}, Main: "Bench.exe",
		}
		if _, _, err := adm.PublishFolder(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
	publish("1.0.0", v1)
	// 2.0.0 is published an hour from now: every code activated below
	// (now) installs 1.0.0.
	adm.Now = func() time.Time { return time.Now().Add(time.Hour) }
	publish("2.0.0", v2)
	adm.Now = time.Now
	ts := httptest.NewServer(server.New(inst, "bench", nil).Handler())
	defer ts.Close()

	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		act, err := adm.ActivatePro(b.Context(), fmt.Sprintf("bench %d", i), 1)
		if err != nil {
			b.Fatal(err)
		}
		cred := api.Credential{Code: act.Code}
		run := filepath.Join(base, fmt.Sprint("run", i))
		dir := filepath.Join(run, "app")
		u := &Updater{Server: ts.URL, OS: "linux", Arch: "amd64", Trust: inst.Keys.Trust(),
			StateDir: filepath.Join(run, "state"), MachineID: func() (string, error) { return "m_bench", nil }}
		if _, _, err := u.Install(b.Context(), InstallRequest{Product: "fold", Dir: dir,
			Credential: func(context.Context) (api.Credential, error) { return cred, nil }}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := u.Update(b.Context(), Request{CheckRequest: CheckRequest{Product: "fold", Target: dir},
			Credential: func(context.Context, *Plan) (api.Credential, error) { return cred, nil }})
		b.StopTimer()
		if err != nil || res.Status != StatusUpdated {
			b.Fatalf("update: %+v %v", res, err)
		}
		os.RemoveAll(run)
	}
}

// benchFolders writes the two versions: v2 is v1 with five files given
// new bytes, the rest hard links to v1's.
func benchFolders(b *testing.B, v1, v2 string) {
	const mib = 1 << 20
	type file struct {
		path    string
		size    int64
		changed bool
	}
	files := []file{
		{"Bench.exe", 2560 << 10, true}, {"lib/core.dll", 1280 << 10, true},
		{"plugins/reports/reports.dll", 512 << 10, true}, {"lang/bg/bench.qm", 160 << 10, true},
		{"templates/invoice.rpt", 96 << 10, true},
	}
	for i, s := range []int64{40, 28, 20, 14} {
		files = append(files, file{path: fmt.Sprintf("lib/runtime%02d.dll", i+1), size: s * mib})
	}
	for i := range 16 {
		files = append(files, file{path: fmt.Sprintf("lib/module%03d.dll", i+1), size: 2 * mib})
	}
	for i := 0; len(files) < 300; i++ {
		files = append(files, file{path: fmt.Sprintf("share/d%02d/sub/f%04d.dat", i%25, i), size: 200 << 10})
	}
	rng := rand.NewChaCha8([32]byte{17})
	write := func(path string, size int64) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, size)
		rng.Read(buf)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range files {
		p1, p2 := filepath.Join(v1, filepath.FromSlash(f.path)), filepath.Join(v2, filepath.FromSlash(f.path))
		write(p1, f.size)
		if f.changed {
			write(p2, f.size)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p2), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.Link(p1, p2); err != nil {
			b.Fatal(err)
		}
	}
}
