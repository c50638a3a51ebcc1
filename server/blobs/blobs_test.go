package blobs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutOpenRemove(t *testing.T) {
	b := Blobs{Dir: t.TempDir()}
	data := "the 2.0.0 build"
	sum, size, err := b.Put(strings.NewReader(data))
	want := sha256.Sum256([]byte(data))
	if err != nil || sum != hex.EncodeToString(want[:]) || size != int64(len(data)) {
		t.Fatalf("Put = %s, %d, %v", sum, size, err)
	}
	if !b.Has(sum) {
		t.Fatal("a stored blob is not there")
	}
	f, err := b.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != data {
		t.Errorf("Open read %q", got)
	}
	// Nothing half-written is left beside it.
	if left, _ := filepath.Glob(filepath.Join(b.Dir, ".incoming-*")); len(left) != 0 {
		t.Errorf("left over: %v", left)
	}
	if err := b.Remove(sum); err != nil || b.Has(sum) {
		t.Errorf("Remove: %v, still there %v", err, b.Has(sum))
	}
	// A name that is not a sha256 never reaches the file system.
	for _, bad := range []string{"../etc/passwd", strings.ToUpper(sum), sum[:63], ""} {
		if _, err := b.Open(bad); !errors.Is(err, fs.ErrNotExist) || b.Has(bad) {
			t.Errorf("Open(%q) = %v", bad, err)
		}
	}
}

func TestOriginRefusesWhatIsNotTheWholeFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "bytes")
	}))
	defer srv.Close()
	o := Origin{Client: srv.Client()}
	sum, n, err := o.Hash(t.Context(), srv.URL+"/ok")
	want := sha256.Sum256([]byte("bytes"))
	if err != nil || sum != hex.EncodeToString(want[:]) || n != 5 {
		t.Errorf("Hash = %s, %d, %v", sum, n, err)
	}
	if _, _, err := o.Hash(t.Context(), srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404 origin: %v, want an error naming the answer", err)
	}
}
