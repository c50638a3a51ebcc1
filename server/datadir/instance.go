package datadir

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/postgres"
	"github.com/aktual/aktual/server/store/sqlite"
)

// postgresOpenTimeout bounds connecting to PostgreSQL and migrating its
// schema (waiting for another replica that migrates it at the same time).
const postgresOpenTimeout = time.Minute

// Instance is an opened data directory: keys, blobs and the store.
type Instance struct {
	Dir   DataDir
	Keys  *keyring.Keys
	Blobs blobs.Blobs
	Store store.Store
	// Changes: a publish through this Instance's Admin is seen at once
	// by its Server's cached latest answers.
	Changes *Changes
}

// Open initialises dir if needed and opens its store: the embedded SQLite
// database in dir, unless dbURL names another (sqlite:PATH, or a
// postgres:// or postgresql:// URL shared by several replicas).
func Open(dir DataDir, dbURL string) (*Instance, error) { return OpenWithRoot(dir, dbURL, nil) }

// OpenWithRoot is Open with the root key staff keep off the server: a new
// data directory's key set is signed by it, an expiring one renewed.
func OpenWithRoot(dir DataDir, dbURL string, root ed25519.PrivateKey) (*Instance, error) {
	dbPath, embedded := dir.SQLitePath(dbURL)
	if err := dir.prepare(dbPath); err != nil {
		return nil, err
	}
	keys, err := dir.Keyring().Init(root)
	if err != nil {
		return nil, err
	}
	var st store.Store
	switch {
	case embedded:
		st, err = sqlite.Open(dbPath)
	case strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://"):
		// Keys and blobs stay in dir; only the store is shared by replicas.
		ctx, cancel := context.WithTimeout(context.Background(), postgresOpenTimeout)
		st, err = postgres.Open(ctx, dbURL)
		cancel()
	default:
		return nil, fmt.Errorf("--db %s: not a database this build knows; give postgres://USER:PASSWORD@HOST/DB (or postgresql://…), sqlite:PATH, or nothing for the embedded SQLite database", redacted(dbURL))
	}
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	return &Instance{Dir: dir, Keys: keys, Blobs: blobs.Blobs{Dir: dir.BlobDir()}, Store: st, Changes: &Changes{}}, nil
}

// redacted is dbURL for a message: without its password, which would end
// up in logs.
func redacted(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(an unparsable URL)"
	}
	return strconv.Quote(u.Redacted())
}

// Close closes the store.
func (in *Instance) Close() error { return in.Store.Close() }
