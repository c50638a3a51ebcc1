package report

import (
	"fmt"
	"strings"
)

// folderRows are figure 6: a program folder's update (issue 17).
func folderRows(r Results) []Row {
	files, _ := r.Median("folder.files")
	size, _ := r.Median("folder.bytes")
	changed, _ := r.Median("folder.changed_bytes")
	nChanged, _ := r.Median("folder.changed_files")
	what := fmt.Sprintf("program folder, %.0f files, %s, %.0f files changed (%s, %s)",
		files, SizeLabel(int64(size)), nChanged, mibs(changed), percent(changed/max(size, 1)))
	if n := r.Note("folder.changed.note"); n != "" {
		what += ": " + n
	}
	n := r.Count("folder.aktual.wall")

	dl := Row{ID: "6a", Measure: "`aktual update`, " + what + ": bytes downloaded (aktuald's request log, median of " + fmt.Sprint(n) + ")",
		Target: "≤ " + percent(targetFolderShare)}
	got, ok := r.Median("folder.download_bytes")
	if ok && size > 0 {
		dl.Ours = mibs(got)
		if req, ok := r.Median("folder.download_requests"); ok {
			dl.Ours += fmt.Sprintf(" in %.0f requests", req)
		}
		dl.Reference = mibs(size) + " (the whole folder)"
		dl.Ratio = percent(got / size)
		dl.Result = verdict(got/size <= targetFolderShare)
	} else {
		notMeasured(&dl)
	}

	wall := Row{ID: "6b", Measure: fmt.Sprintf("`aktual update`, the same folder: wall time (median of %d)", n),
		Target: fmt.Sprintf("≤ %.1f×", targetFolderRatio)}
	ours, ok1 := r.Median("folder.aktual.wall")
	ref, ok2 := r.Median("folder.copy_sync.wall")
	if ok1 && ok2 && ref > 0 {
		wall.Ours = shortTime(ours)
		wall.Reference = shortTime(ref) + fmt.Sprintf(" (cp + sha256sum + sync of the %.0f changed files", nChanged)
		if plain, ok := r.Median("folder.copy.wall"); ok {
			wall.Reference += "; without sync " + shortTime(plain)
		}
		wall.Reference += ")"
		ratio, _ := r.PairedRatio("folder.aktual.wall", "folder.copy_sync.wall")
		wall.Ratio = fmt.Sprintf("%.1f×", ratio)
		wall.Result = verdict(ratio <= targetFolderRatio)
	} else {
		notMeasured(&wall)
	}

	rss, big := folderScaleRows(r, files, size, nChanged, ours)
	return []Row{dl, wall, rss, big, folderPhaseRow(r)}
}

// folderScaleRows are 6c and 6d: the same update at 3× the folder.
func folderScaleRows(r Results, files, size, nChanged, ours float64) (Row, Row) {
	files3, _ := r.Median("folder3.files")
	size3, _ := r.Median("folder3.bytes")
	rss := Row{ID: "6c", Measure: fmt.Sprintf("`aktual update`: peak RSS (median), %.0f files, %s → %.0f files, %s (the same %.0f files changed)",
		files, SizeLabel(int64(size)), files3, SizeLabel(int64(size3)), nChanged),
		Reference: "—", Target: fmt.Sprintf("flat: ≤ %.2f× at %.0f× the folder", targetFolderRSSGrowth, size3/max(size, 1))}
	a, ok1 := r.Median("folder.aktual.rss_kib")
	b, ok2 := r.Median("folder3.aktual.rss_kib")
	if ok1 && ok2 && a > 0 {
		rss.Ours = fmt.Sprintf("%.1f MiB → %.1f MiB", a/1024, b/1024)
		rss.Ratio = fmt.Sprintf("%.2f×", b/a)
		rss.Result = verdict(b/a <= targetFolderRSSGrowth)
	} else {
		notMeasured(&rss)
	}

	big := Row{ID: "6d", Measure: fmt.Sprintf("`aktual update`, %.0f files, %s: wall time (median), bytes downloaded", files3, SizeLabel(int64(size3))),
		Reference: "—", Ratio: "—", Target: "—", Result: Info}
	w3, ok1 := r.Median("folder3.aktual.wall")
	d3, ok2 := r.Median("folder3.download_bytes")
	if ok1 && ok2 && size3 > 0 {
		big.Ours = fmt.Sprintf("%s, %s (%s)", shortTime(w3), mibs(d3), percent(d3/size3))
		if ok1 && ours > 0 {
			big.Ratio = fmt.Sprintf("%.2f× the 6b time", w3/ours)
		}
	} else {
		notMeasured(&big)
		big.Result = NotMeasured
	}

	return rss, big
}

// folderPhaseRow is 6e: where the update's time goes.
func folderPhaseRow(r Results) Row {
	ph := Row{ID: "6e", Measure: "where 6b's time goes: phase to phase of `aktual update --json` (median ms)",
		Reference: "—", Ratio: "—", Target: "—", Result: Info}
	var parts []string
	for _, p := range folderPhases {
		if v, ok := r.Median("folder.phase." + p.key); ok {
			parts = append(parts, fmt.Sprintf("%s %.0f", p.label, v*1000))
		}
	}
	if len(parts) > 0 {
		ph.Ours = strings.Join(parts, ", ")
	} else {
		notMeasured(&ph)
		ph.Result = NotMeasured
	}
	return ph
}
