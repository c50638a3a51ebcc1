package bsdiff

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// The diff's index of the old file: a sparse suffix array. bsdiff's own
// (qsufsort) holds two machine words per byte of the old file, 16 times
// its size; this one holds a 4-byte position for every indexStep-th byte,
// 0.8 times the old file's size. A match that starts between two indexed
// positions is found a few bytes later, at the next one, and the diff's
// backward extension takes back the bytes before it: on executables the
// patches are within 2% of bsdiff's (docs/benchmarks.md, issue 21). 5, not
// 4: as large as 4's on aktual's builds, 5 MB less for 23.5 MB, and an odd
// step meets every alignment of 4- and 8-byte fields; 8 made aktual's
// patch 3% larger.
const (
	indexStep = 5
	// sortDepth bounds how far two suffixes are compared: past it they
	// count as equal, so a long run of one byte sorts in n log n
	// comparisons of sortDepth bytes, not of the run's length. Entries
	// that tie all match at least this long, a match the diff takes
	// whichever it finds.
	sortDepth = 256
	// maxOldSize: positions are 32-bit.
	maxOldSize = 1<<32 - 1
)

// sparseIndex holds the positions of old that are multiples of
// indexStep, ordered by the suffix of old that starts there (its first
// sortDepth bytes; ties by position).
type sparseIndex struct {
	old []byte
	pos []uint32
	// bucket[b] is where the suffixes starting with the two bytes b
	// begin in pos: a search starts there, and in unmatched data (where
	// bsdiff searches at every byte) does a few steps, not 23.
	bucket []int32
}

// newSparseIndex sorts old's indexed suffixes: a counting sort on their
// first two bytes, then each bucket sorted apart, on all cores.
func newSparseIndex(old []byte) *sparseIndex {
	n := (len(old) + indexStep - 1) / indexStep
	pos := make([]uint32, n)
	start := make([]int, 1<<16+1)
	for i := 0; i < len(old); i += indexStep {
		start[bucketOf(old, i)+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	next := slices.Clone(start[:1<<16])
	for i := 0; i < len(old); i += indexStep {
		b := bucketOf(old, i)
		pos[next[b]] = uint32(i)
		next[b]++
	}
	sortBuckets(old, pos, start)
	bucket := make([]int32, len(start))
	for b, v := range start {
		bucket[b] = int32(v) // the file is at most 4 GiB: 1 Gi entries
	}
	return &sparseIndex{old: old, pos: pos, bucket: bucket}
}

// bucketOf is the first two bytes of old[i:], a suffix of one byte
// before all longer ones that start with that byte.
func bucketOf(old []byte, i int) int {
	if i+1 < len(old) {
		return int(old[i])<<8 | int(old[i+1])
	}
	return int(old[i]) << 8
}

// sortBuckets sorts each bucket of pos (bounded by start) by suffix, on
// all cores, handing out runs of buckets of some thousands of entries
// (most buckets of an executable hold a handful).
func sortBuckets(old []byte, pos []uint32, start []int) {
	var wg sync.WaitGroup
	work := make(chan [2]int, 64)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for r := range work {
				for b := r[0]; b < r[1]; b++ {
					sortBucket(old, pos[start[b]:start[b+1]])
				}
			}
		})
	}
	const run = 1 << 12
	from := 0
	for b := range len(start) - 1 {
		if start[b+1]-start[from] >= run || b == len(start)-2 {
			work <- [2]int{from, b + 1}
			from = b + 1
		}
	}
	close(work)
	wg.Wait()
}

func sortBucket(old []byte, b []uint32) {
	if len(b) < 2 {
		return
	}
	slices.SortFunc(b, func(x, y uint32) int {
		if c := comparePrefix(old[x:], old[y:], sortDepth); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
}

// search finds a longest match of nb's start among the indexed suffixes:
// the old file's position and the match's length (0, 0 when none).
func (x *sparseIndex) search(nb []byte) (pos, n int) {
	lo, hi := 0, len(x.pos)
	if len(nb) >= 2 {
		// A match of two bytes or more is in nb's bucket; when the
		// bucket is empty, the whole index holds the best of one byte.
		b := int(nb[0])<<8 | int(nb[1])
		if l, h := int(x.bucket[b]), int(x.bucket[b+1]); l < h {
			lo, hi = l, h
		}
	}
	if lo == hi {
		return 0, 0
	}
	i := lo + sort.Search(hi-lo, func(i int) bool {
		return comparePrefix(x.old[x.pos[lo+i]:], nb, sortDepth) >= 0
	})
	// The longest match is next to where nb would sort: just before or
	// at it.
	for _, j := range [2]int{i - 1, i} {
		if j < lo || j >= hi {
			continue
		}
		p := int(x.pos[j])
		if m := matchLen(x.old[p:], nb); m > n {
			pos, n = p, m
		}
	}
	return pos, n
}

// comparePrefix compares a and b as bytes.Compare does, but over their
// first depth bytes only.
func comparePrefix(a, b []byte, depth int) int {
	n := min(len(a), len(b), depth)
	if c := bytes.Compare(a[:n], b[:n]); c != 0 || n == depth {
		return c
	}
	return cmp.Compare(len(a), len(b))
}

// matchLen is the length of a's and b's common prefix.
func matchLen(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}
