package api

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Release control (issue 20): what the server adds to a latest answer
// for an installer that asks for it (query proto=2). An older installer
// decodes the answer strictly and would refuse a field it does not
// know, so none of these is sent to it.

// LatestProto is the latest answer's version that carries the release
// control fields (Channel, Machine, Rollout, Critical, Notes, Withheld,
// Path); an installer that reads them sends proto=2.
const LatestProto = "2"

// RolloutBuckets is how many buckets a staged rollout divides the
// installations into: a rollout to P percent reaches buckets below
// P×RolloutBuckets/100.
const RolloutBuckets = 10000

// RolloutBucket is an installation's stable place in the rollouts of
// product: derived from its machine identity (the protected ID the
// installer sends with a reserve) and the product, so the same machine is
// always in or always out at a given percent, and its place in one
// product's rollouts says nothing of another's.
func RolloutBucket(product, machine string) int {
	h := sha256.New()
	h.Write([]byte("aktual-rollout-v1\x00"))
	h.Write([]byte(product))
	h.Write([]byte{0})
	h.Write([]byte(machine))
	var sum [sha256.Size]byte
	return int(binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) % RolloutBuckets)
}

// Rollout is the server's decision about an installation's place in the
// newest release's staged rollout, signed into its latest answer.
type Rollout struct {
	// Version is the staged release the decision is about.
	Version string `json:"version"`
	// Percent is how far its rollout reaches now; Bucket is the
	// installation's place (0 to RolloutBuckets-1).
	Percent int `json:"percent"`
	Bucket  int `json:"bucket"`
	// Reached: the rollout reaches this installation, or it was taken
	// early (Forced: the installer asked with --force).
	Reached bool `json:"reached"`
	Forced  bool `json:"forced,omitempty"`
}

// Path is set when the answer's release is one step of a path (a newer
// release requires an older installation to pass through an older version
// first). The whole path costs one paid update: the first step is paid,
// the next steps are free.
type Path struct {
	// To is the release the path ends at.
	To string `json:"to"`
	// Free: this step continues a path whose first step this machine
	// already paid for; no update is reserved for it.
	Free bool `json:"free,omitempty"`
}

// PayloadNotes is the payload type of a release's notes, signed with the
// release key at publish time, beside the release statement (which older
// installers decode strictly, and so could not carry them).
const PayloadNotes = "aktual.notes.v1"

// MaxNotesSize bounds one language's release notes (Markdown), so that a
// latest answer carrying them stays far below MaxEnvelopeSize.
const MaxNotesSize = 8 << 10

// NotesStatement is a release's notes, one Markdown text per language
// (BCP 47: "bg", "en").
type NotesStatement struct {
	Product     string            `json:"product"`
	Version     string            `json:"version"`
	Notes       map[string]string `json:"notes"`
	PublishedAt time.Time         `json:"published_at"`
}

// NotesLanguages are the languages release notes may be written in.
var NotesLanguages = []string{"bg", "en"}

// Pick chooses the notes to show a reader of lang: that language's, else
// another's; "" when there are none.
func (n *NotesStatement) Pick(lang string) (text, in string) {
	if n == nil {
		return "", ""
	}
	if t := n.Notes[lang]; t != "" {
		return t, lang
	}
	for _, l := range NotesLanguages {
		if t := n.Notes[l]; t != "" {
			return t, l
		}
	}
	return "", ""
}
