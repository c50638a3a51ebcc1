package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// manHeader is what every page's .TH line says beside its title.
type manHeader struct {
	Section string // "1"
	Source  string // "aktual 1.2.3"
	Manual  string // "aktual manual", in the page's language
}

// writeManTree writes one roff page a command, the hidden ones and help
// left out, named as man(1) finds them: aktual.1, aktual-update.1, … It
// replaces cobra/doc's GenManTree, whose Markdown-to-roff converter and YAML
// writer were a twentieth of the installer's size (docs/benchmarks.md, "Issue
// 21"). The pages carry no date, so the same build writes the same bytes.
func writeManTree(cmd *cobra.Command, h manHeader, dir string) error {
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := writeManTree(c, h, dir); err != nil {
			return err
		}
	}
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-") + "." + h.Section
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	writeManPage(w, cmd, h)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeManPage writes cmd's page: name, synopsis, description, options,
// the inherited options, examples and the related pages.
func writeManPage(w io.Writer, cmd *cobra.Command, h manHeader) {
	path := cmd.CommandPath()
	dashed := strings.ReplaceAll(path, " ", "-")
	fmt.Fprintf(w, ".nh\n.TH \"%s\" \"%s\" \"\" \"%s\" \"%s\"\n", roffQuoted(strings.ToUpper(dashed)), h.Section, roffQuoted(h.Source), roffQuoted(h.Manual))
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n", roffText(dashed), roffText(cmd.Short))
	fmt.Fprintf(w, ".SH SYNOPSIS\n\\fB%s\\fP\n", roffText(cmd.UseLine()))
	long := cmd.Long
	if long == "" {
		long = cmd.Short
	}
	fmt.Fprintf(w, ".SH DESCRIPTION\n%s\n", roffParagraphs(long))
	writeManFlags(w, "OPTIONS", cmd.NonInheritedFlags())
	writeManFlags(w, "OPTIONS INHERITED FROM PARENT COMMANDS", cmd.InheritedFlags())
	if cmd.Example != "" {
		fmt.Fprintf(w, ".SH EXAMPLE\n.EX\n%s\n.EE\n", roffLines(cmd.Example))
	}
	var see []string
	if cmd.HasParent() {
		see = append(see, strings.ReplaceAll(cmd.Parent().CommandPath(), " ", "-"))
	}
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			see = append(see, strings.ReplaceAll(c.CommandPath(), " ", "-"))
		}
	}
	if len(see) > 0 {
		for i, s := range see {
			see[i] = `\fB` + roffText(s) + "(" + h.Section + `)\fP`
		}
		fmt.Fprintf(w, ".SH SEE ALSO\n%s\n", strings.Join(see, ", "))
	}
}

// writeManFlags writes a section of flags, as --help lists them: each with
// its short form, its value's type and default, and its usage.
func writeManFlags(w io.Writer, title string, flags *pflag.FlagSet) {
	if !flags.HasAvailableFlags() {
		return
	}
	fmt.Fprintf(w, ".SH %s\n", title)
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		fmt.Fprint(w, ".TP\n")
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			fmt.Fprintf(w, `\fB\-%s\fP, `, roffText(f.Shorthand))
		}
		fmt.Fprintf(w, `\fB\-\-%s\fP`, roffText(f.Name))
		varname, usage := pflag.UnquoteUsage(f)
		if varname != "" {
			fmt.Fprintf(w, ` \fI%s\fP`, roffText(varname))
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "[]" {
			def := f.DefValue
			if f.Value.Type() == "string" {
				def = strconv.Quote(def) // as --help shows it
			}
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(w, "\n%s\n", roffText(usage))
	})
}

// roffText escapes s for a line of roff text: backslashes, hyphens (a
// plain "-" may print as a typographic hyphen), line breaks (it is one
// line: they become spaces), and a leading dot or quote, which would make
// the line a request.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	s = strings.ReplaceAll(s, "\n", " ")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuoted escapes s for a quoted argument of a request (the title's
// hyphens stay plain, as man(7) writes them).
func roffQuoted(s string) string {
	return strings.NewReplacer(`\`, `\e`, `"`, `\(dq`).Replace(s)
}

// roffLines escapes each line of s (an example: kept as written).
func roffLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = roffText(l)
	}
	return strings.Join(lines, "\n")
}

// roffParagraphs escapes s and turns its blank lines into paragraph breaks.
func roffParagraphs(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.TrimSpace(l) == "" {
			out = append(out, ".PP")
			continue
		}
		out = append(out, roffText(l))
	}
	return strings.Join(out, "\n")
}
