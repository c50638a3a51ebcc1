package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// Signatures over a tree of answers (latest answers only).
//
// Every latest answer carries the installer's nonce inside what is
// signed, so it proves that it was made after the installer asked. Signed
// one by one, each answer cost the server an Ed25519 signature, the
// larger part of its work for a latest request. An installer that sends
// sig=tree accepts instead a signature over the root of a Merkle tree
// whose leaves are the answers the server made at the same moment, each
// with its own nonce; its answer carries the path from its leaf to the
// root (as Roughtime answers a batch of requests with one signature).
// What the signature proves is unchanged: the root commits to every leaf,
// and the leaf to the payload with the nonce in it, so the answer was
// signed after its nonce was known, by the online key, for this question.
//
// The hashes are domain-separated, as in RFC 6962: a leaf is
// SHA-256(0x00 || PAE(type, payload)), a node SHA-256(0x01 || left ||
// right), and a tree is filled up to a power of two with SHA-256(0x02 ||
// 32 random bytes), new for each tree, a leaf no payload hashes to. The
// signed message is the PAE of PayloadTree over the depth (one byte) and
// the root, so a tree signature can never be presented as any other
// signed statement, nor one the other way round.
const (
	// PayloadTree is the type of the message a tree signature signs.
	PayloadTree = "aktual.tree.v1"
	// MaxTreeDepth bounds a path: 2^16 answers under one signature.
	MaxTreeDepth = 16
	// SigTree is the latest query's sig parameter of an installer that
	// accepts a tree signature.
	SigTree = "tree"
)

// TreeProof places a signed payload in a tree: its leaf's index and the
// sibling hashes from the leaf up to the root (32 bytes each).
type TreeProof struct {
	Index uint32   `json:"index"`
	Path  [][]byte `json:"path"` // base64 in JSON
}

// treeSigned are the payload types a tree signature may sign.
var treeSigned = map[string]bool{PayloadLatest: true}

func treeLeaf(payloadType string, payload []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(pae(payloadType, payload))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func treeNode(left, right [32]byte) [32]byte {
	var b [65]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[33:], right[:])
	return sha256.Sum256(b[:])
}

// treeFill is a leaf that fills a tree up to a power of two: SHA-256 of
// 0x02 and 32 random bytes, new for each tree, so that no payload hashes
// to it and a path does not tell how many answers share the tree.
func treeFill() [32]byte {
	var b [33]byte
	b[0] = 2
	rand.Read(b[1:]) // never fails (crypto/rand)
	return sha256.Sum256(b[:])
}

// treeMessage is what a tree signature signs: the root and its depth.
func treeMessage(depth int, root [32]byte) []byte {
	return pae(PayloadTree, append([]byte{byte(depth)}, root[:]...))
}

// SignTree signs payloads, all of payloadType, with one signature over
// the root of their tree, and returns an envelope for each, in order.
// It panics unless there are 1 to 2^MaxTreeDepth payloads.
func SignTree(payloadType string, payloads [][]byte, key ed25519.PrivateKey) []Envelope {
	if len(payloads) == 0 || len(payloads) > 1<<MaxTreeDepth {
		panic(fmt.Sprintf("api.SignTree: %d payloads; a tree holds 1 to %d", len(payloads), 1<<MaxTreeDepth))
	}
	depth := 0
	for 1<<depth < len(payloads) {
		depth++
	}
	level := make([][32]byte, 1<<depth)
	fill := treeFill()
	for i := range level {
		if i < len(payloads) {
			level[i] = treeLeaf(payloadType, payloads[i])
		} else {
			level[i] = fill
		}
	}
	// levels[d] are the hashes d levels above the leaves.
	levels := [][][32]byte{level}
	for len(level) > 1 {
		up := make([][32]byte, len(level)/2)
		for i := range up {
			up[i] = treeNode(level[2*i], level[2*i+1])
		}
		levels, level = append(levels, up), up
	}
	sig := ed25519.Sign(key, treeMessage(depth, level[0]))
	keyID := KeyID(key.Public().(ed25519.PublicKey))
	out := make([]Envelope, len(payloads))
	for i, p := range payloads {
		path := make([][]byte, depth)
		for d := range depth {
			sib := levels[d][(i>>d)^1]
			path[d] = sib[:]
		}
		out[i] = Envelope{PayloadType: payloadType, Payload: p, Signatures: []Signature{{
			KeyID: keyID, Sig: sig, Tree: &TreeProof{Index: uint32(i), Path: path},
		}}}
	}
	return out
}

// treeSignedMessage is the message a tree signature over payload must
// sign, or false when the proof is malformed or the type may not be
// signed in a tree.
func treeSignedMessage(payloadType string, payload []byte, t *TreeProof) ([]byte, bool) {
	depth := len(t.Path)
	if !treeSigned[payloadType] || depth > MaxTreeDepth || uint64(t.Index) >= 1<<depth {
		return nil, false
	}
	h := treeLeaf(payloadType, payload)
	for d, s := range t.Path {
		if len(s) != sha256.Size {
			return nil, false
		}
		sib := [32]byte(s)
		if t.Index>>d&1 == 0 {
			h = treeNode(h, sib)
		} else {
			h = treeNode(sib, h)
		}
	}
	return treeMessage(depth, h), true
}
