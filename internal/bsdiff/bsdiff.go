// Package bsdiff owns the bsdiff 4 patch format, both halves: Diff makes a
// patch (the server, at publish) and Apply applies one, streaming (the
// client). A program that calls only Apply links no Diff.
//
// Diff is bsdiff 4.3's algorithm (matches found in a suffix array of the
// old file, extended both ways while more bytes match than differ, the
// differences sent as a mostly-zero diff stream that bzip2 packs well:
// what executables need, where a small change shifts addresses all over),
// with an index of a fifth of the old file's positions, so that making a
// patch holds about 3 times the file's size, where bsdiff's qsufsort held
// 21 (docs/benchmarks.md, issue 21).
package bsdiff
