package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
)

func newHWKeyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "hwkey", Short: "Reference hardware keys (licence files) for the classic series"}
	var serial, customer, out, products, expires string
	issue := &cobra.Command{
		Use:   "issue",
		Short: "Write a reference hardware-key licence file, signed with the vendor's release key",
		Example: `  aktuald admin hwkey issue --serial HK-0042 --customer "Acme Ltd" --out acme.aktual-licence
  aktuald admin hwkey issue --serial HK-0043 --customer "Acme Ltd" --products abacus,ledger --expires 2028-01-01 --out k.aktual-licence`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case !api.ValidName(serial):
				return usagef("--serial is required: the key's serial (letters, digits, '.', '_' or '-')")
			case strings.TrimSpace(customer) == "":
				return usagef("--customer is required: the customer's name")
			case out == "":
				return usagef("--out FILE is required: where to write the licence file")
			}
			var until time.Time
			if expires != "" {
				t, err := time.Parse("2006-01-02", expires)
				if err != nil {
					return usagef("--expires %q is not a date like 2028-01-31", expires)
				}
				until = t.UTC().Add(24 * time.Hour) // through the end of that day
			}
			var list []string
			for _, p := range strings.Split(products, ",") {
				if p = strings.TrimSpace(p); p != "" {
					if !api.ValidName(p) {
						return usagef("--products: %q is not a product name", p)
					}
					list = append(list, p)
				}
			}
			inst, err := e.open()
			if err != nil {
				return err
			}
			defer inst.Close()
			data, err := hwkey.Issue(inst.Keys.Release, serial, customer, list, e.now.UTC(), until)
			if err != nil {
				return err
			}
			// Never overwrite: a licence file holds a private key.
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return usagef("%s already exists; choose another --out", out)
			} else if err != nil {
				return usagef("cannot write --out: %v", err)
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			scope := "every classic-series product"
			if len(list) > 0 {
				scope = strings.Join(list, ", ")
			}
			e.print(map[string]any{"serial": serial, "customer": customer, "products": list, "out": out},
				fmt.Sprintf("Wrote hardware key %s for %s (%s) to %s.\nEnable its site access with: aktuald admin activate --customer %q --series classic --hwkey %s --updates N\n",
					serial, customer, scope, out, customer, serial))
			return nil
		},
	}
	f := issue.Flags()
	f.StringVar(&serial, "serial", "", "the key's serial")
	f.StringVar(&customer, "customer", "", "the customer's name")
	f.StringVar(&out, "out", "", "licence file to write")
	f.StringVar(&products, "products", "", "comma-separated licensed products (default: every classic-series product)")
	f.StringVar(&expires, "expires", "", "last day of validity, YYYY-MM-DD (default: no expiry)")
	cmd.AddCommand(issue)
	return cmd
}
