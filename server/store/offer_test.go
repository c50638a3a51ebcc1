package store

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/aktual/aktual/api"
)

func control(version string, edit func(*ReleaseControl)) ReleaseControl {
	c := DefaultControl("acme", version)
	if edit != nil {
		edit(&c)
	}
	return c
}

func offeredVersion(t *testing.T, rs []Release, cs []ReleaseControl, q OfferQuery) string {
	t.Helper()
	o, err := Select(rs, cs, q)
	if err != nil {
		t.Fatal(err)
	}
	if o.Release == nil {
		return ""
	}
	return o.Release.Version
}

// The rollout reaches its share of 10,000 simulated machines within one
// point, the same machines at every check, more of them (a superset) as
// the percent grows, and none once halted.
func TestRolloutShareStableAndHalted(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("2.0.0", 2)}
	const machines = 10000
	var prev map[int]bool
	for _, pct := range []int{5, 10, 25, 50, 100} {
		cs := []ReleaseControl{control("2.0.0", func(c *ReleaseControl) { c.Percent = pct })}
		in := map[int]bool{}
		for m := range machines {
			q := OfferQuery{Bucket: api.RolloutBucket("acme", fmt.Sprintf("machine-%d", m))}
			got := offeredVersion(t, rs, cs, q)
			if again := offeredVersion(t, rs, cs, q); again != got {
				t.Fatalf("machine %d: %s then %s at %d%%", m, got, again, pct)
			}
			if got == "2.0.0" {
				in[m] = true
			}
		}
		share := 100 * float64(len(in)) / machines
		if math.Abs(share-float64(pct)) > 1 {
			t.Errorf("rollout at %d%% reached %.2f%% of %d machines", pct, share, machines)
		}
		for m := range prev {
			if !in[m] {
				t.Fatalf("machine %d was in at the smaller percent and is out at %d%%", m, pct)
			}
		}
		prev = in
		t.Logf("rollout %3d%%: %.2f%% of %d machines", pct, share, machines)
	}
	for _, state := range []string{ControlHalted, ControlYanked} {
		cs := []ReleaseControl{control("2.0.0", func(c *ReleaseControl) { c.State = state })}
		for m := range machines {
			q := OfferQuery{Bucket: api.RolloutBucket("acme", fmt.Sprintf("machine-%d", m)), Force: m%2 == 0}
			if got := offeredVersion(t, rs, cs, q); got != "1.0.0" {
				t.Fatalf("a %s release offered: machine %d got %s", state, m, got)
			}
		}
	}
}

// A machine's place in one product's rollout says nothing of another's.
func TestRolloutBucketIndependentOfProduct(t *testing.T) {
	same := 0
	for m := range 10000 {
		id := fmt.Sprintf("machine-%d", m)
		if (api.RolloutBucket("acme", id) < 1000) == (api.RolloutBucket("ledger", id) < 1000) {
			same++
		}
	}
	// Independent 10% rollouts agree on 0.1·0.1 + 0.9·0.9 = 82% of machines.
	if same < 8000 || same > 8400 {
		t.Errorf("two products' 10%% rollouts agree on %d of 10000 machines, want about 8200", same)
	}
}

func TestSelectRolloutDecision(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("2.0.0", 2)}
	cs := []ReleaseControl{control("2.0.0", func(c *ReleaseControl) { c.Percent = 10 })}
	out, err := Select(rs, cs, OfferQuery{Bucket: 9999})
	if err != nil || out.Release.Version != "1.0.0" || out.Rollout == nil || out.Rollout.Reached || out.Rollout.Version != "2.0.0" {
		t.Fatalf("outside the rollout: %+v %+v %v", out.Release, out.Rollout, err)
	}
	if !slices.Equal(out.Withheld, []string{"2.0.0"}) {
		t.Errorf("withheld %v", out.Withheld)
	}
	out, _ = Select(rs, cs, OfferQuery{Bucket: 9999, Force: true})
	if out.Release.Version != "2.0.0" || !out.Rollout.Forced || !out.Rollout.Reached {
		t.Errorf("forced: %+v %+v", out.Release, out.Rollout)
	}
	out, _ = Select(rs, cs, OfferQuery{Bucket: 5})
	if out.Release.Version != "2.0.0" || out.Rollout.Forced || out.Withheld != nil {
		t.Errorf("inside: %+v %+v %v", out.Release, out.Rollout, out.Withheld)
	}
	if got := offeredVersion(t, rs, cs, OfferQuery{Bucket: -1}); got != "1.0.0" {
		t.Errorf("no machine identity: offered %s", got)
	}
	critical := []ReleaseControl{control("2.0.0", func(c *ReleaseControl) { c.Percent, c.Critical = 10, true })}
	if out, _ := Select(rs, critical, OfferQuery{Bucket: 9999}); out.Release.Version != "2.0.0" || out.Rollout != nil || !out.Control.Critical {
		t.Errorf("a critical release is staged: %+v %+v", out.Release, out.Rollout)
	}
}

func TestSelectChannels(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("1.1.0", 2), plain("2.0.0-beta.1", 3), plain("1.2.0", 4)}
	cs := []ReleaseControl{
		control("1.1.0", func(c *ReleaseControl) { c.Channels = []string{"beta"} }),
		control("2.0.0-beta.1", func(c *ReleaseControl) { c.Channels = []string{"beta"} }),
	}
	if got := offeredVersion(t, rs, cs, OfferQuery{}); got != "1.2.0" {
		t.Errorf("stable: %s", got)
	}
	if got := offeredVersion(t, rs, cs, OfferQuery{Channel: "beta"}); got != "2.0.0-beta.1" {
		t.Errorf("beta: %s", got)
	}
	if got := offeredVersion(t, rs, cs, OfferQuery{Channel: "nightly"}); got != "1.2.0" {
		t.Errorf("a channel with no releases of its own gets stable: %s", got)
	}
	// A pre-release published to stable is never offered on it.
	pre := []Release{plain("1.0.0", 1), plain("2.0.0-rc.1", 2)}
	if got := offeredVersion(t, pre, nil, OfferQuery{Channel: "beta"}); got != "1.0.0" {
		t.Errorf("a stable pre-release offered to beta: %s", got)
	}
}

func TestSelectRequiresOnePaidUpdate(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("2.0.0", 2), plain("3.0.0", 10)}
	cs := []ReleaseControl{control("3.0.0", func(c *ReleaseControl) { c.Requires = "2.0.0" })}
	paths := func(ends ...string) func() ([]string, error) {
		return func() ([]string, error) { return ends, nil }
	}
	out, err := Select(rs, cs, OfferQuery{From: "1.0.0", Bucket: -1, Paths: paths()})
	if err != nil || out.Release.Version != "2.0.0" || out.Path == nil || out.Path.To != "3.0.0" || out.Path.Free {
		t.Fatalf("from 1.0.0: %+v path %+v %v", out.Release, out.Path, err)
	}
	// The first step was paid with the path recorded: the rest is free.
	out, _ = Select(rs, cs, OfferQuery{From: "2.0.0", Bucket: -1, Paths: paths("3.0.0")})
	if out.Release.Version != "3.0.0" || out.Path == nil || !out.Path.Free || out.Path.To != "3.0.0" {
		t.Errorf("from 2.0.0 after the paid step: %+v path %+v", out.Release, out.Path)
	}
	// 2.0.0 bought as an ordinary update (no path recorded): 3.0.0 is
	// an ordinary paid update.
	out, _ = Select(rs, cs, OfferQuery{From: "2.0.0", Bucket: -1, Paths: paths()})
	if out.Release.Version != "3.0.0" || out.Path != nil {
		t.Errorf("from 2.0.0 bought earlier: %+v path %+v", out.Release, out.Path)
	}
	// A path already travelled gives nothing more.
	if out, _ := Select(append(rs, plain("4.0.0", 20)), cs, OfferQuery{From: "3.0.0", Bucket: -1, Paths: paths("3.0.0")}); out.Path != nil {
		t.Errorf("from 3.0.0, the path to 3.0.0 done: %+v path %+v", out.Release, out.Path)
	}
	// Unknown installed version: the requirement cannot be applied.
	if got := offeredVersion(t, rs, cs, OfferQuery{Bucket: -1}); got != "3.0.0" {
		t.Errorf("unknown from: %s", got)
	}
	boom := errors.New("store down")
	if _, err := Select(rs, cs, OfferQuery{From: "2.0.0", Bucket: -1, Paths: func() ([]string, error) { return nil, boom }}); !errors.Is(err, boom) {
		t.Errorf("a failed read of the paid paths: %v", err)
	}
}

// Two required steps (4 requires 3, 3 requires 2) still cost one update.
func TestSelectRequiresChain(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("2.0.0", 2), plain("3.0.0", 3), plain("4.0.0", 4)}
	cs := []ReleaseControl{
		control("3.0.0", func(c *ReleaseControl) { c.Requires = "2.0.0" }),
		control("4.0.0", func(c *ReleaseControl) { c.Requires = "3.0.0" }),
	}
	var paid []string
	paths := func() ([]string, error) { return paid, nil }
	for _, tc := range []struct{ from, want string }{{"1.0.0", "2.0.0"}, {"2.0.0", "3.0.0"}, {"3.0.0", "4.0.0"}} {
		out, err := Select(rs, cs, OfferQuery{From: tc.from, Bucket: -1, Paths: paths})
		if err != nil || out.Release.Version != tc.want || out.Path == nil || out.Path.To != "4.0.0" {
			t.Fatalf("from %s: %+v path %+v %v", tc.from, out.Release, out.Path, err)
		}
		if free := tc.from != "1.0.0"; out.Path.Free != free {
			t.Errorf("from %s: free %v, want %v", tc.from, out.Path.Free, free)
		}
		if !out.Path.Free {
			paid = append(paid, out.Path.To) // the paid first step, recorded
		}
	}
}

// An ordinary purchase made while the release that requires a version
// was not offered to the machine (staged away, halted, another channel's)
// is not a step of its path: nothing later is free.
func TestSelectPurchaseIsNotAStep(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("2.0.0", 2), plain("2.1.0", 3), plain("3.0.0", 4)}
	for name, hide := range map[string]func(*ReleaseControl){
		"staged":  func(c *ReleaseControl) { c.Percent = 0 },
		"halted":  func(c *ReleaseControl) { c.State = ControlHalted },
		"channel": func(c *ReleaseControl) { c.Channels = []string{"beta"} },
	} {
		cs := []ReleaseControl{control("3.0.0", func(c *ReleaseControl) { c.Requires = "2.0.0"; hide(c) })}
		out, _ := Select(rs, cs, OfferQuery{From: "1.0.0", Bucket: 5000})
		if out.Release.Version != "2.1.0" || out.Path != nil {
			t.Fatalf("%s: from 1.0.0 %+v path %+v, want 2.1.0 as an ordinary update", name, out.Release, out.Path)
		}
		// 3.0.0 offered later: the purchase recorded no path.
		out, _ = Select(rs, []ReleaseControl{control("3.0.0", func(c *ReleaseControl) { c.Requires = "2.0.0" })},
			OfferQuery{From: "2.1.0", Bucket: 5000, Paths: func() ([]string, error) { return nil, nil }})
		if out.Release.Version != "3.0.0" || out.Path != nil {
			t.Errorf("%s: from 2.1.0 %+v path %+v, want an ordinary paid update", name, out.Release, out.Path)
		}
	}
}

// A broken path (the required version halted) promises nothing: the
// release offered is an ordinary update, paid as one.
func TestSelectBrokenPathPromisesNothing(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("1.5.0", 2), plain("2.0.0", 3), plain("3.0.0", 4)}
	cs := []ReleaseControl{
		control("2.0.0", func(c *ReleaseControl) { c.State = ControlHalted }),
		control("3.0.0", func(c *ReleaseControl) { c.Requires = "2.0.0" }),
	}
	out, _ := Select(rs, cs, OfferQuery{From: "1.0.0", Bucket: -1})
	if out.Release.Version != "1.5.0" || out.Path != nil {
		t.Errorf("from 1.0.0: %+v path %+v, want 1.5.0 with no path", out.Release, out.Path)
	}
}

func TestControlValidate(t *testing.T) {
	bad := []func(*ReleaseControl){
		func(c *ReleaseControl) { c.Percent = 101 },
		func(c *ReleaseControl) { c.Percent = -1 },
		func(c *ReleaseControl) { c.State = "paused" },
		func(c *ReleaseControl) { c.Requires = "3.0.0" },
		func(c *ReleaseControl) { c.Requires = "2.0.0" },
		func(c *ReleaseControl) { c.Channels = nil },
		func(c *ReleaseControl) { c.Channels = []string{"be ta"} },
		func(c *ReleaseControl) { c.BrakeRate = 120 },
	}
	for i, edit := range bad {
		if err := control("2.0.0", edit).Validate(); !errors.Is(err, ErrControl) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	if err := control("2.0.0", func(c *ReleaseControl) { c.Requires = "1.5.0"; c.Channels = ParseChannels("beta, stable,beta") }).Validate(); err != nil {
		t.Error(err)
	}
	if got := ParseChannels(" beta, stable,beta"); !slices.Equal(got, []string{"beta", "stable"}) {
		t.Errorf("ParseChannels: %v", got)
	}
}

// The machine's paid paths are read only when a required version could
// make the release offered a free step: never for a product without
// requirements (the latest answer to most installers), never for a step
// beyond every required version.
func TestSelectAsksPaidPathsOnlyWhenAPathCouldCover(t *testing.T) {
	rs := []Release{plain("1.0.0", 1), plain("2.0.0", 2), plain("3.0.0", 10), plain("4.0.0", 20)}
	asked := 0
	q := func(from string) OfferQuery {
		return OfferQuery{From: from, Bucket: -1, Paths: func() ([]string, error) { asked++; return nil, nil }}
	}
	if _, err := NewCatalog(rs, nil).Select(q("1.0.0")); err != nil || asked != 0 {
		t.Errorf("no requirements: paths asked %d times (%v)", asked, err)
	}
	cs := []ReleaseControl{control("3.0.0", func(c *ReleaseControl) { c.Requires = "2.0.0" })}
	cat := NewCatalog(rs, cs)
	if _, err := cat.Select(q("3.0.0")); err != nil || asked != 0 {
		t.Errorf("from 3.0.0 to 4.0.0, beyond every path's end: paths asked %d times (%v)", asked, err)
	}
	if _, err := cat.Select(q("1.0.0")); err != nil || asked != 0 {
		t.Errorf("from 1.0.0, offered 4.0.0, which needs no path: paths asked %d times (%v)", asked, err)
	}
	cat = NewCatalog(rs[:3], cs)
	if _, err := cat.Select(q("1.0.0")); err != nil || asked != 1 {
		t.Errorf("from 1.0.0 to 2.0.0, a step a path to 3.0.0 covers: paths asked %d times (%v)", asked, err)
	}
	if _, err := cat.Select(q("2.0.0")); err != nil || asked != 2 {
		t.Errorf("from 2.0.0 to 3.0.0, the path's end: paths asked %d times (%v)", asked, err)
	}
}
