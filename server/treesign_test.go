package server_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aktual/aktual/api"
)

// An installer that asks with sig=tree gets an answer signed in a tree:
// with its own nonce in what is signed, verifying with the online key,
// under many concurrent askers too (then several answers share a
// signature, each with its path). One that does not ask gets an answer
// signed alone, as before, and a sig other than tree is refused.
func TestLatestTreeSignatures(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	base := "os=linux&arch=amd64&proto=2&machine=m1234567890&sig=tree&nonce="

	st, _ := f.latest(t, "app", base+"aaaaaaaaaaaaaaaa")
	if st.Nonce != "aaaaaaaaaaaaaaaa" {
		t.Fatalf("nonce %q", st.Nonce)
	}
	resp := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?"+base+"bbbbbbbbbbbbbbbb"))
	if s := resp.Answer.Signatures; len(s) != 1 || s[0].Tree == nil {
		t.Fatalf("asked for sig=tree, got signatures %+v", s)
	}
	resp = decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?os=linux&arch=amd64&nonce=cccccccccccccccc"))
	if s := resp.Answer.Signatures; len(s) != 1 || s[0].Tree != nil {
		t.Fatalf("did not ask for sig=tree, got signatures %+v", s)
	}
	if r := f.get(t, "/v1/products/app/latest?os=linux&arch=amd64&nonce=cccccccccccccccc&sig=trees"); r.status != http.StatusBadRequest {
		t.Fatalf("sig=trees: %s, want 400", r)
	}

	const askers = 64
	var wg sync.WaitGroup
	shared := make(chan int, askers) // the depth of each answer's path
	for i := range askers {
		wg.Go(func() {
			nonce := fmt.Sprintf("n%031d", i)
			st, _ := f.latest(t, "app", base+nonce)
			if st.Nonce != nonce {
				t.Errorf("asker %d got the answer to nonce %q", i, st.Nonce)
			}
			r := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?"+base+nonce+"x"))
			shared <- len(r.Answer.Signatures[0].Tree.Path)
		})
	}
	wg.Wait()
	close(shared)
	deepest := 0
	for d := range shared {
		deepest = max(deepest, d)
	}
	t.Logf("the deepest of %d concurrent answers' paths: %d hashes", askers, deepest)
}
