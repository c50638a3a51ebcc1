package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// GET /v1/products/{product}/releases lists a platform's releases newest
// first, each verifying with a release key of the key set sent with them.
func TestReleasesList(t *testing.T) {
	f, _, _ := installFixture(t)
	resp := decodeOK[api.ReleasesResponse](t, f.get(t, "/v1/products/"+proApp+"/releases?os=linux&arch=amd64"))
	ks, err := api.VerifyKeySet(&resp.Keys, f.inst.Keys.Trust(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range resp.Releases {
		var st api.ReleaseStatement
		if err := resp.Releases[i].VerifyInto(api.PayloadRelease, ks.ReleaseKeys, &st); err != nil {
			t.Fatal(err)
		}
		got = append(got, st.Version)
	}
	if len(got) != 3 || got[0] != "3.0.0" || got[1] != "2.0.0" || got[2] != "1.0.0" {
		t.Errorf("releases %v; want 3.0.0, 2.0.0, 1.0.0", got)
	}
	wantError(t, f.get(t, "/v1/products/"+proApp+"/releases?os=windows&arch=amd64"), http.StatusNotFound, api.CodeNotFound)
	wantError(t, f.get(t, "/v1/products/"+proApp+"/releases"), http.StatusBadRequest, api.CodeBadRequest)
	wantError(t, f.get(t, "/v1/products/..%2Fx/releases?os=linux&arch=amd64"), http.StatusBadRequest, api.CodeBadRequest)
}
