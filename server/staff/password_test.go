package staff

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hashes made by the reference implementation (the argon2 command of
// libargon2), so ours are known to be the standard's.
var referenceHashes = []struct{ phc, pw string }{
	{"$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$oLbEshmirStBvAHctylRo6RngkqGfbxRX4w4VwYm24U", "correct horse battery"},
	{"$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$JxBBsCIczbj0w06ojA6U8tpSY1ZOv8uKRtXhMg2EIFc", "correct horse battery"},
	{"$argon2id$v=19$m=256,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$wN1Q+cYjTsPm/upchfQ+augOL0haKfiELXex/M+AIQw", "пароль-Ünïcødé"},
}

func TestCheckPasswordReferenceHashes(t *testing.T) {
	for _, h := range referenceHashes {
		if ok, err := CheckPassword(h.phc, h.pw); !ok || err != nil {
			t.Errorf("CheckPassword(%s, %q) = %v, %v; want true", h.phc, h.pw, ok, err)
		}
		if ok, err := CheckPassword(h.phc, h.pw+"x"); ok || err != nil {
			t.Errorf("CheckPassword(%s, wrong) = %v, %v; want false, nil", h.phc, ok, err)
		}
	}
}

var phcForm = regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword(t *testing.T) {
	h1, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !phcForm.MatchString(h1) {
		t.Errorf("HashPassword = %s, not the PHC form with the default parameters", h1)
	}
	if ok, err := CheckPassword(h1, "correct horse battery"); !ok || err != nil {
		t.Errorf("CheckPassword(own hash) = %v, %v", ok, err)
	}
	if ok, err := CheckPassword(h1, "correct horse batterY"); ok || err != nil {
		t.Errorf("CheckPassword(own hash, wrong) = %v, %v", ok, err)
	}
	if NeedsRehash(h1) {
		t.Errorf("NeedsRehash(a fresh hash) = true")
	}
	if h2, _ := HashPassword("correct horse battery"); h2 == h1 {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	if _, err := HashPassword(strings.Repeat("a", MaxPasswordBytes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("HashPassword(too long) err = %v, want ErrPasswordTooLong", err)
	}
}

func TestNeedsRehash(t *testing.T) {
	for _, tc := range []struct {
		phc  string
		want bool
	}{
		{referenceHashes[0].phc, false}, // the defaults: 64 MiB, t=3, p=2, 16-byte salt, 32-byte key
		{referenceHashes[1].phc, true},  // weaker parameters
		{referenceHashes[2].phc, true},
		{"$argon2id$v=19$m=65536,t=4,p=2$c2FsdHNhbHRzYWx0c2FsdA$oLbEshmirStBvAHctylRo6RngkqGfbxRX4w4VwYm24U", true}, // stronger: still not current
		{"$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$oLbEshmirStBvAHctylRo6RngkqGfbxRX4w4VwYm24U", true},            // 8-byte salt
		{"", true},
		{"$2a$10$abcdefghijklmnopqrstuv", true}, // bcrypt
	} {
		if got := NeedsRehash(tc.phc); got != tc.want {
			t.Errorf("NeedsRehash(%q) = %v, want %v", tc.phc, got, tc.want)
		}
	}
}

// TestCheckPasswordRefusesHostileHashes: a corrupted or hostile hash is
// refused before argon2 sets any memory aside (the whole table runs in
// well under the time of one real check).
func TestCheckPasswordRefusesHostileHashes(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "oLbEshmirStBvAHctylRo6RngkqGfbxRX4w4VwYm24U"
	withParams := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	start := time.Now()
	for _, phc := range []string{
		"",
		"plain text",
		"$argon2i$v=19$m=65536,t=3,p=2$" + salt + "$" + key,
		"$argon2d$v=19$m=65536,t=3,p=2$" + salt + "$" + key,
		"$argon2id$v=16$m=65536,t=3,p=2$" + salt + "$" + key,
		"$argon2id$m=65536,t=3,p=2$" + salt + "$" + key, // no version
		withParams("m=4194304,t=3,p=2"),                 // 4 GiB
		withParams("m=262145,t=1,p=1"),                  // just over 256 MiB
		withParams("m=4294967295,t=1,p=1"),              //
		withParams("m=4294967296,t=1,p=1"),              // overflows uint32
		withParams("m=65536,t=1000000,p=2"),             // minutes of work
		withParams("m=262144,t=5,p=2"),                  // within each bound, over memory × time
		withParams("m=65536,t=3,p=255"),                 // 255 goroutines
		withParams("m=65536,t=3,p=17"),
		withParams("m=65536,t=0,p=2"), // argon2 panics on these
		withParams("m=65536,t=3,p=0"),
		withParams("m=0,t=3,p=2"),
		withParams("m=15,t=3,p=2"), // below 8 × lanes
		withParams("m=065536,t=3,p=2"),
		withParams("m=+65536,t=3,p=2"),
		withParams("m=65536,t=3,p=2,k=1"),
		withParams("t=3,m=65536,p=2"),
		withParams("m=65536, t=3, p=2"),
		withParams("m=,t=3,p=2"),
		withParams("m=6e4,t=3,p=2"),
		"$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$" + key, // 4-byte salt
		"$argon2id$v=19$m=65536,t=3,p=2$" + strings.Repeat("A", 100) + "$" + key,
		"$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$c2FsdA",                    // 4-byte key
		"$argon2id$v=19$m=65536,t=3,p=2$" + salt + "==$" + key,                  // padded
		"$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + key + "$",              // extra field
		"$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + key[:len(key)-1] + "V", // unused bits set
		"$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + strings.Repeat("A", 1<<20),
		"$argon2id$v=19$m=65536,t=3,p=2$sa!t" + "$" + key,
		"$argon2id$v=19$m=65536,t=3,p=2$" + salt[:10] + "\r\n" + salt[10:] + "$" + key, // found by FuzzParsePHC
	} {
		if ok, err := CheckPassword(phc, "correct horse battery"); ok || err == nil {
			t.Errorf("CheckPassword(%.90q) = %v, %v; want an error", phc, ok, err)
		}
		if !NeedsRehash(phc) {
			t.Errorf("NeedsRehash(%.90q) = false for a hash that cannot be read", phc)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing bad hashes took %v: some reached argon2", d)
	}
}

func TestCheckPasswordTooLong(t *testing.T) {
	// Never hashed, never true, no error: such a password is never stored.
	if ok, err := CheckPassword(referenceHashes[1].phc, strings.Repeat("a", MaxPasswordBytes+1)); ok || err != nil {
		t.Errorf("CheckPassword(too long) = %v, %v; want false, nil", ok, err)
	}
}

// TestDummyCheckCostsACheck: a login that does not exist takes as long as
// a wrong password of one that does (within generous bounds: the race
// detector and a busy machine add noise).
func TestDummyCheckCostsACheck(t *testing.T) {
	if !phcForm.MatchString(dummyPHC) {
		t.Fatalf("dummyPHC %s does not have the default parameters", dummyPHC)
	}
	real := referenceHashes[0].phc
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	// Interleaved, the fastest of three each: a busy machine (CI runs
	// packages side by side) slows single runs, not the best of them.
	d, r := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 3 {
		d = min(d, timed(func() { DummyCheck("a wrong password") }))
		r = min(r, timed(func() { _, _ = CheckPassword(real, "a wrong password") }))
	}
	if ratio := float64(d) / float64(r); ratio < 0.5 || ratio > 2 {
		t.Errorf("DummyCheck took %v, a real check %v: the timing tells which logins exist", d, r)
	}
}

// TestConcurrentChecks: the hashing slots neither deadlock nor race.
func TestConcurrentChecks(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 2 * maxHashesOnce {
		wg.Go(func() {
			h := referenceHashes[1+i%2]
			if ok, err := CheckPassword(h.phc, h.pw); !ok || err != nil {
				t.Errorf("CheckPassword = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
}

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		pw, login string
		want      error
	}{
		{"twelve chars", "ana", nil},
		{"eleven char", "ana", ErrPasswordTooShort},
		{"", "ana", ErrPasswordTooShort},
		{"пароль-пароль", "ana", nil},               // 13 characters, 25 bytes
		{"пароль-паро", "ana", ErrPasswordTooShort}, // 11 characters, 21 bytes: characters count, not bytes
		{"Ana.Petrova1", "ana.petrova1", ErrPasswordIsLogin},
		{"ana.petrova12", "ana.petrova1", nil},
		{" ana.petrova1 ", "ana.petrova1", ErrPasswordIsLogin},
		{strings.Repeat("x", MaxPasswordBytes), "ana", nil},
		{strings.Repeat("x", MaxPasswordBytes+1), "ana", ErrPasswordTooLong},
		{"line one\nline two", "ana", ErrPasswordBadText},
		{"tab\tin the middle", "ana", ErrPasswordBadText},
		{"bad utf-8 \xff\xfe here", "ana", ErrPasswordBadText},
		{GeneratePassword(), "ana", nil},
	} {
		if got := CheckNewPassword(tc.pw, tc.login); got != tc.want {
			t.Errorf("CheckNewPassword(%.40q, %q) = %v, want %v", tc.pw, tc.login, got, tc.want)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	form := regexp.MustCompile(`^[` + passwordAlphabet + `]{6}(-[` + passwordAlphabet + `]{6}){3}$`)
	if bits := float64(genGroups*genGroupLen) * math.Log2(float64(genAlphabetN)); bits < 100 {
		t.Errorf("generated passwords have %.1f bits, want at least 100", bits)
	}
	if strings.ContainsAny(passwordAlphabet, "01ilo") {
		t.Errorf("the alphabet %q has look-alike characters", passwordAlphabet)
	}
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 1000 {
		pw := GeneratePassword()
		if !form.MatchString(pw) {
			t.Fatalf("GeneratePassword = %q, not 4 groups of 6", pw)
		}
		if seen[pw] {
			t.Fatalf("GeneratePassword repeated %q", pw)
		}
		seen[pw] = true
		for _, r := range strings.ReplaceAll(pw, "-", "") {
			counts[r]++
		}
	}
	// 24000 characters, about 774 of each: every one drawn, none far off.
	for _, r := range passwordAlphabet {
		if n := counts[r]; n < 600 || n > 950 {
			t.Errorf("%q drawn %d times in 24000, want about 774", r, n)
		}
	}
}

// FuzzParsePHC: a stored hash is read from the database, so it is input
// like any other. The parser never panics, and a hash it accepts names
// parameters within the bounds and is written as encodePHC writes it, so
// CheckPassword never hands argon2 more than the bounds allow. (It fuzzes
// the parser only: hashing with what it accepts would take a second an
// input.)
func FuzzParsePHC(f *testing.F) {
	for _, h := range referenceHashes {
		f.Add(h.phc)
	}
	f.Add(dummyPHC)
	f.Add("$argon2id$v=19$m=4194304,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$oLbEshmirStBvAHctylRo6RngkqGfbxRX4w4VwYm24U")
	f.Add("$argon2id$v=19$m=65536,t=3,p=0$$")
	f.Add("$argon2id$v=19$m=18446744073709551616,t=3,p=2$c2FsdA$c2FsdA")
	f.Fuzz(func(t *testing.T, phc string) {
		p, salt, key, err := parsePHC(phc)
		if err != nil {
			return
		}
		switch {
		case p.memory > maxMemoryKiB || p.memory < 8*uint32(p.threads) || p.time < 1 || p.time > maxTime ||
			uint64(p.memory)*uint64(p.time) > maxCostKiB || p.threads < 1 || p.threads > maxThreads:
			t.Fatalf("parsePHC(%q) accepted parameters %+v past the bounds", phc, p)
		case len(salt) < minSaltLen || len(salt) > maxSaltLen || len(key) < minKeyLen || len(key) > maxKeyLen:
			t.Fatalf("parsePHC(%q) accepted a %d-byte salt and a %d-byte key", phc, len(salt), len(key))
		case encodePHC(p, salt, key) != phc:
			t.Fatalf("parsePHC(%q) accepted a hash not in the form it writes, %s", phc, encodePHC(p, salt, key))
		}
	})
}
