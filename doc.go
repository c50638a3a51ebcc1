// Package aktual holds the end-to-end tests: testscript scripts
// (testdata/script) and cluster tests that run the real aktual and
// aktuald programs. The code is in cmd/, updater/ and server/
// (docs/architecture.md).
package aktual
