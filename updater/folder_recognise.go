package updater

import (
	"context"
	"errors"
	"net/url"
	"os"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// SourceFiles: the installed version was recognised by its files'
// hashes (a program folder aktual did not install).
const SourceFiles = "files"

// recognise finds which release a program folder aktual did not install
// holds: the newest folder release (of those the server lists, each
// verified against the key set) whose every file that is not preserved
// is in the folder with its size and sha256. It reads each manifest into
// memory and hashes each file at most once; it changes nothing. The
// release found becomes the folder's old version, so that files it had
// and the new one drops are removed by the update. Nothing found: "".
func (u *Updater) recognise(ctx context.Context, plan *Plan, ks *api.KeySet) (string, error) {
	goos, arch := u.platform()
	var resp api.ReleasesResponse
	err := u.callJSON(ctx, "GET", "/v1/products/"+url.PathEscape(plan.Product)+"/releases", url.Values{"os": {goos}, "arch": {arch}}, nil, &resp)
	var ae *fetch.APIError
	if errors.As(err, &ae) && ae.Status < 500 {
		return "", nil // an older server: --from-version it is
	} else if err != nil {
		return "", err
	}
	hashes := map[string]string{}
	for i := range resp.Releases {
		rel, err := u.verifyRelease(&resp.Releases[i], ks, plan.Product, goos, arch)
		if err != nil || !rel.IsFolder() {
			continue
		}
		data, err := u.client().Small(ctx, rel.SHA256, rel.Size)
		if err != nil {
			return "", err
		}
		m, err := api.DecodeManifest(data)
		if err != nil || m.Version != rel.Version || m.Product != rel.Product {
			continue
		}
		if holds(plan.folder.work.Path, m, hashes) {
			plan.folder.old = m
			return rel.Version, nil
		}
	}
	return "", nil
}

// holds reports whether every file of m that is not preserved is at
// path(rel) with its size and sha256; hashes caches what was hashed.
func holds(path func(string) string, m *api.Manifest, hashes map[string]string) bool {
	for _, f := range m.Files {
		if m.Preserved(f.Path) {
			continue
		}
		p := path(f.Path)
		sum, ok := hashes[p]
		if !ok {
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || fi.Size() != f.Size {
				return false
			}
			if sum, _, err = hashFile(p); err != nil {
				return false
			}
			hashes[p] = sum
		}
		if sum != f.SHA256 {
			return false
		}
	}
	return true
}
