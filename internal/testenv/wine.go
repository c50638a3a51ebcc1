package testenv

import "testing"

// SkipUnderWine skips a test that cannot hold under Wine for a reason
// that does not apply to real Windows (why says which), and only there:
// on real Windows and elsewhere the test runs. Every such test is listed
// in docs/windows.md.
func SkipUnderWine(t testing.TB, why string) {
	t.Helper()
	if UnderWine() {
		t.Skip("under Wine only: " + why)
	}
}
