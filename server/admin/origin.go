package admin

import (
	"context"
	"fmt"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/store"
)

// An artifact may live at an external origin or CDN instead of the blob
// store. The origin is not trusted: the release statement signs the sha256
// and size, and the client checks the bytes against them. Publishing reads
// the origin once, so a release never names a URL that does not serve its
// bytes.

// publishAtOrigin publishes a release whose bytes stay at p.URL. With a
// File, the file is hashed and the origin must serve the same bytes;
// without one, the origin's bytes are the release.
func (a *Admin) publishAtOrigin(ctx context.Context, p PublishParams) (api.ReleaseStatement, error) {
	if err := store.ValidOrigin(p.URL); err != nil {
		return api.ReleaseStatement{}, fmt.Errorf("--url: %w", err)
	}
	src := p.File
	if src == nil {
		body, cancel, err := a.origin().Open(ctx, p.URL)
		if err != nil {
			return api.ReleaseStatement{}, err
		}
		defer cancel()
		defer body.Close()
		src = body
	}
	rest, err := readHead(&p, src)
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	sum, size, err := blobs.HashReader(rest, "the release file")
	if err != nil {
		return api.ReleaseStatement{}, err
	}
	if p.File != nil {
		osum, osize, err := a.origin().Hash(ctx, p.URL)
		if err != nil {
			return api.ReleaseStatement{}, err
		}
		if osum != sum || osize != size {
			return api.ReleaseStatement{}, fmt.Errorf("--url %s serves other bytes than --file (%d bytes, sha256 %s; the file has %d bytes, sha256 %s); upload the file there again, then publish", p.URL, osize, osum, size, sum)
		}
	}
	st, err := a.publishStored(ctx, p, sum, size, nil)
	if err != nil {
		return st, err
	}
	// The patches are made here, from the origins' files (fetched again),
	// and kept in this server's blob store: they are small.
	a.patchMaker().ToNew(ctx, st, p.OnPatch)
	return st, nil
}
