package patches

import (
	"context"
	"errors"
	"fmt"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/blobs"
	"github.com/aktual/aktual/server/store"
)

// Offer is the patch from the installed artifact (from) to the latest
// (to), for the latest answer; nil when there is none. An error is a
// lookup that failed: it only costs the client a whole download, so the
// caller logs it and answers without a patch.
func Offer(ctx context.Context, st store.Store, b blobs.Blobs, product, goos, arch, from, to string) (*api.PatchOffer, error) {
	if from == to {
		return nil, nil
	}
	p, err := st.Patch(ctx, product, goos, arch, from, to)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("looking up a patch: %w", err)
	}
	f, err := b.Open(p.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the recorded patch %s is missing from the blob store: %w", p.SHA256, err)
	}
	f.Close()
	return &api.PatchOffer{FromSHA256: from, SHA256: p.SHA256, Size: p.Size, Format: api.PatchBSDiff}, nil
}
