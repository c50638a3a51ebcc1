// Command binsize says what a Go program's size is made of: the bytes of
// each module's code and data in an ELF binary built with its symbols, as
// `go tool nm -size` lists them, summed by the module that owns each
// symbol's package.
//
//	binsize [-top N] PACKAGE BINARY [RELEASED]
//
// PACKAGE is the main package the binary was built from (./cmd/aktual):
// `go list -deps` of it maps packages to modules. The table is Markdown,
// largest first, with the standard library as "std"; what the program
// loads but the linker writes as whole blocks (the function tables,
// types and strings) is shown by section. bench/run
// builds BINARY with the release flags but without -s -w, so that the
// symbols are there, and RELEASED as released: its size ends the table.
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("binsize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	top := fs.Int("top", 20, "modules to list; the rest are summed in one line")
	if err := fs.Parse(args); err != nil || fs.NArg() < 2 || fs.NArg() > 3 {
		fmt.Fprintln(stderr, "usage: binsize [-top N] PACKAGE BINARY [RELEASED]")
		return 2
	}
	mods, err := modules(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "binsize:", err)
		return 1
	}
	sizes, total, err := attribute(fs.Arg(1), mods)
	if err != nil {
		fmt.Fprintln(stderr, "binsize:", err)
		return 1
	}
	table(stdout, sizes, total, *top)
	if fs.NArg() == 3 {
		st, err := os.Stat(fs.Arg(2))
		if err != nil {
			fmt.Fprintln(stderr, "binsize:", err)
			return 1
		}
		fmt.Fprintf(stdout, "| **the file as released** (%s) | %d | |\n", "no symbol table, no DWARF", st.Size())
	}
	return 0
}

// modules maps each package the main package links to its module's path
// ("std" for the standard library).
func modules(pkg string) (map[string]string, error) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{else}}std{{end}}", pkg).Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w", pkg, err)
	}
	mods := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if p, m, ok := strings.Cut(line, " "); ok {
			mods[p] = m
		}
	}
	return mods, nil
}

// leftover names what a loaded section holds beyond its symbols' sizes:
// the linker writes types, strings and the function tables as whole
// blocks, not as symbols of one package.
var leftover = map[string]string{
	".gopclntab": "(.gopclntab: every function's name, lines and stack maps)",
	".rodata":    "(.rodata: types, strings and constants, not by package)",
}

// attribute sums the sizes of the binary's symbols by module, over the
// sections the program loads from the file; what is left of each of those
// sections is shown by section. The total is the loaded sections' size:
// the symbol table and DWARF are not part of the program (-s -w drops
// them).
func attribute(path string, mods map[string]string) (map[string]uint64, uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, 0, fmt.Errorf("%s has no symbols (built with -s?): %w", path, err)
	}
	pkgs := make([]string, 0, len(mods))
	for p := range mods {
		pkgs = append(pkgs, p)
	}
	// Longest first: net/http/httputil before net/http before net.
	sort.Slice(pkgs, func(i, j int) bool { return len(pkgs[i]) > len(pkgs[j]) })
	sizes := map[string]uint64{}
	owned := make([]uint64, len(f.Sections))
	for _, s := range syms {
		i := int(s.Section)
		if i <= 0 || i >= len(f.Sections) || !loadedFromFile(f.Sections[i]) {
			continue // undefined, absolute, not stored (.bss) or not loaded
		}
		if p := owner(s.Name, pkgs); p != "" {
			sizes[mods[p]] += s.Size
			owned[i] += s.Size
		}
	}
	var loaded uint64
	for i, sec := range f.Sections {
		if !loadedFromFile(sec) {
			continue
		}
		loaded += sec.Size
		if sec.Size > owned[i] {
			name, ok := leftover[sec.Name]
			if !ok {
				name = "(other sections: data, links, build ID)"
			}
			sizes[name] += sec.Size - owned[i]
		}
	}
	return sizes, loaded, nil
}

// loadedFromFile says whether the program loads sec's bytes from the file.
func loadedFromFile(sec *elf.Section) bool {
	return sec.Flags&elf.SHF_ALLOC != 0 && sec.Type != elf.SHT_NOBITS
}

// owner is the package a symbol belongs to: its name, less the linker's
// prefixes (go:itab., type:, *, parentheses), starts with the package's
// path and a dot.
func owner(name string, pkgs []string) string {
	for _, pre := range []string{"go:itab.", "type:", "go:"} {
		name = strings.TrimPrefix(name, pre)
	}
	name = strings.TrimLeft(name, "*(")
	name = strings.TrimPrefix(name, "vendor/")
	for _, p := range pkgs {
		if strings.HasPrefix(name, p+".") || strings.HasPrefix(name, "vendor/"+p+".") {
			return p
		}
	}
	return ""
}

// table prints the sizes, largest first: top modules, then the rest.
func table(w io.Writer, sizes map[string]uint64, total uint64, top int) {
	names := make([]string, 0, len(sizes))
	for m := range sizes {
		names = append(names, m)
	}
	sort.Slice(names, func(i, j int) bool {
		if sizes[names[i]] != sizes[names[j]] {
			return sizes[names[i]] > sizes[names[j]]
		}
		return names[i] < names[j]
	})
	fmt.Fprintln(w, "| module | bytes | share |")
	fmt.Fprintln(w, "| --- | ---: | ---: |")
	var rest uint64
	for i, m := range names {
		if i >= top {
			rest += sizes[m]
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %.1f%% |\n", m, sizes[m], 100*float64(sizes[m])/float64(total))
	}
	if rest > 0 {
		fmt.Fprintf(w, "| %d other modules | %d | %.1f%% |\n", len(names)-top, rest, 100*float64(rest)/float64(total))
	}
	fmt.Fprintf(w, "| **what the program loads** | %d | 100%% |\n", total)
}
