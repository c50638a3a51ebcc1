package report

import (
	"fmt"
)

// The targets of issue 21, on PostgreSQL with a million customers.
const (
	targetSearchP99Ms   = 50.0 // each kind of staff search, p99
	targetPageP99Ms     = 50.0 // a customer page with its history, p99
	targetAuditS        = 60.0 // aktuald admin audit of the whole database
	targetAuditRSSRatio = 1.25 // "memory flat": peak RSS ≤ this × an empty database's audit
	targetBigRCRatio    = 0.8  // reserve+complete ≥ 0.8× the empty database's
)

// BigDBRows are figure 7's rows alone (bench/run --only bigdb).
func BigDBRows(r Results) []Row {
	return append(bigdbRows(r, "7", "bigdb.pg", "PostgreSQL", true), bigdbRows(r, "8", "bigdb.sqlite", "SQLite", false)...)
}

// searchKinds are the staff searches measured, in the table's order.
var searchKinds = []struct{ key, what string }{
	{"name", "a fragment of a name (4–7 letters of one of its words)"},
	{"vat", "a fragment of a VAT number (5–8 digits)"},
	{"code", "a code: its last group, or the whole code"},
	{"serial", "a hardware key's serial, or 4–7 of its digits"},
}

// bigdbRows are one database's rows (figure 7: PostgreSQL, held to issue
// 21's targets; figure 8: SQLite at a tenth of the size, for information).
func bigdbRows(r Results, id, key, db string, held bool) []Row {
	cust, _ := r.Median(key + ".customers")
	ledger, _ := r.Median(key + ".ledger")
	size := fmt.Sprintf("%s, %s customers, %s ledger rows", db, count(cust), count(ledger))
	queries, _ := r.Median(key + ".queries")
	var rows []Row
	target := func(t string) string {
		if held {
			return t
		}
		return "— (" + t + " on PostgreSQL)"
	}
	for i, k := range searchKinds {
		row := Row{ID: fmt.Sprintf("%s%c", id, 'a'+i), Measure: fmt.Sprintf("staff search by %s, %s: p99 of %.0f (p50)", k.what, size, queries),
			Reference: "—", Ratio: "—", Target: target(fmt.Sprintf("≤ %.0f ms", targetSearchP99Ms))}
		rows = append(rows, latencyRow(r, row, key+"."+k.key, targetSearchP99Ms, held))
	}
	page := Row{ID: id + "e", Measure: fmt.Sprintf("customer page with its history (200 rows a page, half the time the next page too), %s: p99 of %.0f (p50)", size, queries),
		Reference: "—", Ratio: "—", Target: target(fmt.Sprintf("≤ %.0f ms", targetPageP99Ms))}
	rows = append(rows, latencyRow(r, page, key+".page", targetPageP99Ms, held))
	rows = append(rows, auditRows(r, id, key, size, held, target)...)
	rows = append(rows, backupRow(r, id+"h", key, db))
	if held {
		rows = append(rows, bigRCRow(r, id+"i", key))
	}
	return rows
}

// latencyRow fills row from KEY.p99_ms and KEY.p50_ms.
func latencyRow(r Results, row Row, key string, target float64, held bool) Row {
	p99, ok := r.Median(key + ".p99_ms")
	if !ok {
		notMeasured(&row)
		return row
	}
	row.Ours = millis(p99)
	if p50, ok := r.Median(key + ".p50_ms"); ok {
		row.Ours += " (" + millis(p50) + ")"
	}
	row.Result = Info
	if held {
		row.Result = verdict(p99 <= target)
	}
	return row
}

func auditRows(r Results, id, key, size string, held bool, target func(string) string) []Row {
	wall := Row{ID: id + "f", Measure: "`aktuald admin audit` of the whole database, " + size + ": wall time",
		Reference: "—", Ratio: "—", Target: target(fmt.Sprintf("≤ %.0f s", targetAuditS))}
	if s, ok := r.Median(key + ".audit.wall"); ok {
		wall.Ours, wall.Result = seconds(s), Info
		if held {
			wall.Result = verdict(s <= targetAuditS)
		}
	} else {
		notMeasured(&wall)
	}
	rss := Row{ID: id + "g", Measure: "`aktuald admin audit`: peak RSS, " + size + " vs an empty database",
		Target: target(fmt.Sprintf("flat: ≤ %.2f×", targetAuditRSSRatio))}
	big, ok1 := r.Median(key + ".audit.rss_kib")
	small, ok2 := r.Median(key + ".audit_empty.rss_kib")
	if ok1 && ok2 && small > 0 {
		rss.Ours = fmt.Sprintf("%.1f MiB", big/1024)
		rss.Reference = fmt.Sprintf("%.1f MiB (empty database)", small/1024)
		rss.Ratio = fmt.Sprintf("%.2f×", big/small)
		rss.Result = Info
		if held {
			rss.Result = verdict(big/small <= targetAuditRSSRatio)
		}
	} else {
		notMeasured(&rss)
	}
	return []Row{wall, rss}
}

// backupRow is the backup and restore, as docs/operations.md has
// operators make them (pg_dump/pg_restore; aktuald admin backup/restore).
func backupRow(r Results, id, key, db string) Row {
	how := "pg_dump --format=custom, pg_restore into a new database"
	if db == "SQLite" {
		how = "aktuald admin backup, aktuald admin restore"
	}
	row := Row{ID: id, Measure: "backup and restore (" + how + "): time each; the database's size and the backup's",
		Reference: "—", Ratio: "—", Target: "— (measured)", Result: Info}
	b, ok1 := r.Median(key + ".backup.wall")
	rs, ok2 := r.Median(key + ".restore.wall")
	dbBytes, ok3 := r.Median(key + ".db_bytes")
	bb, ok4 := r.Median(key + ".backup.bytes")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		notMeasured(&row)
		return row
	}
	row.Ours = fmt.Sprintf("backup %s, restore %s; database %s, backup %s", seconds(b), seconds(rs), gibs(dbBytes), gibs(bb))
	return row
}

func bigRCRow(r Results, id, key string) Row {
	row := Row{ID: id, Measure: "reserve+complete transactions/s, 32 clients, a code each, on the big database vs an empty one",
		Target: fmt.Sprintf("≥ %.1f×", targetBigRCRatio)}
	big, ok1 := r.Median(key + ".rc.tps")
	empty, ok2 := r.Median(key + ".rc_empty.tps")
	if !ok1 || !ok2 || empty <= 0 {
		notMeasured(&row)
		return row
	}
	row.Ours = perSecond(big)
	if p, ok := r.Median(key + ".rc.p99_ms"); ok {
		row.Ours += " (p99 " + millis(p) + ")"
	}
	row.Reference = perSecond(empty) + " (the same, empty database)"
	ratio, _ := r.PairedRatio(key+".rc.tps", key+".rc_empty.tps")
	row.Ratio = fmt.Sprintf("%.2f×", ratio)
	row.Result = verdict(ratio >= targetBigRCRatio)
	return row
}

// count writes a count of rows: 1,000,000 as "1 M", 100,000 as "100 k".
func count(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%g M", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%g k", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// gibs writes a size in GiB, or MiB below one.
func gibs(n float64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.0f MiB", n/mib)
	}
	return fmt.Sprintf("%.2f GiB", n/(1<<30))
}
