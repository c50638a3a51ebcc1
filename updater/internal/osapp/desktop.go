package osapp

import (
	"os"
	"strings"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater/internal/durable"
)

// DesktopEntry is a freedesktop.org .desktop file that shows a program in
// the applications menu of Linux desktops: Linux's Start-menu shortcut.
// exec is the program's absolute path, run in workDir.
func DesktopEntry(name, exec, workDir, comment string) []byte {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\nType=Application\nVersion=1.5\n")
	b.WriteString("Name=" + desktopString(name) + "\n")
	if comment != "" {
		b.WriteString("Comment=" + desktopString(comment) + "\n")
	}
	b.WriteString("Exec=" + desktopString(desktopExecArg(exec)) + "\n")
	if workDir != "" {
		b.WriteString("Path=" + desktopString(workDir) + "\n")
	}
	b.WriteString("Terminal=false\n")
	return []byte(b.String())
}

// desktopString escapes a value of type string: a backslash, and the
// control characters that would end the line.
func desktopString(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}

// desktopExecArg quotes one argument of an Exec key as the specification
// asks when it holds a reserved character, and doubles '%', which would
// otherwise start a field code. String escaping applies on top of this.
func desktopExecArg(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`") {
		return s
	}
	return `"` + strings.NewReplacer(`"`, `\"`, "`", "\\`", `$`, `\$`, `\`, `\\`).Replace(s) + `"`
}

// CreateDesktopEntry writes DesktopEntry's file at path (in
// ApplicationsDir, named <id>.desktop), whole or not at all, readable by
// all: an entry for all users is read by each user's desktop.
func CreateDesktopEntry(path, name, exec, workDir, comment string) error {
	err := durable.WriteFile(path, DesktopEntry(name, exec, workDir, comment))
	if err == nil {
		err = os.Chmod(path, 0o644)
	}
	if err != nil {
		return i18n.Errorf("cannot write the menu entry %s: %w", path, err)
	}
	return nil
}
