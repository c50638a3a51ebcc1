// Package report turns the raw figures bench/run collects into the table
// of docs/benchmarks.md: each measure with our figure, the reference
// tool's, their ratio, the target issue 8 sets and whether it is met. It
// is pure (text in, rows out), so the table's arithmetic is tested apart
// from the tools that produce the figures.
//
// The raw figures are lines of "key value…": numbers, one per run (a
// median is taken), or, for keys ending in ".note", free text.
//
//	update.large.bytes 1073741824
//	update.large.aktual.wall 7.91 8.02 7.88
//	patch.note n/a (delta updates not built)
package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Results are the raw figures by key.
type Results struct {
	nums  map[string][]float64
	notes map[string]string
}

// Parse reads raw figures. Blank lines and lines starting with # are
// skipped; a key given twice collects the values of both lines.
func Parse(r io.Reader) (Results, error) {
	res := Results{nums: map[string][]float64{}, notes: map[string]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if strings.HasSuffix(key, ".note") {
			res.notes[key] = rest
			continue
		}
		for _, f := range strings.Fields(rest) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return Results{}, fmt.Errorf("line %d: %s: %q is not a number", n, key, f)
			}
			res.nums[key] = append(res.nums[key], v)
		}
	}
	return res, sc.Err()
}

// Median is the median of key's values, and whether there are any.
func (r Results) Median(key string) (float64, bool) {
	vs := r.nums[key]
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// PairedRatio is the median of a's values over b's, run by run, when both
// have the same number of runs (they were measured in turn, so a drift of
// the machine's speed falls on both sides of each pair); otherwise the
// ratio of their medians. ok is false without figures or with b at 0.
func (r Results) PairedRatio(a, b string) (ratio float64, ok bool) {
	as, bs := r.nums[a], r.nums[b]
	if len(as) > 0 && len(as) == len(bs) {
		ratios := Results{nums: map[string][]float64{}}
		for i := range as {
			if bs[i] <= 0 {
				return 0, false
			}
			ratios.nums["r"] = append(ratios.nums["r"], as[i]/bs[i])
		}
		return ratios.Median("r")
	}
	ma, ok1 := r.Median(a)
	mb, ok2 := r.Median(b)
	if !ok1 || !ok2 || mb <= 0 {
		return 0, false
	}
	return ma / mb, true
}

// Count is how many values key has (the runs a median is taken over).
func (r Results) Count(key string) int { return len(r.nums[key]) }

// Note is key's text ("" when none).
func (r Results) Note(key string) string { return r.notes[key] }

// Row is one line of the table.
type Row struct {
	ID, Measure, Ours, Reference, Ratio, Target, Result string
}

// Results of a row.
const (
	Met         = "met"
	Missed      = "**missed**"
	Info        = "info"
	NotMeasured = "not measured"
)

// The targets of issue 8.
const (
	targetUpdateRatio  = 1.0  // aktual update ≤ 1.0× curl + sha256sum
	targetRSSMiB       = 32.0 // peak RSS for a 1 GiB artifact
	targetLatestRatio  = 0.7  // ≥ 0.7× nginx's requests/s
	targetReserveRatio = 0.5  // ≥ 0.5× pgbench -N tps
	targetPatchShare   = 0.15 // patch ≤ 15% of the full artifact
)

// The targets of issue 17, for a program folder of 300 files and 200 MiB
// in which 5 files change.
const (
	targetFolderShare = 0.03 // bytes downloaded ≤ 3% of the folder
	targetFolderRatio = 1.5  // update ≤ 1.5× copying + hashing the changed files
	// "Memory flat in the folder's size": peak RSS at 3× the folder at most
	// this many times the peak RSS at 1× (a manifest of 900 files is about
	// 150 KiB; anything that grows with the folder shows far above it).
	targetFolderRSSGrowth = 1.25
)

const mib = 1 << 20

// FolderRows are figure 6's rows alone (bench/run --only folder).
func FolderRows(r Results) []Row { return folderRows(r) }

// ReserveRows are rows 3a–3c alone (bench/run --only pg).
func ReserveRows(r Results) []Row { return reserveRows(r) }

// Rows computes the table from the raw figures. A figure that is missing
// leaves its row "not measured" rather than dropping it, so a broken step
// shows.
func Rows(r Results) []Row {
	var rows []Row
	rows = append(rows, updateRows(r, "1a", "small")...)
	rows = append(rows, updateRows(r, "1b", "large")...)
	rows = append(rows, latestRows(r)...)
	rows = append(rows, reserveRows(r)...)
	rows = append(rows, installerRows(r)...)
	rows = append(rows, patchRows(r)...)
	rows = append(rows, folderRows(r)...)
	rows = append(rows, BigDBRows(r)...)
	return rows
}

func updateRows(r Results, id, size string) []Row {
	bytes, _ := r.Median("update." + size + ".bytes")
	label := SizeLabel(int64(bytes))
	n := r.Count("update." + size + ".aktual.wall")
	wall := Row{ID: id, Measure: fmt.Sprintf("`aktual update`, %s: wall time (median of %d)", label, n),
		Target: fmt.Sprintf("≤ %.1f×", targetUpdateRatio)}
	ours, ok1 := r.Median("update." + size + ".aktual.wall")
	ref, ok2 := r.Median("update." + size + ".curl.wall")
	if ok1 && ok2 && ref > 0 {
		wall.Ours = seconds(ours)
		wall.Reference = seconds(ref) + " (curl -o + sha256sum"
		if alone, ok := r.Median("update." + size + ".curl_only.wall"); ok {
			wall.Reference += "; curl alone " + seconds(alone)
		}
		wall.Reference += ")"
		ratio, _ := r.PairedRatio("update."+size+".aktual.wall", "update."+size+".curl.wall")
		wall.Ratio = fmt.Sprintf("%.2f×", ratio)
		wall.Result = verdict(ratio <= targetUpdateRatio)
	} else {
		notMeasured(&wall)
	}

	rss := Row{ID: id + "'", Measure: fmt.Sprintf("`aktual update`, %s: peak RSS (median)", label)}
	ours, ok1 = r.Median("update." + size + ".aktual.rss_kib")
	ref, ok2 = r.Median("update." + size + ".curl.rss_kib")
	if size == "large" {
		rss.Target = fmt.Sprintf("≤ %.0f MiB", targetRSSMiB)
		if int64(bytes) != 1<<30 {
			rss.Target += " (at 1 GiB)"
		}
	} else {
		rss.Target = "— (must not grow with size)"
	}
	if ok1 {
		rss.Ours = fmt.Sprintf("%.1f MiB", ours/1024)
		rss.Reference, rss.Ratio = "—", "—"
		if ok2 && ref > 0 {
			rss.Reference = fmt.Sprintf("%.1f MiB (curl, sha256sum)", ref/1024)
			rss.Ratio = fmt.Sprintf("%.1f×", ours/ref)
		}
		rss.Result = Info
		if size == "large" {
			rss.Result = verdict(ours/1024 <= targetRSSMiB)
		}
	} else {
		notMeasured(&rss)
	}
	return []Row{wall, rss}
}

func latestRows(r Results) []Row {
	d, _ := r.Median("latest.duration_s")
	how := fmt.Sprintf("wrk -t2 -c64 -d%.0fs", d)
	if n := r.Count("latest.aktuald.rps"); n > 1 {
		how += fmt.Sprintf(", median of %d", n)
	}
	rps := Row{ID: "2a", Measure: "\"latest\" requests/s (" + how + ")", Target: fmt.Sprintf("≥ %.1f×", targetLatestRatio)}
	ours, ok1 := r.Median("latest.aktuald.rps")
	ref, ok2 := r.Median("latest.nginx.rps")
	if ok1 && ok2 && ref > 0 {
		rps.Ours = perSecond(ours)
		rps.Reference = perSecond(ref) + " (nginx, static file)"
		ratio, _ := r.PairedRatio("latest.aktuald.rps", "latest.nginx.rps")
		rps.Ratio = fmt.Sprintf("%.2f×", ratio)
		rps.Result = verdict(ratio >= targetLatestRatio)
	} else {
		notMeasured(&rps)
	}

	p99 := Row{ID: "2b", Measure: "\"latest\" p99 latency (" + how + ")", Target: "—"}
	ours, ok1 = r.Median("latest.aktuald.p99_ms")
	ref, ok2 = r.Median("latest.nginx.p99_ms")
	if ok1 && ok2 && ref > 0 {
		p99.Ours = millis(ours)
		p99.Reference = millis(ref) + " (nginx)"
		ratio, _ := r.PairedRatio("latest.aktuald.p99_ms", "latest.nginx.p99_ms")
		p99.Ratio = fmt.Sprintf("%.2f×", ratio)
		p99.Result = Info
	} else {
		notMeasured(&p99)
	}

	return append([]Row{rps, p99}, nonceRows(r)...)
}

func reserveRows(r Results) []Row {
	clients, _ := r.Median("rc.clients")
	d, _ := r.Median("rc.duration_s")
	ref, okRef := r.Median("pgbench.tps")
	refText := ""
	if okRef {
		refText = perSecond(ref) + fmt.Sprintf(" (pgbench -N -c %.0f -j 2 -T %.0f)", clients, d)
	}
	var rows []Row
	for _, c := range []struct{ id, key, what, target string }{
		{"3a", "rc.sqlite", "SQLite", fmt.Sprintf("≥ %.1f×", targetReserveRatio)},
		{"3b", "rc.postgres", "PostgreSQL", fmt.Sprintf("≥ %.1f×", targetReserveRatio)},
		{"3c", "rc.postgres_hot", "PostgreSQL, all clients on one code (one hot row)", "— (not in the issue)"},
	} {
		row := Row{ID: c.id, Measure: fmt.Sprintf("reserve+complete transactions/s, %.0f clients, %s", clients, c.what), Target: c.target}
		tps, ok := r.Median(c.key + ".tps")
		if !ok || !okRef || ref <= 0 {
			notMeasured(&row)
			rows = append(rows, row)
			continue
		}
		row.Ours = perSecond(tps)
		if p, ok := r.Median(c.key + ".p99_ms"); ok {
			row.Ours += " (p99 " + millis(p) + ")"
		}
		row.Reference = refText
		row.Ratio = fmt.Sprintf("%.2f×", tps/ref)
		if strings.HasPrefix(c.target, "—") {
			row.Result = Info
		} else {
			row.Result = verdict(tps/ref >= targetReserveRatio)
		}
		rows = append(rows, row)
	}
	return rows
}

func patchRows(r Results) []Row {
	code := patchRow(r, "patch_code", Row{ID: "5b", Target: "— (not in the issue)",
		Measure: "delta patch size / full size: aktual before → after a small code change (" + r.Note("patch_code.what.note") + ")"})
	if code.Result == Met || code.Result == Missed {
		code.Result = Info
	}
	return []Row{
		patchRow(r, "patch", Row{ID: "5a", Target: fmt.Sprintf("≤ %.0f%%", targetPatchShare*100),
			Measure: "delta patch size / full size: aktual 1.0.0 → 1.0.1 (only -X Version differs)"}),
		code,
		patchMemoryRow(r), // patch.go
		patchZstdRow(r),
	}
}

// patchRow fills row from key's figures: KEY.bytes, KEY.full_bytes, and
// the notes KEY.how.note (how it was made) or KEY.note (why there is none).
func patchRow(r Results, key string, row Row) Row {
	if how := r.Note(key + ".how.note"); how != "" {
		row.Measure += ", " + how
	}
	size, ok1 := r.Median(key + ".bytes")
	full, ok2 := r.Median(key + ".full_bytes")
	if !ok1 || !ok2 || full <= 0 {
		notMeasured(&row)
		if n := r.Note(key + ".note"); n != "" {
			row.Ours = n
			row.Result = "n/a"
		}
		return row
	}
	row.Ours = fmt.Sprintf("%.1f KiB", size/1024)
	row.Reference = fmt.Sprintf("%.1f MiB (full binary)", full/mib)
	row.Ratio = percent(size / full)
	row.Result = verdict(size/full <= targetPatchShare)
	return row
}

// folderPhases are the phase events of aktual update --json, in order,
// with what the time from each to the next covers.
var folderPhases = []struct{ key, label string }{
	{"startup", "start-up"},
	{"check", "check (latest, manifest, plan)"},
	{"download", "download"},
	{"verify", "stage + in-use scan"},
	{"reserve", "reserve"},
	{"apply", "switch"},
	{"complete", "report"},
	{"result", "exit"},
}

// shortTime writes seconds as milliseconds below a second.
func shortTime(s float64) string {
	if s < 1 {
		return millis(s * 1000)
	}
	return seconds(s)
}

// mibs writes a size in MiB with two decimals.
func mibs(n float64) string { return fmt.Sprintf("%.2f MiB", n/mib) }

// percent writes a share with two significant digits below 1%.
func percent(share float64) string {
	if p := 100 * share; p < 1 {
		return strconv.FormatFloat(p, 'g', 2, 64) + "%"
	}
	return fmt.Sprintf("%.1f%%", 100*share)
}

func notMeasured(row *Row) {
	row.Ours, row.Reference, row.Ratio, row.Result = "n/a", "n/a", "—", NotMeasured
}

func verdict(ok bool) string {
	if ok {
		return Met
	}
	return Missed
}

// SizeLabel writes a size in bytes as MiB or GiB when it is a whole number
// of them.
func SizeLabel(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

func seconds(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}

func millis(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.0f µs", ms*1000)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	default:
		return fmt.Sprintf("%.1f ms", ms)
	}
}

// perSecond writes a rate, rounded to a whole number.
func perSecond(v float64) string { return fmt.Sprintf("%.0f/s", v) }

// Markdown writes rows as a Markdown table.
func Markdown(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| # | measure | aktual | reference | ratio | target | result |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		cells := []string{r.ID, r.Measure, r.Ours, r.Reference, r.Ratio, r.Target, r.Result}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
