// Command loadgen runs reserve+complete transactions against an aktuald
// from many concurrent clients and prints the figures as one JSON object on
// stdout (a human line on stderr). bench/run uses it; see docs/benchmarks.md.
//
//	loadgen --server http://127.0.0.1:8420 --codes codes.txt --product rc \
//	    --from 1.0.0 --to 2.0.0 --clients 32 --duration 10s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aktual/aktual/bench/loadgen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	var codesFile string
	fs.StringVar(&cfg.BaseURL, "server", "", "aktuald's URL, e.g. http://127.0.0.1:8420")
	fs.StringVar(&codesFile, "codes", "", "file of update codes, one a line: client i uses code i mod their number")
	fs.StringVar(&cfg.Product, "product", "", "product every reservation is for")
	fs.StringVar(&cfg.From, "from", "1.0.0", "from_version of every reservation")
	fs.StringVar(&cfg.To, "to", "2.0.0", "to_version of every reservation")
	fs.IntVar(&cfg.Clients, "clients", 32, "concurrent clients")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run at most")
	fs.Int64Var(&cfg.MaxTransactions, "max", 0, "stop after this many transactions (0: only --duration bounds the run)")
	fs.StringVar(&cfg.KeyPrefix, "key-prefix", "", "idempotency key prefix, distinct per run on one database (default: from the clock)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.BaseURL == "" || codesFile == "" || cfg.Product == "" {
		fmt.Fprintln(stderr, "loadgen: --server, --codes and --product are required")
		return 2
	}
	codes, err := readCodes(codesFile)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	cfg.Codes = codes
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	b, _ := json.Marshal(rep)
	fmt.Fprintln(stdout, string(b))
	fmt.Fprintf(stderr, "loadgen: %d clients, %d codes: %d transactions in %.1f s = %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors\n",
		rep.Clients, len(codes), rep.Transactions, rep.Elapsed.Seconds(), rep.TPS,
		ms(rep.P50), ms(rep.P99), rep.Errors)
	if rep.Errors > 0 {
		fmt.Fprintln(stderr, "loadgen: first error:", rep.FirstError)
	}
	if rep.Transactions == 0 {
		return 1
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// readCodes reads the non-empty lines of path.
func readCodes(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var codes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if c := strings.TrimSpace(sc.Text()); c != "" {
			codes = append(codes, c)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(codes) == 0 {
		return nil, errors.New(path + " holds no update codes")
	}
	return codes, nil
}
