package storesql

import "testing"

func TestSQLitePlaceholders(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`WHERE a = $1 AND b = $2`, `WHERE a = ?1 AND b = ?2`},
		{`SET url = $1 WHERE id = $12 AND url <> $1`, `SET url = ?1 WHERE id = ?12 AND url <> ?1`},
	} {
		if got := SQLitePlaceholders(tc.in); got != tc.want {
			t.Errorf("SQLitePlaceholders(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
