package report

import (
	"strings"
	"testing"
)

func TestPatchMemoryAndZstdRows(t *testing.T) {
	res, err := Parse(strings.NewReader(`patch_code.bytes 409600
patch_code.full_bytes 20971520
patch_code.publish_rss_kb 71680
patch_zstd.bytes 1433600
patch_zstd.rss_kb 245760
patch_zstd.seconds 18.2
`))
	if err != nil {
		t.Fatal(err)
	}
	mem, z := patchMemoryRow(res), patchZstdRow(res)
	if mem.Ours != "70.00 MiB" || mem.Ratio != "3.5×" || mem.Result != Met {
		t.Errorf("5c: %+v", mem)
	}
	if z.Ours != "400.0 KiB" || z.Ratio != "0.29×" || z.Result != Info ||
		z.Reference != "1400.0 KiB (zstd, 18.2 s, peak RSS 240.00 MiB)" {
		t.Errorf("5d: %+v", z)
	}
	empty, _ := Parse(strings.NewReader(""))
	for _, r := range []Row{patchMemoryRow(empty), patchZstdRow(empty)} {
		if r.Result != NotMeasured {
			t.Errorf("%s without figures: %+v", r.ID, r)
		}
	}
}
