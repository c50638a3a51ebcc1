package fetch

import (
	"context"
	"io"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/kind"
)

// Small fetches a small artifact (a manifest) into memory, reading no
// more than size bytes and checking them against sha256: what a check
// that must change nothing on disk needs.
func (c *Client) Small(ctx context.Context, sha256hex string, size int64) ([]byte, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, orDefault(c.RequestTimeout, DefaultRequestTimeout), errSlowAnswer)
	defer cancel()
	resp, err := c.send(ctx, "GET", "/v1/artifacts/"+sha256hex, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, size+1))
	if err != nil {
		return nil, fail(kind.ErrNoConnection, err, "the connection to %s broke while reading its answer; try again", c.Server)
	}
	if int64(len(data)) != size || api.SHA256Hex(data) != sha256hex {
		return nil, fail(kind.ErrVerification, nil, "the file %s the server sent is not the signed one; refusing it", sha256hex)
	}
	return data, nil
}
