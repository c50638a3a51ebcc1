package cli

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aktual/aktual/internal/i18n"
)

// localizeHelp puts cobra's own words — the usage layout, the help and
// completion commands, the --help flag — in the reader's language. It runs
// once every command has been added.
func localizeHelp(root *cobra.Command, P *i18n.Printer) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	registerFlagUsages.Do(func() {
		// cobra's template functions are global: one a language, added
		// once (tests build root commands in parallel, in both languages).
		for _, tag := range i18n.Supported {
			tp := i18n.NewPrinter(tag)
			cobra.AddTemplateFunc(flagUsagesFunc(tp), func(fs *pflag.FlagSet) string { return flagUsages(tp, fs) })
		}
	})
	root.SetUsageTemplate(usageTemplate(P))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = P.Sprintf("Help about any command")
			c.Long = P.Sprintf("help shows the help of any command: aktual help update is aktual update --help.")
			c.Run = nil
			c.RunE = func(c *cobra.Command, args []string) error {
				cmd, _, err := c.Root().Find(args)
				if cmd == nil || err != nil {
					return usageError(i18n.M("there is no command %q; see the commands with: aktual --help", strings.Join(args, " ")))
				}
				cmd.InitDefaultHelpFlag()
				return cmd.Help()
			}
		case "completion":
			localizeCompletion(c, P)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		if f := c.Flags().Lookup("help"); f != nil {
			f.Usage = P.Sprintf("help for %s", c.Name())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completionExamples: how each shell loads the script.
var completionExamples = map[string]string{
	"bash":       "source <(aktual completion bash)",
	"zsh":        "aktual completion zsh > \"${fpath[1]}/_aktual\"",
	"fish":       "aktual completion fish | source",
	"powershell": "aktual completion powershell | Out-String | Invoke-Expression",
}

func localizeCompletion(c *cobra.Command, P *i18n.Printer) {
	c.Short = P.Sprintf("Write the shell completion script for aktual (bash, zsh, fish or powershell)")
	c.Long = P.Sprintf("completion writes a script on standard output that lets your shell complete aktual's commands and flags (press Tab). Pick your shell's subcommand.")
	// Runnable, so that a shell aktual does not know is an error (exit 2),
	// not the help with exit 0.
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	c.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError(i18n.M("aktual cannot complete for the shell %q; use bash, zsh, fish or powershell", args[0]))
		}
		return nil
	}
	for _, sub := range c.Commands() {
		shell := sub.Name()
		sub.Short = P.Sprintf("Write the completion script for %s", shell)
		if ex, ok := completionExamples[shell]; ok {
			sub.Long = P.Sprintf("Writes the %[1]s completion script for aktual on standard output. To use it in the current shell:\n\n  %[2]s\n\nTo use it in every session, put that line in your shell's start-up file.", shell, ex)
		}
		sub.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "no-descriptions" {
				f.Usage = P.Sprintf("complete without descriptions")
			}
		})
	}
}

// valueNames name the value each flag takes, in help: --server URL.
var valueNames = map[string]string{
	"server": "URL", "trust": "FILE", "hwkey": "FILE", "file": "FILE", "product": "NAME",
	"target": "PATH", "code": "CODE", "from-version": "VERSION", "state-dir": "FOLDER",
	"dir": "FOLDER", "lang": "bg|en",
}

// valueName is what help shows after a flag that takes a value.
func valueName(P *i18n.Printer, f *pflag.Flag) string {
	if f.NoOptDefVal != "" {
		return "" // a switch: --yes
	}
	switch valueNames[f.Name] {
	case "URL":
		return "URL"
	case "FILE":
		return P.Sprintf("FILE")
	case "NAME":
		return P.Sprintf("NAME")
	case "PATH":
		return P.Sprintf("PATH")
	case "CODE":
		return P.Sprintf("CODE")
	case "VERSION":
		return P.Sprintf("VERSION")
	case "FOLDER":
		return P.Sprintf("FOLDER")
	case "bg|en":
		return "bg|en"
	}
	return P.Sprintf("VALUE")
}

// registerFlagUsages adds the flag layout's template functions once.
var registerFlagUsages sync.Once

// flagUsagesFunc is the name of the template function that lays flags out
// in p's language.
func flagUsagesFunc(p *i18n.Printer) string {
	tag := p.Lang()
	if !slices.Contains(i18n.Supported, tag) {
		tag = i18n.English
	}
	return "flagUsages_" + strings.ReplaceAll(tag.String(), "-", "_")
}

// flagUsages lays flags out as pflag does — a column of names, then what
// each does — but names each value in the reader's language (--target
// PATH), not by its Go type (--target string).
func flagUsages(P *i18n.Printer, fs *pflag.FlagSet) string {
	type row struct{ names, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		names := "      --" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			names = "  -" + f.Shorthand + ", --" + f.Name
		}
		if v := valueName(P, f); v != "" {
			names += " " + v
		}
		usage := f.Usage
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" && d != "0s" {
			usage += " " + P.Sprintf("(default %s)", d)
		}
		width = max(width, utf8.RuneCountInString(names))
		rows = append(rows, row{names, usage})
	})
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.names)
		b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(r.names)+3))
		b.WriteString(r.usage)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// usageTemplate is cobra's default usage layout (without command groups
// and help topics, which aktual does not use), its headings translated.
func usageTemplate(P *i18n.Printer) string {
	return P.Sprintf("Usage:") + `{{if .Runnable}}
  {{.CommandPath}}{{if .HasAvailableFlags}} ` + P.Sprintf("[flags]") + `{{end}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} ` + P.Sprintf("[command]") + `{{end}}{{if gt (len .Aliases) 0}}

` + P.Sprintf("Aliases:") + `
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

` + P.Sprintf("Examples:") + `
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

` + P.Sprintf("Commands:") + `{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }}  {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

` + P.Sprintf("Flags:") + `
{{` + flagUsagesFunc(P) + ` .LocalFlags}}{{end}}{{if .HasAvailableInheritedFlags}}

` + P.Sprintf("Global flags:") + `
{{` + flagUsagesFunc(P) + ` .InheritedFlags}}{{end}}{{if .HasAvailableSubCommands}}

` + P.Sprintf("Use \"%s [command] --help\" for more information about a command.", "{{.CommandPath}}") + `{{end}}
`
}
