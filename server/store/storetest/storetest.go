// Package storetest is the conformance suite every store.Store backend
// must pass (restic's backend test suite is the model): the same scenarios,
// against real databases, for SQLite and PostgreSQL alike.
//
// After every scenario the suite audits the store and fails on any
// violation, so each test also proves the ledger invariant survived it.
package storetest

import (
	"context"
	"testing"

	"github.com/aktual/aktual/server/store"
)

// Run runs the suite. open must return a new, empty store on each call and
// close it with t.Cleanup; the suite's own cleanup (the final audit) runs
// before that, as cleanups run last-registered first.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { RequireClean(t, s) })
			tc.fn(t, s)
		})
	}
}

// cases are the suite's tests, by name.
var cases = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ActivateProCreates", testActivateProCreates},
	{"ActivateProAddsForSameCustomer", testActivateProAdds},
	{"ActivateClassic", testActivateClassic},
	{"ActivateRejectsBadInput", testActivateRejectsBadInput},
	{"EntitlementLookup", testEntitlementLookup},
	{"Entitlements", testEntitlements},
	{"PutRelease", testPutRelease},
	{"ReleaseQueries", testReleaseQueries},
	{"ResignRelease", testResignRelease},
	{"ArtifactOrigin", testArtifactOrigin},
	{"FolderFiles", testFolderFiles},
	{"ReservationByKey", testReservationByKey},
	{"Installable", testInstallable},
	{"Patches", testPatches},
	{"PatchReplaced", testPatchReplaced},
	{"PatchRefused", testPatchRefused},
	{"ReserveHappyPath", testReserveHappyPath},
	{"ReserveErrors", testReserveErrors},
	{"ReserveIdempotent", testReserveIdempotent},
	{"ReserveIdempotencyMismatch", testReserveIdempotencyMismatch},
	{"Complete", testComplete},
	{"Release", testRelease},
	{"ReleaseAfterComplete", testReleaseAfterComplete},
	{"UnknownReservation", testUnknownReservation},
	{"ExpireSweep", testExpireSweep},
	{"CompleteAfterExpiryRetakes", testCompleteAfterExpiryRetakes},
	{"CompleteAfterReleaseRefused", testCompleteAfterReleaseRefused},
	{"CompleteAfterExpiryOverdraft", testCompleteAfterExpiryOverdraft},
	{"LedgerRecordsEveryChange", testLedger},
	{"TimesAreUTC", testTimesAreUTC},
	{"ConcurrentReserveNeverOversells", testConcurrentReserve},
	{"ConcurrentReserveSameKey", testConcurrentReserveSameKey},
	{"ConcurrentComplete", testConcurrentComplete},
	{"SweepRacesCompletion", testSweepRacesCompletion},
	{"SessionLifecycle", testSessionLifecycle},
	{"SessionYieldsOneReservation", testSessionYieldsOneReservation},
	{"SessionAttemptsLock", testSessionAttemptsLock},
	{"SessionChallengeSingleUse", testSessionChallengeSingleUse},
	// What staff do and who they are (staff_*.go).
	{"ActivateStaff", testActivateStaff},
	{"ActivateStaffIdempotent", testActivateStaffIdempotent},
	{"ActivateStaffConcurrentSameKey", testActivateStaffConcurrentSameKey},
	{"LedgerActors", testLedgerActors},
	{"Customers", testCustomers},
	{"Distributors", testDistributors},
	{"CustomerSearch", testCustomerSearch},
	{"CustomerPagination", testCustomerPagination},
	{"CustomerPageLimit", testCustomerPageLimit},
	{"SetActive", testSetActive},
	{"ReplaceKey", testReplaceKey},
	{"ReissueCode", testReissueCode},
	{"Correct", testCorrect},
	{"StaffAccounts", testStaffAccounts},
	{"TOTPStepUsedOnce", testTOTPStepUsedOnce},
	{"ChangeStaff", testChangeStaff},
	{"DisablingEndsSessions", testDisablingEndsSessions},
	{"StaffSessions", testStaffSessions},
	{"Tokens", testTokens},
	{"Throttle", testThrottle},
	{"ThrottleConcurrent", testThrottleConcurrent},
	{"Events", testEvents},
	{"EventsPageLimit", testEventsPageLimit},
	// Release control (controls.go).
	{"ReleaseControls", testReleaseControls},
	{"PaidPaths", testPaidPaths},
	// What installers report of their attempts (reports.go).
	{"FieldReports", testFieldReports},
	{"FirstAttempts", testFirstAttempts},
}

// RequireClean fails the test for every violation Audit reports.
func RequireClean(t testing.TB, s store.Store) {
	t.Helper()
	// Not t.Context(): it is already cancelled when cleanups run.
	v, err := s.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	for _, x := range v {
		t.Errorf("audit: entitlement %d (%s): %s", x.EntitlementID, x.Customer, x.Problem)
	}
}
