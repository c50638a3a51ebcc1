package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aktual/aktual/server/store"
)

// Release control (issue 20).

func testReleaseControls(t *testing.T, s store.Store) {
	ctx := t.Context()
	cs, err := s.ReleaseControls(ctx, product)
	if err != nil || len(cs) != 0 {
		t.Fatalf("controls of a new store: %v %v", cs, err)
	}
	who := store.Actor{Name: "local:ana", Reason: "first 10%", At: t0}
	if _, err := s.ChangeReleaseControl(ctx, product, "v2.0", "release.publish", who, func(*store.ReleaseControl) error { return nil }); !errors.Is(err, store.ErrControl) {
		t.Errorf("version v2.0: %v", err)
	}
	c, err := s.ChangeReleaseControl(ctx, product, "2.0.0", "release.publish", who, func(c *store.ReleaseControl) error {
		if want := store.DefaultControl(product, "2.0.0"); !slices.Equal(c.Channels, want.Channels) || c.Percent != 100 || c.State != store.ControlLive {
			t.Errorf("a new control starts as %+v, want the default", *c)
		}
		c.Channels, c.Percent, c.Requires, c.BrakeAfter, c.BrakeRate = []string{"beta", "stable"}, 10, "1.5.0", 50, 20
		c.Notes = []byte(`{"signed":"notes"}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "2.0.0" || c.ChangedBy != "local:ana" || !c.ChangedAt.Equal(t0) || c.Reason != "first 10%" {
		t.Errorf("changed control %+v", c)
	}
	cs, err = s.ReleaseControls(ctx, product)
	if err != nil || len(cs) != 1 {
		t.Fatalf("controls: %v %v", cs, err)
	}
	got := cs[0]
	if !slices.Equal(got.Channels, []string{"beta", "stable"}) || got.Percent != 10 || got.Requires != "1.5.0" ||
		got.BrakeAfter != 50 || got.BrakeRate != 20 || string(got.Notes) != `{"signed":"notes"}` || got.Critical ||
		!got.ChangedAt.Equal(t0) || got.State != store.ControlLive {
		t.Errorf("stored control %+v", got)
	}

	// A change refused, or one the store refuses, changes nothing.
	halt := store.Actor{Name: "local:ana", At: t0.Add(time.Hour)}
	mine := errors.New("refused")
	if _, err := s.ChangeReleaseControl(ctx, product, "2.0.0", "release.halt", halt, func(c *store.ReleaseControl) error {
		c.State = store.ControlHalted
		return mine
	}); !errors.Is(err, mine) {
		t.Errorf("refused change: %v", err)
	}
	if _, err := s.ChangeReleaseControl(ctx, product, "2.0.0", "release.rollout", halt, func(c *store.ReleaseControl) error {
		c.Percent = 150
		return nil
	}); !errors.Is(err, store.ErrControl) {
		t.Errorf("a rollout of 150%%: %v", err)
	}
	if _, err := s.ChangeReleaseControl(ctx, product, "3.0.0", "release.halt", store.Actor{}, func(*store.ReleaseControl) error { return nil }); err == nil {
		t.Error("a change without an actor was stored")
	}
	if cs, _ := s.ReleaseControls(ctx, product); len(cs) != 1 || cs[0].State != store.ControlLive || cs[0].Percent != 10 {
		t.Errorf("after refused changes: %+v", cs)
	}

	c, err = s.ChangeReleaseControl(ctx, product, "2.0.0", "release.halt", halt, func(c *store.ReleaseControl) error {
		c.State, c.Critical, c.Notes = store.ControlHalted, true, nil
		return nil
	})
	if err != nil || c.State != store.ControlHalted || !c.Critical || c.Notes != nil || c.Percent != 10 {
		t.Fatalf("halted: %+v %v", c, err)
	}
	wantControlEvents(t, s)
	if other, _ := s.ReleaseControls(ctx, "other"); len(other) != 0 {
		t.Errorf("another product's controls: %+v", other)
	}
}

// wantControlEvents checks the audit events testReleaseControls made.
func wantControlEvents(t *testing.T, s store.Store) {
	t.Helper()
	events, _, err := s.Events(t.Context(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+": "+e.Detail)
	}
	want := []string{
		"release.halt: " + product + " 2.0.0: state live → halted; critical false → true; notes changed",
		"release.publish: " + product + " 2.0.0: channels stable → beta,stable; rollout 100% → 10%; requires  → 1.5.0; brake 0/0% → 50/20%; notes changed",
	}
	if !slices.Equal(actions, want) {
		t.Errorf("audit events:\n%q\nwant\n%q", actions, want)
	}
}

// The paths a machine paid for: recorded with a reservation, counted only
// once it is consumed, that machine's and that product's.
func testPaidPaths(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, c := activatePro(t, s, "Acme", 5)
	first, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if err := s.RecordPathStep(ctx, first.ID, product, "m1", "3.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPathStep(ctx, first.ID, product, "m1", "3.0.0"); err != nil {
		t.Errorf("recorded again: %v", err)
	}
	if got, err := s.PaidPaths(ctx, product, "m1"); err != nil || len(got) != 0 {
		t.Errorf("a held reservation's path counted: %v %v", got, err)
	}
	if _, _, err := s.Complete(ctx, first.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PaidPaths(ctx, product, "m1"); err != nil || !slices.Equal(got, []string{"3.0.0"}) {
		t.Errorf("PaidPaths(m1) = %v, %v", got, err)
	}
	for _, tc := range []struct{ product, machine string }{{"other", "m1"}, {product, "m2"}} {
		if got, err := s.PaidPaths(ctx, tc.product, tc.machine); err != nil || len(got) != 0 {
			t.Errorf("PaidPaths(%s, %s) = %v, %v", tc.product, tc.machine, got, err)
		}
	}
	// Another machine's reservation, an unknown one, a bad version: refused.
	if err := s.RecordPathStep(ctx, first.ID, product, "m2", "3.0.0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another machine's reservation: %v", err)
	}
	if err := s.RecordPathStep(ctx, "r_none", product, "m1", "3.0.0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown reservation: %v", err)
	}
	if err := s.RecordPathStep(ctx, first.ID, product, "m1", "latest"); !errors.Is(err, store.ErrControl) {
		t.Errorf("a path to %q: %v", "latest", err)
	}
}
