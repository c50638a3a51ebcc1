// Command bigquery measures the staff operations issue 21 bounds on a big
// database (bench/cmd/bigdb fills it): the customer search by a fragment
// of a name, of a VAT number, by a code (its last group or the whole
// code), by a fragment of a hardware key's serial, and the customer page
// with its history, each as the console and admin API run it (admin.Admin
// over the data folder's store, as the shell's admin), --n times with
// fragments drawn from bigdb's --sample file.
//
//	bigquery --data DIR [--db URL] --sample FILE [--n N] [--seed N] [--prefix KEY] [--explain]
//
// It prints raw figures for bench/run, one a line: PREFIX.KIND.p50_ms,
// PREFIX.KIND.p99_ms and PREFIX.KIND.rows (the mean customers or history
// rows a query returned), KIND being name, vat, code, serial or page.
// --explain prints instead, on PostgreSQL, EXPLAIN ANALYZE of one query of
// each kind as the store runs it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	data, db, sample, prefix string
	n                        int
	seed                     uint64
	explain                  bool
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("bigquery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "the aktuald data folder")
	fs.StringVar(&o.db, "db", "", "the database (none: the folder's SQLite file)")
	fs.StringVar(&o.sample, "sample", "", "bigdb's --sample file")
	fs.IntVar(&o.n, "n", 300, "queries of each kind")
	fs.Uint64Var(&o.seed, "seed", 8, "the seed of the fragments")
	fs.StringVar(&o.prefix, "prefix", "bigdb", "the figures' key prefix")
	fs.BoolVar(&o.explain, "explain", false, "print the plans of one query of each kind (PostgreSQL) instead")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.data == "" || o.sample == "" || o.n < 1 {
		fmt.Fprintln(stderr, "bigquery: --data and --sample are needed, and --n of at least 1")
		return 2
	}
	do := measure
	if o.explain {
		do = func(ctx context.Context, o options, stdout, _ io.Writer) error { return explain(ctx, o, stdout) }
	}
	if err := do(context.Background(), o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "bigquery:", err)
		return 1
	}
	return 0
}

// sampled is one line of bigdb's sample.
type sampled struct{ name, vat, code, serial string }

func readSample(path string) ([]sampled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read only
	var out []sampled
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) == 4 {
			out = append(out, sampled{p[0], p[1], p[2], p[3]})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no customers", path)
	}
	return out, sc.Err()
}

func measure(ctx context.Context, o options, stdout, stderr io.Writer) error {
	sample, err := readSample(o.sample)
	if err != nil {
		return err
	}
	in, err := datadir.Open(datadir.DataDir(o.data), o.db)
	if err != nil {
		return err
	}
	defer in.Close() //nolint:errcheck // read only
	a := admin.New(in)
	who := admin.Local("bench")
	r := rand.New(rand.NewPCG(o.seed, 21))
	search := func(text string) (int, error) {
		p, err := a.Search(ctx, who, text, "", 0)
		return len(p.Customers), err
	}
	kinds := []struct {
		name string
		run  func() (int, error)
	}{
		{"name", func() (int, error) { return search(nameFragment(r, pickOne(r, sample).name)) }},
		{"vat", func() (int, error) { return search(fragment(r, pickOne(r, sample).vat[2:], 5, 8)) }},
		{"code", func() (int, error) {
			c := pickOne(r, sample).code
			if r.IntN(2) == 0 {
				return search(c[len(c)-5:]) // the last group, as a customer reads it out
			}
			return search(c)
		}},
		{"serial", func() (int, error) { return search(serialFragment(r, sample)) }},
		{"page", func() (int, error) { return customerPage(ctx, a, who, pickOne(r, sample).name, r) }},
	}
	for _, k := range kinds {
		if err := timeKind(o, k.name, k.run, stdout, stderr); err != nil {
			return err
		}
	}
	return nil
}

// customerPage reads a customer's page, and half the time its next page
// of history too (the "older entries" link), timing both as one.
func customerPage(ctx context.Context, a *admin.Admin, who admin.Caller, name string, r *rand.Rand) (int, error) {
	d, err := a.Customer(ctx, who, name)
	if err != nil || d.HistoryNext == 0 || r.IntN(2) == 0 {
		return len(d.History), err
	}
	d, err = a.CustomerPage(ctx, who, name, admin.HistoryPage{Before: d.HistoryNext})
	return len(d.History), err
}

// timeKind runs one kind of query o.n times (after a few to warm up) and
// prints its figures.
func timeKind(o options, kind string, run func() (int, error), stdout, stderr io.Writer) error {
	for range 10 {
		if _, err := run(); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	took := make([]float64, o.n)
	rows := 0
	for i := range took {
		t0 := time.Now()
		n, err := run()
		took[i] = float64(time.Since(t0).Microseconds()) / 1000
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		rows += n
	}
	slices.Sort(took)
	q := func(p float64) float64 { return took[min(len(took)-1, int(p*float64(len(took))))] }
	fmt.Fprintf(stdout, "%s.%s.p50_ms %.3f\n%s.%s.p99_ms %.3f\n%s.%s.rows %.1f\n",
		o.prefix, kind, q(0.50), o.prefix, kind, q(0.99), o.prefix, kind, float64(rows)/float64(o.n))
	fmt.Fprintf(stderr, "bigquery: %s: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.1f rows a query\n",
		kind, q(0.50), q(0.99), took[len(took)-1], float64(rows)/float64(o.n))
	return nil
}

func pickOne[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }

// fragment is a piece of s, between lo and hi runes long, from anywhere
// in it.
func fragment(r *rand.Rand, s string, lo, hi int) string {
	rs := []rune(s)
	n := min(len(rs), lo+r.IntN(hi-lo+1))
	at := r.IntN(len(rs) - n + 1)
	return string(rs[at : at+n])
}

// nameFragment is what staff type to find a name: part of one of its
// words of letters (4 to 7 of them), the way a surname or a firm is
// remembered.
func nameFragment(r *rand.Rand, name string) string {
	var words []string
	for _, w := range strings.FieldsFunc(name, func(c rune) bool { return !isLetter(c) }) {
		if len([]rune(w)) >= 4 {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return fragment(r, name, 4, 7)
	}
	return fragment(r, pickOne(r, words), 4, 7)
}

func isLetter(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 'а' && c <= 'я' || c >= 'А' && c <= 'Я'
}

// serialFragment is a serial's digits, 4 to 7 of them, or the whole
// serial.
func serialFragment(r *rand.Rand, sample []sampled) string {
	for {
		s := pickOne(r, sample).serial
		if s == "" {
			continue
		}
		if r.IntN(4) == 0 {
			return s
		}
		return fragment(r, s[3:], 4, 7)
	}
}
