package mdtext

import (
	"strings"
	"unicode/utf8"
)

// Terminal shows blocks as plain text wrapped at width columns (at least
// 20): headings underlined, list items with a hanging indent, code
// indented as it is, a blank line between blocks.
func Terminal(blocks []Block, width int) string {
	width = max(width, 20)
	var b strings.Builder
	for i, bl := range blocks {
		// Consecutive items are one list: no blank line between them.
		if i > 0 && (bl.Kind != Item || blocks[i-1].Kind != Item) {
			b.WriteByte('\n')
		}
		switch bl.Kind {
		case Heading:
			under := "─"
			if bl.Level == 1 {
				under = "═"
			}
			for _, line := range wrap(bl.Text, width) {
				b.WriteString(line + "\n")
			}
			b.WriteString(strings.Repeat(under, min(utf8.RuneCountInString(bl.Text), width)) + "\n")
		case Item:
			lead := "  " + bl.Marker + " "
			pad := strings.Repeat(" ", utf8.RuneCountInString(lead))
			for j, line := range wrap(bl.Text, width-len(pad)) {
				if j == 0 {
					b.WriteString(lead + line + "\n")
				} else {
					b.WriteString(pad + line + "\n")
				}
			}
		case Code:
			for _, line := range strings.Split(bl.Text, "\n") {
				b.WriteString("    " + line + "\n")
			}
		case Rule:
			b.WriteString(strings.Repeat("─", min(width, 40)) + "\n")
		default:
			for _, line := range wrap(bl.Text, width) {
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width runes at spaces (a word
// longer than width gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	var line strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wl := utf8.RuneCountInString(w)
		if n > 0 && n+1+wl > width {
			lines = append(lines, line.String())
			line.Reset()
			n = 0
		}
		if n > 0 {
			line.WriteByte(' ')
			n++
		}
		line.WriteString(w)
		n += wl
	}
	if n > 0 || len(lines) == 0 {
		lines = append(lines, line.String())
	}
	return lines
}
