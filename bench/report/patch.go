package report

import "fmt"

// Issue 21's target for making a delta patch: the server's memory at
// most this many times the file's size.
const targetPatchMemory = 4.0

// patchMemoryRow is row 5c: the peak RSS of the publish that makes 5b's
// patch (aktuald, /usr/bin/time -v), against the new file's size.
func patchMemoryRow(r Results) Row {
	row := Row{ID: "5c", Measure: "memory of making 5b's patch: peak RSS of aktuald release publish / the file's size",
		Target: fmt.Sprintf("≤ %.0f×", targetPatchMemory)}
	kb, ok1 := r.Median("patch_code.publish_rss_kb")
	full, ok2 := r.Median("patch_code.full_bytes")
	if !ok1 || !ok2 || full <= 0 {
		notMeasured(&row)
		return row
	}
	rss := kb * 1024
	row.Ours = mibs(rss)
	row.Reference = fmt.Sprintf("%.1f MiB (the file)", full/mib)
	row.Ratio = fmt.Sprintf("%.1f×", rss/full)
	row.Result = verdict(rss/full <= targetPatchMemory)
	return row
}

// patchZstdRow is row 5d: 5b's patch beside zstd --patch-from's of the
// same pair (the CLI at its strongest setting), the reference the issue
// names.
func patchZstdRow(r Results) Row {
	row := Row{ID: "5d", Measure: "delta patch size, 5b's pair: ours (bsdiff) / zstd --ultra -19 --long --patch-from",
		Target: "— (reference)"}
	ours, ok1 := r.Median("patch_code.bytes")
	z, ok2 := r.Median("patch_zstd.bytes")
	if !ok1 || !ok2 || z <= 0 {
		notMeasured(&row)
		return row
	}
	row.Ours = fmt.Sprintf("%.1f KiB", ours/1024)
	row.Reference = fmt.Sprintf("%.1f KiB (zstd", z/1024)
	if s, ok := r.Median("patch_zstd.seconds"); ok {
		row.Reference += fmt.Sprintf(", %.1f s", s)
	}
	if kb, ok := r.Median("patch_zstd.rss_kb"); ok {
		row.Reference += ", peak RSS " + mibs(kb*1024)
	}
	row.Reference += ")"
	row.Ratio = fmt.Sprintf("%.2f×", ours/z)
	row.Result = Info
	return row
}
