package report

import "fmt"

// The installer's targets of issue 21, for aktual as released
// (-trimpath -ldflags "-s -w", CGO off).
const (
	targetStartupMs = 2.5        // aktual version, mean
	targetSizeBytes = 12_000_000 // the file, 12 MB
)

// installerRows are row 4 (start-up) and 4b (the file's size).
func installerRows(r Results) []Row {
	return []Row{startupRow(r), sizeRow(r)}
}

func startupRow(r Results) Row {
	row := Row{ID: "4", Measure: "`aktual version` start-up, mean (min)", Reference: "—", Ratio: "—",
		Target: fmt.Sprintf("≤ %.1f ms", targetStartupMs)}
	if how := r.Note("startup.how.note"); how != "" {
		row.Measure += ", " + how
	}
	mean, ok := r.Median("startup.mean_ms")
	if !ok {
		notMeasured(&row)
		return row
	}
	row.Ours = millis(mean)
	if m, ok := r.Median("startup.min_ms"); ok {
		row.Ours += " (" + millis(m) + ")"
	}
	// The floor: a Go program that only prints, on the same machine.
	if ref, ok := r.Median("startup.ref.mean_ms"); ok && ref > 0 {
		row.Reference = millis(ref) + " (a Go program printing one line)"
		row.Ratio = fmt.Sprintf("%.1f×", mean/ref)
	}
	row.Result = verdict(mean <= targetStartupMs)
	return row
}

// sizeRow is the size of aktual as released, beside the same floor.
func sizeRow(r Results) Row {
	row := Row{ID: "4b", Measure: "`aktual` as released (-trimpath, -s -w): the file's size; by module below the table",
		Reference: "—", Ratio: "—", Target: fmt.Sprintf("≤ %.0f MB", targetSizeBytes/1e6)}
	size, ok := r.Median("size.bytes")
	if !ok {
		notMeasured(&row)
		return row
	}
	row.Ours = fmt.Sprintf("%.2f MB", size/1e6)
	if ref, ok := r.Median("size.ref.bytes"); ok && ref > 0 {
		row.Reference = fmt.Sprintf("%.2f MB (a Go program printing one line)", ref/1e6)
		row.Ratio = fmt.Sprintf("%.1f×", size/ref)
	}
	row.Result = verdict(size <= targetSizeBytes)
	return row
}
