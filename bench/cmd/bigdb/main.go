// Command bigdb fills an aktuald database with a million customers for
// issue 21's benchmark (bench/run --only bigdb; docs/benchmarks.md): the
// customers with realistic Bulgarian names and VAT numbers, a 25-digit
// update code each, hardware keys, and a history of reservations and
// ledger rows whose counts agree, so that aktuald admin audit passes on it.
//
//	bigdb --data DIR [--db URL] [--customers N] [--hwkeys N] [--ledger N] [--seed N] [--sample FILE]
//
// The data folder must have been made by aktuald init (the keyed hash of
// each code needs its code secret); --db is the database, as aktuald takes
// it (postgres://…, or none for the folder's SQLite file), and must hold
// no entitlements yet. PostgreSQL is filled through COPY and INSERT …
// SELECT generate_series, SQLite through prepared inserts in large
// transactions. The same seed and sizes give the same database. --sample
// writes some generated customers (name, VAT number, code, serial), a tab
// between fields, for the benchmark's queries. The run's steps and times go
// to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aktual/aktual/server/datadir"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

type options struct {
	data, db, sample string
	sizes            Sizes
	seed             uint64
	sampleSize       int
}

func run(args []string, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("bigdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "the aktuald data folder (made by aktuald init)")
	fs.StringVar(&o.db, "db", "", "the database: postgres://… (none: the data folder's SQLite file)")
	fs.IntVar(&o.sizes.Customers, "customers", 1_000_000, "customers, each with an update code")
	fs.IntVar(&o.sizes.HWKeys, "hwkeys", 200_000, "hardware keys, spread over the customers")
	fs.IntVar(&o.sizes.Ledger, "ledger", 20_000_000, "ledger rows in all")
	fs.Uint64Var(&o.seed, "seed", 21, "the seed: the same seed and sizes give the same database")
	fs.StringVar(&o.sample, "sample", "", "write some generated customers to this file (name, VAT, code, serial)")
	fs.IntVar(&o.sampleSize, "sample-size", 2000, "customers in --sample")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s := o.sizes
	if o.data == "" || s.Customers < 1 || s.HWKeys < 0 || s.Ledger < s.Customers+s.HWKeys {
		fmt.Fprintln(stderr, "bigdb: --data is needed, at least one customer, and at least one ledger row per entitlement (customers + hwkeys)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := fill(ctx, o, stderr); err != nil {
		fmt.Fprintln(stderr, "bigdb:", err)
		return 1
	}
	return 0
}

func fill(ctx context.Context, o options, stderr io.Writer) error {
	t0 := time.Now()
	// Opening the folder makes or migrates the schema and reads the keys.
	in, err := datadir.Open(datadir.DataDir(o.data), o.db)
	if err != nil {
		return err
	}
	secret := in.Keys.CodeSecret
	if err := in.Close(); err != nil {
		return err
	}
	g := newGen(o.seed, o.sizes, secret, func(format string, args ...any) {
		fmt.Fprintf(stderr, "bigdb: "+format+"\n", args...)
	})
	g.logf("%d customers, %d hardware keys, %d ledger rows, seed %d", o.sizes.Customers, o.sizes.HWKeys, o.sizes.Ledger, o.seed)
	if strings.HasPrefix(o.db, "postgres://") || strings.HasPrefix(o.db, "postgresql://") {
		err = fillPostgres(ctx, g, o.db)
	} else {
		path, _ := datadir.DataDir(o.data).SQLitePath(o.db)
		err = fillSQLite(ctx, g, path)
	}
	if err != nil {
		return err
	}
	if o.sample != "" {
		if err := writeSample(g, o.sample, o.sampleSize); err != nil {
			return err
		}
	}
	g.logf("done in %.1f s", time.Since(t0).Seconds())
	return nil
}

// writeSample writes n customers spread over all, one a line: name, VAT
// number, code, and the serial of a hardware key (one in five has one).
func writeSample(g *gen, path string, n int) error {
	var b strings.Builder
	n = min(n, g.sizes.Customers)
	serials := map[int]string{}
	for k := range g.sizes.HWKeys {
		serials[keyOwner(k, g.sizes.Customers)] = serialAt(k)
	}
	for j := range n {
		i := int(uint64(j) * uint64(g.sizes.Customers) / uint64(n))
		c := g.customer(i)
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", c.Name, c.VAT, c.Code, serials[i])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
