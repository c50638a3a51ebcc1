package report

import (
	"strings"
	"testing"
)

const bigRaw = `
bigdb.pg.customers 1000000
bigdb.pg.ledger 20000000
bigdb.pg.queries 300
bigdb.pg.name.p50_ms 3
bigdb.pg.name.p99_ms 20
bigdb.pg.vat.p99_ms 12
bigdb.pg.code.p99_ms 2
bigdb.pg.serial.p99_ms 75
bigdb.pg.page.p99_ms 9
bigdb.pg.audit.wall 42
bigdb.pg.audit.rss_kib 30720
bigdb.pg.audit_empty.rss_kib 28672
bigdb.pg.db_bytes 6442450944
bigdb.pg.backup.wall 60
bigdb.pg.backup.bytes 1073741824
bigdb.pg.restore.wall 120
bigdb.pg.rc.tps 900 950
bigdb.pg.rc_empty.tps 1000 1000
bigdb.sqlite.customers 100000
bigdb.sqlite.ledger 2000000
bigdb.sqlite.name.p99_ms 120
`

func TestBigDBRows(t *testing.T) {
	res, err := Parse(strings.NewReader(bigRaw))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Row{}
	for _, r := range BigDBRows(res) {
		byID[r.ID] = r
	}
	for _, c := range []struct{ id, ours, ratio, result string }{
		{"7a", "20.0 ms (3.00 ms)", "—", Met},
		{"7d", "75.0 ms", "—", Missed},
		{"7e", "9.00 ms", "—", Met},
		{"7f", "42.0 s", "—", Met},
		{"7g", "30.0 MiB", "1.07×", Met},
		{"7h", "backup 60.0 s, restore 120.0 s; database 6.00 GiB, backup 1.00 GiB", "—", Info},
		{"7i", "925/s", "0.93×", Met}, // the median; paired: 0.90 and 0.95
		{"8a", "120.0 ms", "—", Info}, // SQLite is held to nothing
		{"8f", "n/a", "—", NotMeasured},
	} {
		r, ok := byID[c.id]
		if !ok {
			t.Errorf("no row %s", c.id)
			continue
		}
		if r.Ours != c.ours || r.Ratio != c.ratio || r.Result != c.result {
			t.Errorf("row %s = %q, %q, %q; want %q, %q, %q", c.id, r.Ours, r.Ratio, r.Result, c.ours, c.ratio, c.result)
		}
	}
	if _, ok := byID["8i"]; ok {
		t.Error("SQLite has a load row; only PostgreSQL is measured under load")
	}
}
