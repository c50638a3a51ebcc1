package updater

import (
	"net/url"
	"strconv"

	"github.com/aktual/aktual/api"
)

// The vendor's root may be replaced (aktuald keys rotate --role root)
// without a new trust file: the server sends the chain of root keys after
// the root this run names (?root=N), and the run follows it from the root
// it trusts (api.FollowRoots). u.Trust, the trust file's or built-in root,
// stays the anchor; the newest root learnt from it is kept in seen.json
// beside the newest key-set version, so the next run starts there.

// trusted is the root this run trusts: the newest learnt from u.Trust by
// an earlier run, or u.Trust itself.
func (u *Updater) trusted() (*api.Trust, error) {
	seen, err := u.state().LoadSeen(u.Trust)
	if err != nil {
		return nil, err
	}
	if seen.Root != nil && seen.Root.Root() > u.Trust.Root() {
		return seen.Root, nil
	}
	return u.Trust, nil
}

// askRoots names the root this run trusts in q: a server whose root is
// newer sends the links of the chain after it.
func (u *Updater) askRoots(q url.Values) error {
	trust, err := u.trusted()
	if err != nil {
		return err
	}
	q.Set(api.QueryRoot, strconv.FormatInt(trust.Root(), 10))
	return nil
}

// followRoots follows the chain of root keys from trust and verifies the
// key set with the newest root; it remembers that root only when both
// verify. A chain that does not verify leaves the trusted root as it was.
func (u *Updater) followRoots(keys *api.Envelope, roots []api.Envelope, trust *api.Trust) (*api.KeySet, error) {
	newest, err := api.FollowRoots(trust, roots)
	if err != nil {
		return nil, fail(ErrVerification, err,
			"the server's chain of root keys does not lead from the root key you trust (%v); your trusted root is unchanged; nothing was installed", err)
	}
	ks, err := api.VerifyKeySet(keys, newest, u.Now.Now())
	if err != nil {
		return nil, err
	}
	if err := u.state().RememberRoot(u.Trust, newest); err != nil {
		u.notice("could not remember the vendor's new root key (%v); the next run follows the chain of root keys again", err)
	}
	return ks, nil
}
