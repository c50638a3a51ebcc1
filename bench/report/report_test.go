package report

import (
	"strings"
	"testing"
)

const raw = `# a full run
update.small.bytes 268435456
update.small.aktual.wall 2.0 2.2 2.1
update.small.curl.wall 1.0 1.0 1.0
update.small.aktual.rss_kib 20480 20480 20480
update.small.curl.rss_kib 4096
update.large.bytes 1073741824
update.large.aktual.wall 4.0 4.0 4.0
update.large.curl.wall 5.0 5.0 5.0
update.large.aktual.rss_kib 40960 40960 40960
latest.duration_s 10
latest.aktuald.rps 80000
latest.nginx.rps 100000
latest.aktuald.p99_ms 3
latest.nginx.p99_ms 1.5
latest_nonce.aktuald.rps 60000
latest_nonce.aktuald.p99_ms 2.8
rc.clients 32
rc.duration_s 10
rc.sqlite.tps 400
rc.postgres.tps 1200
rc.postgres.p99_ms 80
pgbench.tps 2000
startup.mean_ms 4.5
startup.min_ms 3.9
startup.ref.mean_ms 1.5
size.bytes 11886754
size.ref.bytes 1500000
patch.bytes 102400
patch.full_bytes 20971520
patch_code.bytes 4194304
patch_code.full_bytes 20971520
`

func TestRows(t *testing.T) {
	res, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Row{}
	for _, r := range Rows(res) {
		byID[r.ID] = r
	}
	for _, c := range []struct {
		id, ours, ratio, result string
	}{
		{"1a", "2.10 s", "2.10×", Missed},
		{"1a'", "20.0 MiB", "5.0×", Info},
		{"1b", "4.00 s", "0.80×", Met},
		{"1b'", "40.0 MiB", "—", Missed}, // no reference RSS: no ratio, still judged
		{"2a", "80000/s", "0.80×", Met},
		{"2b", "3.00 ms", "2.00×", Info},
		{"2c", "60000/s (p99 2.80 ms)", "0.60× (p99 1.9×)", Missed},
		{"2d", "n/a", "—", NotMeasured},
		{"3a", "400/s", "0.20×", Missed},
		{"3b", "1200/s (p99 80.0 ms)", "0.60×", Met},
		{"3c", "n/a", "—", NotMeasured},
		{"4", "4.50 ms (3.90 ms)", "3.0×", Missed},
		{"4b", "11.89 MB", "7.9×", Met},
		{"5a", "100.0 KiB", "0.49%", Met},
		{"5b", "4096.0 KiB", "20.0%", Info}, // no target: not judged
	} {
		t.Run(c.id, func(t *testing.T) {
			r, ok := byID[c.id]
			if !ok {
				t.Fatalf("no row %s", c.id)
			}
			if r.Ours != c.ours || r.Ratio != c.ratio || r.Result != c.result {
				t.Errorf("ours %q ratio %q result %q, want %q %q %q", r.Ours, r.Ratio, r.Result, c.ours, c.ratio, c.result)
			}
		})
	}
}

func TestPatchNote(t *testing.T) {
	res, err := Parse(strings.NewReader("patch.note n/a (delta updates not built)\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := patchRows(res)[0]
	if r.Ours != "n/a (delta updates not built)" || r.Result != "n/a" {
		t.Errorf("patch row %+v", r)
	}
}

func TestMedian(t *testing.T) {
	res, err := Parse(strings.NewReader("a 3 1 2\nb 4 1\nb 3 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{"a": 2, "b": 2.5} {
		if got, ok := res.Median(key); !ok || got != want {
			t.Errorf("Median(%s) = %v, %v; want %v", key, got, ok, want)
		}
	}
	if _, ok := res.Median("c"); ok {
		t.Error("Median of a missing key is ok")
	}
}

func TestPairedRatio(t *testing.T) {
	res, err := Parse(strings.NewReader("a 1 4 9\nb 2 1 2\nc 1 1\nz 0 1 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a, b string
		want float64
		ok   bool
	}{
		{"a", "b", 4, true},   // pairs 0.5, 4, 4.5: their median, not 4/2
		{"a", "c", 4, true},   // unequal runs: the medians' ratio
		{"a", "z", 0, false},  // a zero in a pair
		{"a", "no", 0, false}, // no figures
	} {
		got, ok := res.PairedRatio(c.a, c.b)
		if got != c.want || ok != c.ok {
			t.Errorf("PairedRatio(%s, %s) = %v, %v; want %v, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestParseRefusesText(t *testing.T) {
	if _, err := Parse(strings.NewReader("update.small.aktual.wall 1.0 fast\n")); err == nil {
		t.Error("a word among the numbers was taken")
	}
}

func TestSizeLabel(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1 << 30: "1 GiB", 1000: "1000 bytes"} {
		if got := SizeLabel(n); got != want {
			t.Errorf("SizeLabel(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMarkdownEscapesPipes(t *testing.T) {
	var b strings.Builder
	if err := Markdown(&b, []Row{{ID: "x", Measure: "a | b"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `a \| b`) {
		t.Errorf("pipe not escaped:\n%s", b.String())
	}
}

// Figure 6: the share downloaded, the paired ratio against the reference
// copy, and the growth of the peak RSS with the folder.
func TestFolderRows(t *testing.T) {
	raw := `folder.files 300
folder.bytes 209715200
folder.changed_bytes 4718592
folder.changed_files 5
folder.download_bytes 4768009 4768009 4768009
folder.download_requests 6 6 6
folder.aktual.wall 0.070 0.080 0.060
folder.copy_sync.wall 0.030 0.030 0.030
folder.copy.wall 0.020 0.020 0.020
folder.aktual.rss_kib 15000 15200 15100
folder3.files 900
folder3.bytes 629145600
folder3.aktual.rss_kib 17000 17500 17400
folder3.aktual.wall 0.1 0.1 0.1
folder3.download_bytes 4868009 4868009 4868009
folder.phase.startup 0.007 0.007 0.007
folder.phase.download 0.027 0.027 0.027
`
	res, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rows := FolderRows(res)
	want := map[string][2]string{
		"6a": {"2.3%", Met},
		"6b": {"2.3×", Missed},
		"6c": {"1.15×", Met},
		"6d": {"1.43× the 6b time", Info},
		"6e": {"—", Info},
	}
	for _, r := range rows {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("unexpected row %s", r.ID)
			continue
		}
		if r.Ratio != w[0] || r.Result != w[1] {
			t.Errorf("row %s: ratio %q result %q, want %q %q (%+v)", r.ID, r.Ratio, r.Result, w[0], w[1], r)
		}
	}
	if got := rows[1].Ours; got != "70.0 ms" {
		t.Errorf("6b ours %q", got)
	}
	if got := rows[4].Ours; got != "start-up 7, download 27" {
		t.Errorf("6e %q", got)
	}
	// No figures: every row says so.
	for _, r := range FolderRows(Results{}) {
		if r.Result != NotMeasured {
			t.Errorf("row %s without figures: %q", r.ID, r.Result)
		}
	}
}
