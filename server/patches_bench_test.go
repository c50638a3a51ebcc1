package server_test

import (
	"os"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/patches"
)

// BenchmarkPublishPatch publishes the file AKTUAL_DELTA_OLD, then
// AKTUAL_DELTA_NEW as the next version, which computes the bsdiff patch
// between them as aktuald release publish does; it reports the patch's
// size and its share of the new file. Two builds of aktual with a small
// change are the case docs/delta.md reports. Peak memory: run the test
// binary under /usr/bin/time -v (see docs/delta.md).
func BenchmarkPublishPatch(b *testing.B) {
	oldPath, newPath := os.Getenv("AKTUAL_DELTA_OLD"), os.Getenv("AKTUAL_DELTA_NEW")
	if oldPath == "" || newPath == "" {
		b.Skip("set AKTUAL_DELTA_OLD and AKTUAL_DELTA_NEW to two files (e.g. two builds of aktual)")
	}
	needBzip2(b)
	b.ReportAllocs()
	var last patches.Result
	for b.Loop() {
		b.StopTimer()
		inst, err := datadir.Open(datadir.DataDir(b.TempDir()), "")
		if err != nil {
			b.Fatal(err)
		}
		adm := admin.New(inst)
		adm.Patches = patches.Policy{MaxSize: 1 << 30}
		publishFile(b, adm, "1.0.0", oldPath, nil)
		b.StartTimer()
		var got []patches.Result
		publishFile(b, adm, "1.0.1", newPath, func(r patches.Result) { got = append(got, r) })
		b.StopTimer()
		inst.Close()
		if len(got) != 1 || got[0].Error != "" {
			b.Fatalf("patches: %+v", got)
		}
		last = got[0]
		b.StartTimer()
	}
	b.ReportMetric(float64(last.Size), "patch-bytes")
	b.ReportMetric(float64(last.FullSize), "full-bytes")
	b.ReportMetric(100*float64(last.Size)/float64(last.FullSize), "patch-%")
	if last.Skipped != "" {
		b.Logf("no patch stored: %s", last.Skipped)
	}
}

func publishFile(b *testing.B, adm *admin.Admin, version, path string, onPatch func(patches.Result)) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := adm.Publish(b.Context(), admin.PublishParams{Product: "bench", Series: api.SeriesPro, Version: version,
		OS: "linux", Arch: "amd64", File: f, OnPatch: onPatch}); err != nil {
		b.Fatal(err)
	}
}
