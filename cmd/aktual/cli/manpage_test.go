package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestManPageEscapes checks that text which roff would read as a request or
// an escape is written as text, and that the page has its sections.
func TestManPageEscapes(t *testing.T) {
	root := &cobra.Command{Use: "aktual", Short: "root"}
	sub := &cobra.Command{
		Use:     "update",
		Short:   "a -b\n.SH not a section",
		Long:    "first\n.TH injected\n\n'quoted \\fBbold",
		Example: "  aktual update --x",
		Run:     func(*cobra.Command, []string) {},
	}
	sub.Flags().StringP("code", "c", "", "the `CODE` to use")
	sub.Flags().Bool("yes", false, "do not ask")
	root.PersistentFlags().String("lang", "en", "language")
	root.AddCommand(sub)

	var b bytes.Buffer
	writeManPage(&b, sub, manHeader{Section: "1", Source: "aktual 1.0", Manual: "aktual manual"})
	page := b.String()
	for _, want := range []string{
		`.TH "AKTUAL-UPDATE" "1" "" "aktual 1.0" "aktual manual"`,
		"aktual\\-update \\- a \\-b .SH not a section\n",
		"\\&.TH injected\n.PP\n\\&'quoted \\efBbold\n",
		`\fB\-c\fP, \fB\-\-code\fP \fICODE\fP` + "\nthe CODE to use\n",
		"\\fB\\-\\-yes\\fP\ndo not ask\n",
		".SH OPTIONS INHERITED FROM PARENT COMMANDS\n.TP\n\\fB\\-\\-lang\\fP \\fIstring\\fP\nlanguage (default \"en\")\n",
		".SH EXAMPLE\n.EX\n  aktual update \\-\\-x\n.EE\n",
		".SH SEE ALSO\n\\fBaktual(1)\\fP\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	for _, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, ".TH") && !strings.HasPrefix(l, `.TH "AKTUAL`) {
			t.Errorf("a line of the text became a request: %q", l)
		}
	}
}
