package cli

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/keyring"
)

func newKeysCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "The signing keys: list, rotate, revoke, renew; keep the root key offline",
		Long: `Keys have roles. The root key (its public half is trust.json, which
clients hold) signs the key set; the key set names the release keys, which
sign releases, and the online keys, which sign the server's answers.
Rotating or revoking a release or online key needs no new trust.json; nor
does rotating the root (rotate --role root): installers follow the chain of
root keys from the root they trust to the new one.

Changes to the key set need the root key: on this server (keys/root.pem, the
default after init) or, once moved off it with export-root, --root-key FILE.
A running aktuald serve picks up a changed key set when it is restarted.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newKeysListCmd(e), newKeysRotateCmd(e), newKeysRevokeCmd(e), newKeysRenewCmd(e),
		newKeysExportRootCmd(e), newKeysGenerateRootCmd(e))
	return cmd
}

func printKeyList(e *env, k *keyring.Keys, headline string) {
	l := k.List()
	var b strings.Builder
	if headline != "" {
		b.WriteString(headline + "\n")
	}
	fmt.Fprintf(&b, "Key set version %d, expires %s; root version %d\n", l.KeySetVersion, l.ExpiresAt.Format("2006-01-02"), l.RootVersion)
	for _, ki := range l.Keys {
		fmt.Fprintf(&b, "  %-8s %s  %s", ki.Role, ki.ID, ki.Status)
		if ki.Public != "" {
			fmt.Fprintf(&b, "  (public: %s)", ki.Public)
		}
		b.WriteString("\n")
	}
	e.print(l, b.String())
}

func newKeysListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys of each role and the key set's version and expiry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			printKeyList(e, inst.Keys, "")
			return nil
		},
	}
}

// keyChangeError makes the refusals staff can act on usage errors.
func keyChangeError(err error) error {
	if errors.Is(err, keyring.ErrNoRootKey) {
		return usagef("%v: pass it with --root-key FILE", err)
	}
	return usagef("%v", err)
}

func newKeysRotateCmd(e *env) *cobra.Command {
	var role, newRoot string
	cmd := &cobra.Command{
		Use:   "rotate --role release|online|root",
		Short: "Make a new key the active one of a role; the old one stays trusted (retired) until revoked; a new root is vouched for by the old",
		Long: `Make a new key the active one of a role.

A new release or online key joins the key set; the old one stays trusted
(retired) until revoked.

A new root key (--role root) is vouched for by the old one: the next link
of the chain of root keys (keys/roots/N.json), signed by both, which
installers that trust an older root follow to the new one. The key set is
signed anew by the new root, and trust.json names it. A root kept on the
server (keys/root.pem) is replaced by a new one there; a root kept offline
(--root-key FILE) hands over to --new-root-key FILE (make it with
aktuald keys generate-root), which stays offline too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if role != api.RoleRelease && role != api.RoleOnline && role != api.RoleRoot {
				return usagef("--role must be release, online or root")
			}
			if newRoot != "" && role != api.RoleRoot {
				return usagef("--new-root-key is for --role root only")
			}
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			root, err := e.root()
			if err != nil {
				return err
			}
			if role == api.RoleRoot {
				return rotateRoot(e, inst.Dir.Keyring(), root, newRoot)
			}
			k, fresh, err := inst.Dir.Keyring().RotateKey(role, root)
			if err != nil {
				return keyChangeError(err)
			}
			printKeyList(e, k, fmt.Sprintf("New active %s key %s. Restart aktuald serve now: until it serves the new key set, clients refuse what the new key signs (publish nothing before).", role, fresh.ID))
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "release, online or root")
	cmd.Flags().StringVar(&newRoot, "new-root-key", "", "with --role root: the new root key file, kept off the server (aktuald keys generate-root)")
	return cmd
}

// rotateRoot hands the root over to the key in newRoot (a file), or to a
// new one in the data folder.
func rotateRoot(e *env, dir keyring.Dir, root ed25519.PrivateKey, newRoot string) error {
	var next ed25519.PrivateKey
	if newRoot != "" {
		var err error
		if next, err = keyring.ReadKeyFile(newRoot); err != nil {
			return usagef("--new-root-key %s: %v", newRoot, err)
		}
	}
	k, fresh, err := dir.RotateRoot(root, next)
	if err != nil {
		return keyChangeError(err)
	}
	printKeyList(e, k, fmt.Sprintf("New root key %s (root version %d), vouched for by the old root. Restart aktuald serve now; give new customers the new trust.json (installers that trust an older root follow the chain to this one).", fresh.ID, k.Roots.Root()))
	return nil
}

func newKeysRevokeCmd(e *env) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "revoke --id KEYID",
		Short: "Stop trusting a retired key; releases it signed are signed anew with the active release key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return usagef("--id is required: the key's ID, as aktuald keys list shows it")
			}
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			root, err := e.root()
			if err != nil {
				return err
			}
			if root == nil && inst.Keys.Root == nil {
				return keyChangeError(keyring.ErrNoRootKey)
			}
			// Releases first: should this stop half-way, the key is still
			// trusted and every release still verifies; run it again.
			resigned := 0
			if release := inst.Keys.KeySet.ReleaseKeys; slices.ContainsFunc(release[1:], func(k api.PublicKey) bool { return k.ID == id }) {
				keep := func(keyID string) bool {
					return keyID != id && slices.ContainsFunc(release, func(k api.PublicKey) bool { return k.ID == keyID })
				}
				if resigned, err = admin.New(inst).ResignReleases(cmd.Context(), keep); err != nil {
					return fmt.Errorf("re-signing releases: %w (the key is still trusted; run this again)", err)
				}
			}
			k, role, err := inst.Dir.Keyring().RevokeKey(id, root)
			if err != nil {
				return keyChangeError(err)
			}
			head := fmt.Sprintf("Revoked %s key %s. Restart aktuald serve to serve the new key set.", role, id)
			if role == api.RoleRelease {
				head += fmt.Sprintf("\nRe-signed %d release(s) with the active release key. Hardware-key licences it signed no longer open classic sessions: issue new ones with aktuald admin hwkey issue.", resigned)
			}
			printKeyList(e, k, head)
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the key's ID (aktuald keys list)")
	return cmd
}

func newKeysRenewCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "renew",
		Short: "Sign the key set anew with a fresh expiry (a year)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			root, err := e.root()
			if err != nil {
				return err
			}
			k, err := inst.Dir.Keyring().RenewKeySet(root)
			if err != nil {
				return keyChangeError(err)
			}
			printKeyList(e, k, "Key set renewed. Restart aktuald serve to serve it.")
			return nil
		},
	}
}

func newKeysExportRootCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export-root --out FILE",
		Short: "Move the root key off the server into FILE (keep it offline; key changes then need --root-key FILE)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required: a new file for the root key, e.g. on removable media")
			}
			dir, err := e.dataDir()
			if err != nil {
				return err
			}
			pub, err := dir.Keyring().ExportRoot(out)
			if errors.Is(err, keyring.ErrNoRootKey) {
				return usagef("there is no root key in %s: it was moved off the server already, or the server was initialised with --root-key", dir)
			} else if err != nil {
				return usagef("%v", err)
			}
			e.print(map[string]string{"root_key": pub.ID, "out": out},
				fmt.Sprintf("Root key %s moved to %s and removed from the data folder. Keep it offline.\n", pub.ID, out))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "new file for the root key")
	return cmd
}

func newKeysGenerateRootCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "generate-root --out FILE",
		Short: "Make a new root key in FILE, e.g. on an offline machine, for aktuald init --root-key FILE",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required: a new file for the root key")
			}
			pub, err := keyring.GenerateRootKey(out)
			if err != nil {
				return usagef("%v", err)
			}
			e.print(map[string]string{"root_key": pub.ID, "out": out},
				fmt.Sprintf("New root key %s in %s. Initialise a server with: aktuald init --root-key %s\n", pub.ID, out, out))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "new file for the root key")
	return cmd
}
