package server

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	Keys  *Keys
	Blobs Blobs
	Store store.Store
	// catalog: a publish through this Instance's Admin is seen at once
	// by its Server's cached latest answers.
	catalog *catalogChanges
}

// Open initialises dir if needed and opens its store: the embedded SQLite
// database in dir, unless dbURL names another (sqlite:PATH, or a
// postgres:// or postgresql:// URL shared by several replicas).
func Open(dir DataDir, dbURL string) (*Instance, error) { return OpenWithRoot(dir, dbURL, nil) }

// OpenWithRoot is Open with the root key staff keep off the server: a new
// data directory's key set is signed by it, an expiring one renewed.
func OpenWithRoot(dir DataDir, dbURL string, root ed25519.PrivateKey) (*Instance, error) {
	keys, err := dir.InitWithRoot(root)
	if err != nil {
		return nil, err
	}
	var st store.Store
	switch {
	case dbURL == "" || strings.HasPrefix(dbURL, "sqlite:"):
		path := strings.TrimPrefix(dbURL, "sqlite:")
		if path == "" {
			path = dir.Path(DBFile)
		}
		st, err = sqlite.Open(path)
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
	return &Instance{Dir: dir, Keys: keys, Blobs: Blobs{Dir: dir.BlobDir()}, Store: st, catalog: &catalogChanges{}}, nil
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

// Admin returns the admin service over this instance.
func (in *Instance) Admin(now func() time.Time) *Admin {
	return &Admin{Store: in.Store, Blobs: in.Blobs, Keys: in.Keys, Now: now, catalog: in.catalog}
}

// Server returns the HTTP service over this instance.
func (in *Instance) Server(version string, logger *slog.Logger) *Server {
	return &Server{Store: in.Store, Blobs: in.Blobs, Keys: in.Keys, Version: version, Logger: logger, catalog: in.catalog}
}
