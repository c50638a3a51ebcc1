package clock

import (
	"testing"
	"time"
)

func TestNilIsTheWallClock(t *testing.T) {
	var f Func
	before := time.Now()
	got := f.Now()
	if got.Before(before) || got.After(time.Now()) {
		t.Fatalf("nil Func: %v is not between %v and now", got, before)
	}
	if f.UTC().Location() != time.UTC {
		t.Fatal("UTC is not in UTC")
	}
}

func TestSetIsUsed(t *testing.T) {
	at := time.Date(2026, 12, 7, 15, 0, 0, 0, time.FixedZone("EET", 2*3600))
	f := Func(func() time.Time { return at })
	if !f.Now().Equal(at) || f.UTC().Location() != time.UTC || !f.UTC().Equal(at) {
		t.Fatalf("Now %v, UTC %v; want %v", f.Now(), f.UTC(), at)
	}
}
