package mdtext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const sample = "# Какво ново в 2.1\n\nСкладът се **зарежда** двойно по-бързо.\nВиж [бележките](https://example.com/2.1).\n\n## Поправки\n\n- Печатът на `фактури` при стари принтери\n  на Windows 7\n- Справката по ДДС\n3. трето\n\n```\nC:\\Ledger\\ledger.exe --repair\n```\n\n---\nКрай\x1b[31m\u202e!\n"

func TestParse(t *testing.T) {
	got := Parse(sample)
	want := []Block{
		{Kind: Heading, Level: 1, Text: "Какво ново в 2.1"},
		{Kind: Paragraph, Text: "Складът се зарежда двойно по-бързо. Виж бележките (https://example.com/2.1)."},
		{Kind: Heading, Level: 2, Text: "Поправки"},
		{Kind: Item, Marker: "•", Text: "Печатът на фактури при стари принтери на Windows 7"},
		{Kind: Item, Marker: "•", Text: "Справката по ДДС"},
		{Kind: Item, Marker: "3.", Text: "трето"},
		{Kind: Code, Text: "C:\\Ledger\\ledger.exe --repair"},
		{Kind: Rule},
		{Kind: Paragraph, Text: "Край[31m!"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestTerminal(t *testing.T) {
	out := Terminal(Parse(sample), 40)
	want := "Какво ново в 2.1\n════════════════\n\nСкладът се зарежда двойно по-бързо. Виж\nбележките (https://example.com/2.1).\n\nПоправки\n────────\n\n" +
		"  • Печатът на фактури при стари\n    принтери на Windows 7\n  • Справката по ДДС\n  3. трето\n\n    C:\\Ledger\\ledger.exe --repair\n\n" +
		strings.Repeat("─", 40) + "\n\nКрай[31m!\n"
	if out != want {
		t.Errorf("terminal:\n%s\nwant:\n%s", out, want)
	}
}

// FuzzParse: any input gives blocks of printable text, and a terminal
// rendering with no control character and no line over the width but a
// single long word or a code line.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("[a](b)[c](\n![x](y) \\* *a* `b` # h\n1) one\n  more\n~~~\ncode\t\x07\n")
	f.Add("#######\n- \n* * *\n[unclosed](\n")
	f.Fuzz(func(t *testing.T, md string) {
		blocks := Parse(md)
		if len(blocks) > MaxBlocks {
			t.Fatalf("%d blocks", len(blocks))
		}
		for _, b := range blocks {
			for _, r := range b.Text {
				if (unicode.IsControl(r) && r != '\n') || r == utf8.RuneError || (r >= 0x202A && r <= 0x202E) {
					t.Fatalf("block %+v carries %U", b, r)
				}
			}
			if b.Kind != Code && strings.Contains(b.Text, "\n") {
				t.Fatalf("a %s block with a line break: %q", b.Kind, b.Text)
			}
		}
		for _, line := range strings.Split(Terminal(blocks, 30), "\n") {
			for _, r := range line {
				if unicode.IsControl(r) {
					t.Fatalf("terminal line %q carries %U", line, r)
				}
			}
		}
	})
}
