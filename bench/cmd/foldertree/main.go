// Command foldertree writes the two program folders bench/run's folder
// figure (6) publishes: V1, a program of 300×SCALE files and 200×SCALE MiB
// of incompressible bytes, in nested folders, sized as a real program is
// (a few large libraries, some medium ones, many small files), and V2, the
// same folder with five files changed (the program, two libraries, a
// translation, a template: a typical point release). V2's unchanged files
// are hard links to V1's, so writing both costs one folder's bytes.
//
//	foldertree --v1 DIR --v2 DIR [--scale N] [--seed N]
//
// It prints, one a line: "files N", "bytes N", "main PATH", "changed_bytes
// N", and "changed PATH SIZE" for each changed file. The same five files,
// of the same sizes, change at every scale, so that only the folder's size
// differs between the scales.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

const mib = 1 << 20

// The five files a point release changes, present at every scale, with
// the same sizes: 4.5 MiB in all, 2.2% of 200 MiB.
var changedFiles = []file{
	{"Bench.exe", 2560 << 10},
	{"lib/core.dll", 1280 << 10},
	{"plugins/reports/reports.dll", 512 << 10},
	{"lang/bg/bench.qm", 160 << 10},
	{"templates/invoice.rpt", 96 << 10},
}

const mainFile = "Bench.exe"

type file struct {
	path string
	size int64
}

func main() {
	v1 := flag.String("v1", "", "folder to write the first version in (must not exist)")
	v2 := flag.String("v2", "", "folder to write the second version in (must not exist)")
	scale := flag.Int("scale", 1, "the folder is 300×SCALE files and 200×SCALE MiB")
	seed := flag.Uint64("seed", 17, "seed of the sizes and the bytes")
	flag.Parse()
	if *v1 == "" || *v2 == "" || *scale < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: foldertree --v1 DIR --v2 DIR [--scale N] [--seed N]")
		os.Exit(2)
	}
	files := layout(*scale, *seed)
	if err := write(*v1, *v2, files, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "foldertree:", err)
		os.Exit(1)
	}
	var total, changed int64
	for _, f := range files {
		total += f.size
	}
	fmt.Printf("files %d\nbytes %d\nmain %s\n", len(files), total, mainFile)
	for _, f := range changedFiles {
		changed += f.size
	}
	fmt.Printf("changed_bytes %d\n", changed)
	for _, f := range changedFiles {
		fmt.Printf("changed %s %d\n", f.path, f.size)
	}
}

// layout is the folder's files: at scale s, 4s large libraries (40, 28,
// 20, 14 MiB), 16s medium files (log-uniform, 0.5–4 MiB), and the rest
// small (log-uniform, 1–512 KiB) in about 25s nested folders, scaled so
// that the whole is exactly 200s MiB; the five changed files among them.
func layout(s int, seed uint64) []file {
	rng := rand.New(rand.NewPCG(seed, uint64(s)))
	total := int64(200*s) * mib
	nFiles := 300 * s
	var files []file
	var fixed int64
	for _, f := range changedFiles {
		files = append(files, f)
		fixed += f.size
	}
	for i := range 4 * s {
		size := []int64{40, 28, 20, 14}[i%4] * mib
		files = append(files, file{fmt.Sprintf("lib/runtime%02d.dll", i+1), size})
		fixed += size
	}
	logUniform := func(lo, hi float64) float64 {
		return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
	}
	var dirs []string
	for i := range 25 * s {
		switch i % 5 {
		case 0:
			dirs = append(dirs, fmt.Sprintf("plugins/p%02d", i))
		case 1:
			dirs = append(dirs, fmt.Sprintf("resources/icons/set%02d", i))
		case 2:
			dirs = append(dirs, fmt.Sprintf("help/lang%02d/topics", i))
		case 3:
			dirs = append(dirs, fmt.Sprintf("templates/t%02d", i))
		default:
			dirs = append(dirs, fmt.Sprintf("share/data%02d/sub/deep", i))
		}
	}
	var variable []file
	for i := range 16 * s {
		variable = append(variable, file{fmt.Sprintf("lib/module%03d.dll", i+1), int64(logUniform(0.5*mib, 4*mib))})
	}
	for i := 0; len(files)+len(variable) < nFiles; i++ {
		variable = append(variable, file{fmt.Sprintf("%s/f%04d.dat", dirs[i%len(dirs)], i+1), int64(logUniform(1<<10, 512<<10))})
	}
	// Scaled to fill the total; what rounding leaves goes to the first
	// medium file.
	var sum int64
	for _, f := range variable {
		sum += f.size
	}
	k := float64(total-fixed) / float64(sum)
	sum = 0
	for i := range variable {
		variable[i].size = max(1, int64(float64(variable[i].size)*k))
		sum += variable[i].size
	}
	variable[0].size += total - fixed - sum
	files = append(files, variable...)
	slices.SortFunc(files, func(a, b file) int {
		switch {
		case a.path < b.path:
			return -1
		case a.path > b.path:
			return 1
		}
		return 0
	})
	return files
}

// write writes every file into v1, and into v2 a hard link to each (a
// copy where links are refused), but new bytes for the changed files.
func write(v1, v2 string, files []file, seed uint64) error {
	for _, d := range []string{v1, v2} {
		if _, err := os.Lstat(d); err == nil {
			return fmt.Errorf("%s exists", d)
		}
	}
	changed := map[string]bool{}
	for _, f := range changedFiles {
		changed[f.path] = true
	}
	buf := make([]byte, mib)
	for i, f := range files {
		p1 := filepath.Join(v1, filepath.FromSlash(f.path))
		p2 := filepath.Join(v2, filepath.FromSlash(f.path))
		mode := os.FileMode(0o644)
		if f.path == mainFile {
			mode = 0o755
		}
		if err := fill(p1, f.size, mode, rand.NewChaCha8(key(seed, uint64(i), 1)), buf); err != nil {
			return err
		}
		if changed[f.path] {
			if err := fill(p2, f.size, mode, rand.NewChaCha8(key(seed, uint64(i), 2)), buf); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p2), 0o755); err != nil {
			return err
		}
		if err := os.Link(p1, p2); err != nil {
			if err := copyFile(p1, p2, mode); err != nil {
				return errors.Join(err, fmt.Errorf("linking %s", p2))
			}
		}
	}
	return nil
}

func key(seed, i, version uint64) [32]byte {
	var k [32]byte
	for j, v := range []uint64{seed, i, version, 0x666f6c646572} {
		for b := range 8 {
			k[8*j+b] = byte(v >> (8 * b))
		}
	}
	return k
}

func fill(path string, size int64, mode os.FileMode, r io.Reader, buf []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, io.LimitReader(r, size), buf); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
