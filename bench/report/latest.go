package report

import "fmt"

// The target of issue 21 for "latest" asked as installers ask it, with a
// fresh nonce on every request: requests/s at least this share of nginx's,
// with a p99 at most this multiple of nginx's.
const (
	targetNonceRatio = 0.7
	targetNonceP99   = 2.0
)

// nonceRows are rows 2c (the installer's question, sig=tree) and 2d (the
// same as installers before sig=tree ask it: each answer signed alone).
func nonceRows(r Results) []Row {
	tree := Row{ID: "2c", Measure: "\"latest\" asked as installers ask (a fresh nonce each request, proto=2, machine, current_sha256, patch, sig=tree): requests/s (p99)",
		Target: fmt.Sprintf("≥ %.1f× and p99 ≤ %.0f×", targetNonceRatio, targetNonceP99)}
	ours, ok1 := r.Median("latest_nonce.aktuald.rps")
	p99, okp := r.Median("latest_nonce.aktuald.p99_ms")
	ref, ok2 := r.Median("latest.nginx.rps")
	refP99, okr := r.Median("latest.nginx.p99_ms")
	if ok1 && okp && ok2 && okr && ref > 0 && refP99 > 0 {
		tree.Ours = fmt.Sprintf("%s (p99 %s)", perSecond(ours), millis(p99))
		tree.Reference = fmt.Sprintf("%s (p99 %s; nginx)", perSecond(ref), millis(refP99))
		// In turn with nginx, run by run (bench/run): paired.
		ratio, _ := r.PairedRatio("latest_nonce.aktuald.rps", "latest.nginx.rps")
		p99Ratio, _ := r.PairedRatio("latest_nonce.aktuald.p99_ms", "latest.nginx.p99_ms")
		tree.Ratio = fmt.Sprintf("%.2f× (p99 %.1f×)", ratio, p99Ratio)
		tree.Result = verdict(ratio >= targetNonceRatio && p99Ratio <= targetNonceP99)
	} else {
		notMeasured(&tree)
	}

	alone := Row{ID: "2d", Measure: "the same without sig=tree, as installers before it ask (each answer signed alone): requests/s (p99)",
		Target: "— (older installers)"}
	ours, ok1 = r.Median("latest_nonce_alone.aktuald.rps")
	p99, okp = r.Median("latest_nonce_alone.aktuald.p99_ms")
	if ok1 && okp && ok2 && ref > 0 {
		alone.Ours = fmt.Sprintf("%s (p99 %s)", perSecond(ours), millis(p99))
		alone.Reference = perSecond(ref) + " (nginx)"
		alone.Ratio = fmt.Sprintf("%.2f×", ours/ref)
		alone.Result = Info
	} else {
		notMeasured(&alone)
	}
	return []Row{tree, alone}
}
