// Package mdtext reads release notes — a small, safe subset of Markdown —
// into blocks (headings, paragraphs, list items, code, rules) of plain
// text, and shows them in a terminal. The Internet-code page renders the
// same blocks as HTML (its template escapes them). Nothing is
// interpreted beyond that subset: inline markup is removed, a link
// becomes "text (address)", and control characters (a terminal's escape
// sequences, bidirectional overrides) are dropped, so notes can neither
// move a terminal's cursor nor disguise text.
package mdtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Block kinds.
const (
	Heading   = "heading"
	Paragraph = "paragraph"
	Item      = "item" // a list item; Marker is "•" or "1."
	Code      = "code"
	Rule      = "rule"
)

// Block is one block of the notes, as plain text.
type Block struct {
	Kind   string
	Level  int    // a heading's level, 1 to 6
	Marker string // a list item's marker
	Text   string // inline markup removed; Code keeps its lines
}

// MaxBlocks bounds what Parse returns: notes are a page, not a book.
const MaxBlocks = 500

// Parse reads Markdown into blocks.
func Parse(md string) []Block {
	md = strings.ReplaceAll(strings.ReplaceAll(md, "\r\n", "\n"), "\r", "\n")
	var out []Block
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, Block{Kind: Paragraph, Text: inline(strings.Join(para, " "))})
			para = nil
		}
	}
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines) && len(out) < MaxBlocks; i++ {
		line := strings.TrimRight(lines[i], " \t")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flush()
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			flush()
			fence, code := trimmed[:3], []string{}
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), fence); i++ {
				code = append(code, clean(strings.TrimRight(lines[i], " \t"), true))
			}
			out = append(out, Block{Kind: Code, Text: strings.Join(code, "\n")})
		case isRule(trimmed):
			flush()
			out = append(out, Block{Kind: Rule})
		case strings.HasPrefix(trimmed, "#"):
			level := len(trimmed) - len(strings.TrimLeft(trimmed, "#"))
			if level > 6 || (len(trimmed) > level && trimmed[level] != ' ') {
				para = append(para, trimmed)
				continue
			}
			flush()
			out = append(out, Block{Kind: Heading, Level: level, Text: inline(strings.Trim(trimmed[level:], " #"))})
		case listMarker(trimmed) != "":
			flush()
			marker := listMarker(trimmed)
			text := strings.TrimSpace(trimmed[len(marker):])
			if marker == "-" || marker == "*" || marker == "+" {
				marker = "•"
			} else {
				v, _ := strconv.Atoi(marker[:len(marker)-1])
				marker = strconv.Itoa(v) + "."
			}
			// Lines indented under the item continue it.
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") && strings.TrimSpace(lines[i+1]) != "" &&
				listMarker(strings.TrimSpace(lines[i+1])) == "" {
				i++
				text += " " + strings.TrimSpace(lines[i])
			}
			out = append(out, Block{Kind: Item, Marker: marker, Text: inline(text)})
		default:
			para = append(para, strings.TrimPrefix(trimmed, "> "))
		}
	}
	flush()
	if len(out) > MaxBlocks {
		out = out[:MaxBlocks]
	}
	return out
}

func isRule(s string) bool {
	if len(s) < 3 {
		return false
	}
	c := s[0]
	return (c == '-' || c == '*' || c == '_') && strings.Count(s, string(c))+strings.Count(s, " ") == len(s)
}

// listMarker is the marker a list item's line starts with ("-", "*",
// "+", "12."), "" for none.
func listMarker(s string) string {
	if len(s) >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ' {
		return s[:1]
	}
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n > 0 && n+1 < len(s) && (s[n] == '.' || s[n] == ')') && s[n+1] == ' ' {
		return s[:n+1]
	}
	return ""
}

// inline removes inline markup: emphasis, code spans, images and links
// (a link keeps its text and address).
func inline(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_[]()#+-.!<>", s[i+1]) >= 0:
			b.WriteByte(s[i+1])
			i += 2
		case c == '*' || c == '_' || c == '`':
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '[':
			i++ // an image: its alternative text, as a link's
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end > 0 && i+end+1 < len(s) && s[i+end+1] == '(' {
				if close := strings.IndexByte(s[i+end+1:], ')'); close > 0 {
					text := s[i+1 : i+end]
					addr := s[i+end+2 : i+end+1+close]
					b.WriteString(inline(text))
					if addr != "" && addr != text {
						b.WriteString(" (" + addr + ")")
					}
					i += end + 1 + close + 1
					continue
				}
			}
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return clean(strings.Join(strings.Fields(b.String()), " "), false)
}

// clean drops what must never reach a terminal or a page as text: control
// characters (tabs become spaces), invalid UTF-8 and bidirectional
// controls.
func clean(s string, keepIndent bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
		case r == '\t':
			b.WriteString("    ")
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F:
		default:
			b.WriteRune(r)
		}
	}
	if keepIndent {
		return b.String()
	}
	return strings.TrimSpace(b.String())
}
