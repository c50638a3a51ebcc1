package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/store"
)

func TestActivatePro(t *testing.T) {
	f := newFixture(t)

	first, err := f.admin.ActivatePro(t.Context(), "Alice GmbH", 5)
	if err != nil {
		t.Fatalf("ActivatePro: %v", err)
	}
	code, err := api.ParseCode(first.Code)
	if err != nil {
		t.Fatalf("the new code %q does not parse: %v", first.Code, err)
	}
	want := admin.Activation{Customer: "Alice GmbH", Series: api.SeriesPro, Code: code.String(), CodeHint: code.LastGroup(),
		Created: true, Added: 5, Counts: admin.Counts{Purchased: 5, Remaining: 5}}
	if first != want {
		t.Errorf("first activation %+v, want %+v", first, want)
	}

	t.Run("again adds to the same code and shows no code", func(t *testing.T) {
		again, err := f.admin.ActivatePro(t.Context(), "Alice GmbH", 3)
		if err != nil {
			t.Fatalf("ActivatePro: %v", err)
		}
		want := admin.Activation{Customer: "Alice GmbH", Series: api.SeriesPro, CodeHint: first.CodeHint,
			Added: 3, Counts: admin.Counts{Purchased: 8, Remaining: 8}}
		if again != want {
			t.Errorf("second activation %+v, want %+v", again, want)
		}
		out, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte(`"code"`)) {
			t.Errorf("second activation's JSON shows a code: %s", out)
		}
	})
	t.Run("the code shows the total however it is typed", func(t *testing.T) {
		for _, typed := range []string{first.Code, string(code), strings.ReplaceAll(first.Code, "-", " "), "  " + first.Code + "\t"} {
			st, err := f.admin.ShowCode(t.Context(), typed)
			if err != nil {
				t.Fatalf("ShowCode(%q): %v", typed, err)
			}
			want := admin.Standing{Customer: "Alice GmbH", Series: api.SeriesPro, CodeHint: first.CodeHint, Active: true,
				Counts: admin.Counts{Purchased: 8, Remaining: 8}}
			if st != want {
				t.Errorf("ShowCode(%q) = %+v, want %+v", typed, st, want)
			}
		}
	})
	t.Run("another customer gets another code", func(t *testing.T) {
		other, err := f.admin.ActivatePro(t.Context(), "Bob AG", 1)
		if err != nil {
			t.Fatalf("ActivatePro: %v", err)
		}
		if !other.Created || other.Code == "" || other.Code == first.Code || other.Purchased != 1 {
			t.Errorf("activation for a new customer %+v, want a new code with 1 update", other)
		}
	})
	t.Run("bounds are accepted", func(t *testing.T) {
		for _, tc := range []struct {
			customer string
			n        int64
		}{
			{"one update", 1},
			{"most updates", 10000},
			{strings.Repeat("c", 200), 1},
		} {
			if _, err := f.admin.ActivatePro(t.Context(), tc.customer, tc.n); err != nil {
				t.Errorf("ActivatePro(%.20q, %d): %v", tc.customer, tc.n, err)
			}
		}
	})
}

func TestActivateRefused(t *testing.T) {
	f := newFixture(t)
	// An existing customer must not be touched by a refused activation.
	code := f.activate(t, "Alice GmbH", 2)
	f.activateClassic(t, "Alice GmbH", "KEY-1", 2)

	for _, tc := range []struct {
		name     string
		customer string
		n        int64
		message  string
	}{
		{"no updates", "Alice GmbH", 0, "updates must be between 1 and 10000"},
		{"negative updates", "Alice GmbH", -1, "updates must be between"},
		{"one too many", "Alice GmbH", 10001, "updates must be between"},
		{"a typo of extra zeros", "Alice GmbH", 1000000, "updates must be between"},
		{"no customer", "", 1, "customer is required"},
		{"blank customer", " \t ", 1, "customer is required"},
		{"customer too long", strings.Repeat("c", 201), 1, "customer is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.standing(t, code)
			for _, series := range []string{api.SeriesPro, api.SeriesClassic} {
				var err error
				if series == api.SeriesPro {
					_, err = f.admin.ActivatePro(t.Context(), tc.customer, tc.n)
				} else {
					_, err = f.admin.ActivateClassic(t.Context(), tc.customer, "KEY-1", tc.n)
				}
				if err == nil || !strings.Contains(err.Error(), tc.message) {
					t.Errorf("%s: error %v, want one saying %q", series, err, tc.message)
				}
			}
			f.wantUnchanged(t, code, before)
			f.wantEntitlements(t, 2)
			f.wantHWKey(t, "KEY-1", admin.Counts{Purchased: 2, Remaining: 2})
		})
	}
}

func (f *fixture) activateClassic(t *testing.T, customer, serial string, n int64) admin.Activation {
	t.Helper()
	act, err := f.admin.ActivateClassic(t.Context(), customer, serial, n)
	if err != nil {
		t.Fatalf("ActivateClassic(%s, %s, %d): %v", customer, serial, n, err)
	}
	return act
}

func (f *fixture) wantEntitlements(t *testing.T, n int) {
	t.Helper()
	rep, err := f.admin.Audit(t.Context())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if rep.Entitlements != n || !rep.OK() {
		t.Errorf("audit %+v, want %d entitlements and no violation", rep, n)
	}
}

func (f *fixture) wantHWKey(t *testing.T, serial string, want admin.Counts) {
	t.Helper()
	st, err := f.admin.ShowHWKey(t.Context(), serial)
	if err != nil {
		t.Fatalf("ShowHWKey(%s): %v", serial, err)
	}
	if st.Counts != want {
		t.Errorf("hardware key %s: %+v, want %+v", serial, st.Counts, want)
	}
}

func TestActivateClassic(t *testing.T) {
	f := newFixture(t)

	first := f.activateClassic(t, "Bob AG", "KEY-0001", 4)
	want := admin.Activation{Customer: "Bob AG", Series: api.SeriesClassic, HWKeySerial: "KEY-0001", Created: true,
		Added: 4, Counts: admin.Counts{Purchased: 4, Remaining: 4}}
	if first != want {
		t.Errorf("first activation %+v, want %+v", first, want)
	}
	again := f.activateClassic(t, "Bob AG", "KEY-0001", 3)
	want = admin.Activation{Customer: "Bob AG", Series: api.SeriesClassic, HWKeySerial: "KEY-0001",
		Added: 3, Counts: admin.Counts{Purchased: 7, Remaining: 7}}
	if again != want {
		t.Errorf("second activation %+v, want %+v", again, want)
	}
	st, err := f.admin.ShowHWKey(t.Context(), "KEY-0001")
	if err != nil {
		t.Fatalf("ShowHWKey: %v", err)
	}
	if st.Customer != "Bob AG" || st.Series != api.SeriesClassic || st.HWKeySerial != "KEY-0001" || !st.Active || st.Purchased != 7 {
		t.Errorf("ShowHWKey = %+v, want Bob AG's active classic key with 7 updates", st)
	}

	t.Run("a second key is a second entitlement", func(t *testing.T) {
		f.activateClassic(t, "Bob AG", "KEY-0002", 1)
		f.wantHWKey(t, "KEY-0002", admin.Counts{Purchased: 1, Remaining: 1})
		f.wantHWKey(t, "KEY-0001", admin.Counts{Purchased: 7, Remaining: 7})
	})
	t.Run("another customer's key is refused", func(t *testing.T) {
		_, err := f.admin.ActivateClassic(t.Context(), "Carol KG", "KEY-0001", 1)
		if err == nil || !strings.Contains(err.Error(), "belongs to another customer") {
			t.Errorf("error %v, want one saying the key belongs to another customer", err)
		}
		f.wantHWKey(t, "KEY-0001", admin.Counts{Purchased: 7, Remaining: 7})
	})
	t.Run("bad serials are refused", func(t *testing.T) {
		for _, serial := range []string{"", "../KEY-0001", "KEY 0001", "-KEY", "KEY/1", strings.Repeat("K", 129)} {
			if _, err := f.admin.ActivateClassic(t.Context(), "Bob AG", serial, 1); err == nil || !strings.Contains(err.Error(), "hwkey") {
				t.Errorf("ActivateClassic(serial %.20q): error %v, want one about the hwkey", serial, err)
			}
		}
		f.wantEntitlements(t, 2)
	})
	t.Run("unknown key", func(t *testing.T) {
		if _, err := f.admin.ShowHWKey(t.Context(), "KEY-9999"); err == nil {
			t.Error("ShowHWKey of an unknown key succeeded")
		}
	})
}

func TestShowCodeRefused(t *testing.T) {
	f := newFixture(t)
	code := f.activate(t, "Alice GmbH", 1)
	unknown, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, typed string
		malformed   bool
		message     string
	}{
		{"empty", "", true, "no update code"},
		{"too short", "12345", true, "5 digits"},
		{"letters", "abcde-" + code[6:], true, "only digits"},
		{"typo in the second group", typo(t, code, 2), true, "second group"},
		{"typo in the fourth group", typo(t, code, 4), true, "fourth group"},
		{"far too long", strings.Repeat("1", 1000), true, "too long"},
		{"never activated", unknown.String(), false, "activate it first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.admin.ShowCode(t.Context(), tc.typed)
			switch {
			case err == nil:
				t.Fatal("ShowCode succeeded")
			case errors.Is(err, api.ErrMalformedCode) != tc.malformed:
				t.Errorf("error %v: malformed is %v, want %v", err, errors.Is(err, api.ErrMalformedCode), tc.malformed)
			case !strings.Contains(err.Error(), tc.message):
				t.Errorf("error %q does not say %q", err, tc.message)
			}
		})
	}
}

func TestAudit(t *testing.T) {
	f := newFixture(t)
	rep, err := f.admin.Audit(t.Context())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if !rep.OK() || rep.Entitlements != 0 || rep.Violations == nil {
		t.Errorf("audit of a fresh instance %+v, want OK with 0 entitlements and an empty list", rep)
	}
	out, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"entitlements":0,"violations":[]}`; string(out) != want {
		t.Errorf("audit JSON %s, want %s", out, want)
	}

	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "Alice GmbH", 3)
	f.activateClassic(t, "Bob AG", "KEY-1", 1)
	id := f.mustReserve(t, code, "app", "k1").Reservation.ID
	f.mustReserve(t, code, "app", "k2")
	decodeOK[api.ReservationResponse](t, f.complete(t, id))
	f.wantEntitlements(t, 2)
}

func TestPublish(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 987654321, time.UTC)
	f := newFixture(t)
	adm := adminAt(f.inst, now)
	data := []byte("the 1.0.0 build")

	st, err := adm.Publish(t.Context(), admin.PublishParams{
		Product: "app", Series: api.SeriesPro, Version: "1.0.0", OS: "linux", Arch: "amd64", File: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	want := api.ReleaseStatement{Product: "app", Series: api.SeriesPro, Version: "1.0.0", OS: "linux", Arch: "amd64",
		SHA256: sha256Hex(data), Size: int64(len(data)), PublishedAt: now.Truncate(time.Second)}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Publish = %+v, want %+v", st, want)
	}
	// What is stored is the signed statement, as the client will see it.
	stored := f.releases(t, "app", "linux", "amd64")
	if len(stored) != 1 {
		t.Fatalf("%d releases stored, want 1", len(stored))
	}
	var env api.Envelope
	if err := api.DecodeStrict(stored[0].Envelope, &env); err != nil {
		t.Fatalf("stored envelope: %v", err)
	}
	var signed api.ReleaseStatement
	if err := env.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &signed); err != nil {
		t.Fatalf("stored envelope: %v", err)
	}
	if !reflect.DeepEqual(signed, want) {
		t.Errorf("signed statement %+v, want %+v", signed, want)
	}
	if r := f.get(t, "/v1/artifacts/"+st.SHA256); r.status != 200 || !bytes.Equal(r.body, data) {
		t.Errorf("artifact after publish: %v", r)
	}

	t.Run("identical bytes again are accepted and change nothing", func(t *testing.T) {
		later := adminAt(f.inst, now.Add(time.Hour))
		if _, err := later.Publish(t.Context(), admin.PublishParams{
			Product: "app", Series: api.SeriesPro, Version: "1.0.0", OS: "linux", Arch: "amd64", File: bytes.NewReader(data),
		}); err != nil {
			t.Fatalf("re-publishing the same bytes: %v", err)
		}
		again := f.releases(t, "app", "linux", "amd64")
		if len(again) != 1 || !bytes.Equal(again[0].Envelope, stored[0].Envelope) {
			t.Errorf("re-publishing changed the stored release: %d releases", len(again))
		}
	})
	t.Run("other bytes under the same version are refused", func(t *testing.T) {
		_, err := adm.Publish(t.Context(), admin.PublishParams{
			Product: "app", Series: api.SeriesPro, Version: "1.0.0", OS: "linux", Arch: "amd64", File: strings.NewReader("a rebuilt 1.0.0"),
		})
		if err == nil || !strings.Contains(err.Error(), "already published with other contents") || !strings.Contains(err.Error(), "publish a new version") {
			t.Errorf("error %v, want one saying it is already published with other contents", err)
		}
		if got := f.releases(t, "app", "linux", "amd64"); len(got) != 1 || got[0].SHA256 != sha256Hex(data) {
			t.Errorf("the published release changed: %+v", got)
		}
	})
	t.Run("the same version for another platform is another release", func(t *testing.T) {
		if _, err := adm.Publish(t.Context(), admin.PublishParams{
			Product: "app", Series: api.SeriesPro, Version: "1.0.0", OS: "windows", Arch: "amd64", File: strings.NewReader("the 1.0.0 build for windows"),
		}); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if got := f.releases(t, "app", "windows", "amd64"); len(got) != 1 {
			t.Errorf("%d windows releases, want 1", len(got))
		}
	})
	t.Run("the product under the other series is refused", func(t *testing.T) {
		_, err := adm.Publish(t.Context(), admin.PublishParams{
			Product: "app", Series: api.SeriesClassic, Version: "2.0.0", OS: "linux", Arch: "amd64", File: strings.NewReader("the 2.0.0 build"),
		})
		if err == nil || !strings.Contains(err.Error(), "published as a pro-series product") || !strings.Contains(err.Error(), "--series pro") {
			t.Errorf("error %v, want one saying app is a pro-series product", err)
		}
		if series, err := f.inst.Store.ProductSeries(t.Context(), "app"); err != nil || series != api.SeriesPro {
			t.Errorf("app's series is %q (%v), want pro", series, err)
		}
		if got := f.releases(t, "app", "linux", "amd64"); len(got) != 1 {
			t.Errorf("%d linux releases, want 1", len(got))
		}
	})
}

func (f *fixture) releases(t *testing.T, product, goos, arch string) []store.Release {
	t.Helper()
	rs, err := f.inst.Store.Releases(t.Context(), product, goos, arch)
	if err != nil {
		t.Fatalf("Releases: %v", err)
	}
	return rs
}

func TestPublishRefused(t *testing.T) {
	f := newFixture(t)
	good := admin.PublishParams{Product: "fresh", Series: api.SeriesPro, Version: "1.0.0", OS: "linux", Arch: "amd64"}
	with := func(change func(*admin.PublishParams)) admin.PublishParams {
		p := good
		change(&p)
		return p
	}
	for _, tc := range []struct {
		name    string
		params  admin.PublishParams
		file    io.Reader
		message string
	}{
		{"no product", with(func(p *admin.PublishParams) { p.Product = "" }), nil, "--product"},
		{"product is a path", with(func(p *admin.PublishParams) { p.Product = "../fresh" }), nil, "--product"},
		{"product with a slash", with(func(p *admin.PublishParams) { p.Product = "a/b" }), nil, "--product"},
		{"product with a space", with(func(p *admin.PublishParams) { p.Product = "my app" }), nil, "--product"},
		{"product starts with a dash", with(func(p *admin.PublishParams) { p.Product = "-fresh" }), nil, "--product"},
		{"product too long", with(func(p *admin.PublishParams) { p.Product = strings.Repeat("p", 129) }), nil, "--product"},
		{"no series", with(func(p *admin.PublishParams) { p.Series = "" }), nil, "--series must be pro or classic"},
		{"unknown series", with(func(p *admin.PublishParams) { p.Series = "enterprise" }), nil, "--series"},
		{"series in capitals", with(func(p *admin.PublishParams) { p.Series = "Pro" }), nil, "--series"},
		{"no version", with(func(p *admin.PublishParams) { p.Version = "" }), nil, "MAJOR.MINOR.PATCH"},
		{"version with v", with(func(p *admin.PublishParams) { p.Version = "v1.0.0" }), nil, "MAJOR.MINOR.PATCH"},
		{"version of two parts", with(func(p *admin.PublishParams) { p.Version = "1.0" }), nil, "MAJOR.MINOR.PATCH"},
		{"version with build metadata", with(func(p *admin.PublishParams) { p.Version = "1.0.0+42" }), nil, "MAJOR.MINOR.PATCH"},
		{"version with leading zero", with(func(p *admin.PublishParams) { p.Version = "1.02.0" }), nil, "MAJOR.MINOR.PATCH"},
		{"version is a word", with(func(p *admin.PublishParams) { p.Version = "latest" }), nil, "MAJOR.MINOR.PATCH"},
		{"no os", with(func(p *admin.PublishParams) { p.OS = "" }), nil, "--os and --arch"},
		{"no arch", with(func(p *admin.PublishParams) { p.Arch = "" }), nil, "--os and --arch"},
		{"os is a path", with(func(p *admin.PublishParams) { p.OS = "../linux" }), nil, "--os and --arch"},
		{"empty file", good, strings.NewReader(""), "empty"},
		{"unreadable file", good, iotest.ErrReader(errors.New("disk on fire")), "disk on fire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			p.File = tc.file
			if p.File == nil {
				p.File = strings.NewReader("a good build")
			}
			_, err := f.admin.Publish(t.Context(), p)
			if err == nil || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %v, want one saying %q", err, tc.message)
			}
			for _, product := range []string{p.Product, good.Product} {
				if _, err := f.inst.Store.ProductSeries(t.Context(), product); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("after a refused publish, product %q is known (err %v)", product, err)
				}
			}
		})
	}
}

// adminAt is the admin service of inst on a clock stopped at now.
func adminAt(inst *datadir.Instance, now time.Time) *admin.Admin {
	a := admin.New(inst)
	a.Now = func() time.Time { return now }
	return a
}
