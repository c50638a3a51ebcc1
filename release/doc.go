// Package release holds what a vendor's release runs besides goreleaser:
// the shell scripts beside this file (authenticode-sign signs the Windows
// binaries, .goreleaser.yaml's post-build hook calls it) and the Go tests that
// run them against the real tools. It has no code of its own to import.
package release
