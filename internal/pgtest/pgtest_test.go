package pgtest_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestURL: each URL is a database of its own, empty, and gone once its
// test ends.
func TestURL(t *testing.T) {
	var names []string
	for _, sub := range []string{"first", "second"} {
		t.Run(sub, func(t *testing.T) {
			u := pgtest.URL(t)
			conn, err := pgx.Connect(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			var name string
			var tables int
			err = conn.QueryRow(t.Context(), `SELECT current_database(),
				(SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))`).Scan(&name, &tables)
			if err != nil || tables != 0 || !strings.HasPrefix(name, "aktual_test_") {
				t.Fatalf("database %q with %d tables, %v", name, tables, err)
			}
			if p, _ := url.Parse(u); p.Path != "/"+name {
				t.Errorf("URL names %s, connected to %s", p.Path, name)
			}
			if _, err := conn.Exec(t.Context(), `CREATE TABLE left_behind (x int)`); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %v, want two distinct", names)
	}
	conn, err := pgx.Connect(t.Context(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, names).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d of the tests' databases left after them, %v", left, err)
	}
}
