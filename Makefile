# The commands README.md gives; .ci/run calls `make test`.
GO ?= go
# go.mod names the toolchain (a patch release with the standard library's
# security fixes); fetch it through the module proxy when the machine's Go is
# older (some images pin GOTOOLCHAIN=local in go.env).
export GOTOOLCHAIN ?= auto
PLATFORMS := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64
# Seconds of each fuzz target: short in make test, long in make test-full.
FUZZTIME ?= 2s
FUZZTIME_FULL ?= 45s
# Rounds of the crash soak (kill -9 of client and server at random steps).
SOAK_ROUNDS ?= 200
SOAK_ROUNDS_FULL ?= 1000
# Rounds of the folder crash soak (a 200-file program folder installed,
# then updated under the same kills; about a second a round on 2 cores).
FOLDER_SOAK_ROUNDS ?= 20
FOLDER_SOAK_ROUNDS_FULL ?= 150
# The module's root package: the end-to-end tests, which run the real
# aktual and aktuald as processes (testscript).
E2E_PKG := github.com/aktual/aktual

.PHONY: test test-full test-windows deps lint vuln unit e2e e2e-race soak cross fuzz demo release-config release-check

## test: what CI checks on every change, in a few minutes (README.md, "Tests")
test: deps lint vuln unit e2e soak fuzz

## test-full: the long checks .ci/run adds after make test: the release
## snapshot (goreleaser's cold build takes most of it), the end-to-end tests
## under the race detector, the crash soaks at SOAK_ROUNDS_FULL and
## FOLDER_SOAK_ROUNDS_FULL rounds and
## each fuzz target for FUZZTIME_FULL
test-full: release-check e2e-race
	$(MAKE) soak SOAK_ROUNDS=$(SOAK_ROUNDS_FULL) FOLDER_SOAK_ROUNDS=$(FOLDER_SOAK_ROUNDS_FULL)
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME_FULL)

## test-windows: the Windows test binaries of every package the installer
## runs on Windows, run under Wine (.ci/wine/test-windows; docs/windows.md)
test-windows:
	bash .ci/wine/test-windows

## deps: what the tests need beyond Go: a headless Chromium for the
## Internet-code page (Debian's package; installed when run as root)
deps:
	@if command -v chromium >/dev/null || [ -n "$$AKTUAL_CHROMIUM" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "the browser tests need Chromium: install it (e.g. sudo apt-get install chromium) or set AKTUAL_CHROMIUM"; exit 1; \
	fi

# staticcheck, built through the module proxy like goreleaser and
# govulncheck: v0.8.2 is the newest the proxy serves us, and it supports Go
# 1.26. Its checks are the defaults (staticcheck.conf, if any, says why not).
STATICCHECK_VERSION := v0.8.2
# go vet sees only the files of one GOOS: each platform's build-tagged files
# are vetted under their own.
VET_GOOS := linux windows darwin

## lint: go.mod tidy, gofmt, go vet for each of VET_GOOS, staticcheck
lint:
	@$(GO) mod tidy -diff >/dev/null 2>&1 || { echo "go.mod or go.sum is not tidy: run go mod tidy; it would change:"; $(GO) mod tidy -diff; exit 1; }
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@for goos in $(VET_GOOS); do echo "go vet ($$goos)"; GOOS=$$goos $(GO) vet ./... || exit 1; done
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# govulncheck, and the snapshot of the Go vulnerability database it checks
# against: golang.org/x/vulndb at a commit (it has no tags), fetched through the
# module proxy because CI cannot reach vuln.go.dev. A snapshot goes stale; bump
# both as docs/security.md says.
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018

## vuln: govulncheck ./... offline, against the pinned database snapshot
vuln:
	db=$$(mktemp -d) && trap 'rm -rf "$$db"' EXIT && \
	$(GO) run ./internal/tools/vulndb -go '$(GO)' -version $(VULNDB_VERSION) -out "$$db" && \
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db "file://$$db" ./...

## unit: every package but the end-to-end one under the race detector,
## packages side by side (go test's default, one per core)
unit:
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -vx '$(E2E_PKG)')

## e2e: the end-to-end tests without the race detector: they run the real
## programs as processes, and a race-instrumented test binary started once
## per command took four minutes of a make test; the race detector watches
## the same code in unit, in-process, and in e2e-race
e2e:
	$(GO) test -count=1 -timeout 30m $(E2E_PKG)

## e2e-race: the end-to-end tests under the race detector (make test-full)
e2e-race:
	$(GO) test -race -count=1 -timeout 30m $(E2E_PKG)

## soak: the crash soaks at full size, a single file's and a program
## folder's; one line a round, then the figures
soak:
	AKTUAL_SOAK_ROUNDS=$(SOAK_ROUNDS) AKTUAL_FOLDER_SOAK_ROUNDS=$(FOLDER_SOAK_ROUNDS) $(GO) test -count=1 -timeout 30m -run '^(TestSoak|TestFolderSoak)$$' -v ./crashtest/

## cross: every supported platform builds with CGO off (not in make test:
## lint vets each OS's files and test-full's release-check builds all twelve)
cross:
	@for p in $(PLATFORMS); do \
		echo "build $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/aktual ./cmd/aktuald || exit 1; \
	done

# goreleaser, built from source through the module proxy: CI reaches no
# GitHub downloads, and the npm package @goreleaser/goreleaser fetches its
# binary from GitHub when installed. v2.16.0 is the newest whose whole
# dependency tree the proxy serves us (v2.17 adds go.digitalxero.dev/go-msix)
# and whose go line our toolchain meets (v2.18 needs Go 1.27). A first run
# downloads about 2 GB of modules and compiles for minutes; later runs start
# from the build cache in seconds.
GORELEASER_VERSION := v2.16.0
GORELEASER := $(GO) run github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
# aktual and aktuald for each of PLATFORMS, as .goreleaser.yaml builds them.
RELEASE_BINARIES := $(words $(PLATFORMS) $(PLATFORMS))

## release-config: goreleaser check of .goreleaser.yaml
release-config:
	$(GORELEASER) check

## release-check: release-config, then a snapshot release (README.md,
## "Releases") into a temporary folder: both programs for every platform
## (12 binaries), an archive per platform and the checksums, and the
## linux/amd64 aktual reports the stamped version and commit; it is the
## cross-compilation check CI runs (see cross for a quicker one). A clone
## without a remote gets one in the environment only:
## without it goreleaser stamps the commit "none".
## The Windows binaries are Authenticode-signed with a throwaway certificate
## (release/authenticode-test-cert; any AKTUAL_AUTHENTICODE_* of the caller
## is set aside), and release/dist_test.go then checks each with osslsigncode
## verify and that the zip archives hold the signed copies.
release-check: release-config
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	{ cat .goreleaser.yaml; echo "dist: $$tmp/dist"; } >"$$tmp/goreleaser.yaml" && \
	if [ -z "$$(git remote)" ]; then \
		export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/aktual/aktual.git; \
	fi && \
	bash release/authenticode-test-cert "$$tmp/cert" && \
	unset AKTUAL_AUTHENTICODE_KEY AKTUAL_AUTHENTICODE_PASSWORD AKTUAL_AUTHENTICODE_TIMESTAMP AKTUAL_AUTHENTICODE_URL && \
	export AKTUAL_AUTHENTICODE_CERT="$$tmp/cert/signer.p12" AKTUAL_AUTHENTICODE_PASSWORD_FILE="$$tmp/cert/password" \
		AKTUAL_AUTHENTICODE_CAFILE="$$tmp/cert/ca.pem" && \
	$(GORELEASER) release --snapshot --clean --config "$$tmp/goreleaser.yaml" && \
	bins=$$(find "$$tmp/dist" -type f \( -name aktual -o -name aktuald -o -name aktual.exe -o -name aktuald.exe \) | wc -l) && \
	archives=$$(ls "$$tmp"/dist/*.tar.gz "$$tmp"/dist/*.zip | wc -l) && \
	if [ "$$bins" -ne $(RELEASE_BINARIES) ] || [ "$$archives" -ne $(words $(PLATFORMS)) ] || [ ! -s "$$tmp/dist/checksums.txt" ]; then \
		echo "release-check: $$bins binaries (want $(RELEASE_BINARIES)), $$archives archives (want $(words $(PLATFORMS))), checksums.txt:"; cat "$$tmp/dist/checksums.txt"; exit 1; \
	fi && \
	version=$$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "$$tmp/dist/metadata.json") && \
	commit=$$(git rev-parse HEAD) && \
	out=$$("$$tmp"/dist/aktual_linux_amd64*/aktual version) && echo "$$out" && \
	if [ "$$(echo "$$out" | head -n 1)" != "aktual $$version" ] || ! echo "$$out" | grep -qF "$$commit"; then \
		echo "release-check: the linux/amd64 aktual does not report version $$version and commit $$commit"; exit 1; \
	fi && \
	AKTUAL_RELEASE_DIST="$$tmp/dist" $(GO) test -count=1 -v -run '^TestReleaseDistIsSigned$$' ./release/ && \
	echo "release-check: $$bins binaries, $$archives archives, checksums; aktual $$version at $$commit; the Windows binaries signed"

## fuzz: each fuzz target for FUZZTIME (go test -fuzz takes one target per
## run), two at a time with one worker each (.ci/fuzz). On a loaded machine
## go's fuzzer sometimes ends a clean run with "context deadline exceeded"
## and no failing input (its own time limit racing a worker): that run is
## repeated once; a real finding fails at once.
fuzz:
	GO='$(GO)' bash .ci/fuzz $(FUZZTIME)

demo:
	$(GO) run ./cmd/aktual demo

## bench: the benchmark suite of issue 8 (docs/benchmarks.md): one table of
## figures against curl, nginx and pgbench; BENCH_FLAGS=--quick for a short run
.PHONY: bench
bench:
	bash bench/run $(BENCH_FLAGS)
