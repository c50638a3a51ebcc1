package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The patch offer rides in the signed latest answer: it parses strictly
// like the rest, and an answer without it reads as before.
func TestLatestStatementPatchStrict(t *testing.T) {
	from := strings.Repeat("a", 64)
	sum := strings.Repeat("b", 64)
	st := LatestStatement{
		Product: "ledger", OS: "linux", Arch: "amd64", CurrentSHA256: from,
		Patch:    &PatchOffer{FromSHA256: from, SHA256: sum, Size: 271, Format: PatchBSDiff},
		IssuedAt: time.Unix(0, 0).UTC(), ExpiresAt: time.Unix(60, 0).UTC(),
	}
	good, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back LatestStatement
	if err := DecodeStrict(good, &back); err != nil || back.Patch == nil || *back.Patch != *st.Patch {
		t.Fatalf("DecodeStrict(%s) = %+v, %v", good, back.Patch, err)
	}

	st.Patch = nil
	without, _ := json.Marshal(st)
	if strings.Contains(string(without), "patch") {
		t.Errorf("an answer without a patch mentions one: %s", without)
	}

	patch := `"patch":{"from_sha256":"` + from + `","sha256":"` + sum + `","size":271,"format":"bsdiff"`
	for name, doc := range map[string]string{
		"unknown field in patch": strings.Replace(string(good), `"format":"bsdiff"`, `"format":"bsdiff","to_sha256":"x"`, 1),
		"duplicate key in patch": strings.Replace(string(good), `"size":271`, `"size":271,"size":1`, 1),
		"case-folded duplicate":  strings.Replace(string(good), `"size":271`, `"size":271,"Size":1`, 1),
		"patch twice":            strings.Replace(string(good), patch, patch+"},"+patch, 1),
		"size as string":         strings.Replace(string(good), `"size":271`, `"size":"271"`, 1),
	} {
		if doc == string(good) {
			t.Fatalf("%s: the edit did not apply to %s", name, good)
		}
		if err := DecodeStrict([]byte(doc), &LatestStatement{}); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
}
