package staff

import (
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// RFC 6238, appendix B: the SHA-1 test vectors (secret "12345678901234567890"),
// 8-digit values cut to the 6 digits authenticator apps show (mod 10^6).
var rfc6238Secret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

var rfc6238 = []struct {
	unix int64
	code string
}{
	{59, "287082"},          // 94287082
	{1111111109, "081804"},  // 07081804
	{1111111111, "050471"},  // 14050471
	{1234567890, "005924"},  // 89005924
	{2000000000, "279037"},  // 69279037
	{20000000000, "353130"}, // 65353130
}

func TestCheckTOTPRFC6238(t *testing.T) {
	if rfc6238Secret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("the RFC's secret in base32 is %s", rfc6238Secret)
	}
	for _, v := range rfc6238 {
		at := time.Unix(v.unix, 0)
		for _, tc := range []struct {
			at   time.Time
			want bool
		}{
			{at, true},
			{at.Add(30 * time.Second), true},  // the code of the step before
			{at.Add(-30 * time.Second), true}, // the code of the step after (a clock ahead)
			{at.Add(60 * time.Second), false}, // two steps off
			{at.Add(-60 * time.Second), false},
		} {
			if got := CheckTOTP(rfc6238Secret, v.code, tc.at); got != tc.want {
				t.Errorf("CheckTOTP(RFC secret, %s, %d) = %v, want %v", v.code, tc.at.Unix(), got, tc.want)
			}
		}
	}
}

// TestMatchTOTPStep: the step a code is of is the code's own, whichever
// of the three accepted steps the clock is in, so a sign-in can spend it.
func TestMatchTOTPStep(t *testing.T) {
	for _, v := range rfc6238 {
		want := v.unix / 30
		for _, skew := range []int64{-30, 0, 30} {
			step, ok := MatchTOTP(rfc6238Secret, v.code, time.Unix(v.unix+skew, 0))
			if !ok || step != want {
				t.Errorf("MatchTOTP(%s at %d) = %d, %v; want step %d", v.code, v.unix+skew, step, ok, want)
			}
		}
	}
	if step, ok := MatchTOTP(rfc6238Secret, "000000", time.Unix(59, 0)); ok || step != 0 {
		t.Errorf("a wrong code matched step %d", step)
	}
}

func TestCheckTOTPInput(t *testing.T) {
	at := time.Unix(1111111111, 0)
	for _, tc := range []struct {
		secret, code string
		want         bool
	}{
		{rfc6238Secret, "050471", true},
		{rfc6238Secret, "050 471", true}, // as some apps show it
		{rfc6238Secret, " 050471 ", true},
		{strings.ToLower(rfc6238Secret), "050471", true},
		{rfc6238Secret + "====", "050471", false}, // 32 characters need no padding: malformed
		{rfc6238Secret, "050472", false},
		{rfc6238Secret, "05047", false},
		{rfc6238Secret, "0504710", false},
		{rfc6238Secret, "14050471", false}, // the 8-digit code
		{rfc6238Secret, "05047a", false},
		{rfc6238Secret, "٠٥٠٤٧١", false}, // Arabic-Indic digits
		{rfc6238Secret, "+50471", false},
		{rfc6238Secret, "", false},
		{"", "050471", false},           // no secret: anyone could compute the codes
		{"GEZDGNBV", "050471", false},   // 5 bytes: too short to be secret
		{"GEZDGNBVG!", "050471", false}, // not base32
		{strings.Repeat("A", 200), "000000", false},
	} {
		if got := CheckTOTP(tc.secret, tc.code, at); got != tc.want {
			t.Errorf("CheckTOTP(%.40q, %q) = %v, want %v", tc.secret, tc.code, got, tc.want)
		}
	}
}

func TestNewTOTP(t *testing.T) {
	secret, raw, err := NewTOTP("ana.petrova", "Aktual Server")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil || len(b) != 20 {
		t.Errorf("secret %q: %d bytes, %v; want 20 bytes of unpadded base32", secret, len(b), err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Aktual Server:ana.petrova" ||
		q.Get("secret") != secret || q.Get("issuer") != "Aktual Server" ||
		q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("otpauth URL %s is not what authenticator apps read", raw)
	}
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	code, err := totp.GenerateCodeCustom(secret, now, totpOpts)
	if err != nil || !CheckTOTP(secret, code, now) {
		t.Errorf("the new secret's own code %q (%v) is refused", code, err)
	}
	if again, _, _ := NewTOTP("ana.petrova", "Aktual Server"); again == secret {
		t.Errorf("two secrets are equal: not random")
	}

	for _, tc := range []struct{ login, issuer string }{
		{"", "Aktual"},
		{"ana", ""},
		{"  ", "Aktual"},
		{"ana:admin", "Aktual"},
		{"ana", "Aktual:Server"},
	} {
		if _, _, err := NewTOTP(tc.login, tc.issuer); err == nil {
			t.Errorf("NewTOTP(%q, %q) made a secret", tc.login, tc.issuer)
		}
	}
}
