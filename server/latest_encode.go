package server

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/aktual/aktual/api"
)

// appendAnswer appends env encoded exactly as json.MarshalIndent(env,
// "  ", "  ") encodes it (TestLatestEncodingIsWriteJSONs holds it to
// that), without reflection: indenting the encoded envelope afresh was
// the larger part of encoding an answer to a nonce.
func appendAnswer(b []byte, env api.Envelope) []byte {
	b = append(b, "{\n    \"payload_type\": "...)
	b = appendJSONString(b, env.PayloadType)
	b = append(b, ",\n    \"payload\": "...)
	b = appendBase64(b, env.Payload)
	b = append(b, ",\n    \"signatures\": "...)
	if env.Signatures == nil {
		b = append(b, "null"...)
	} else if len(env.Signatures) == 0 {
		b = append(b, "[]"...)
	} else {
		b = append(b, "[\n"...)
		for i, s := range env.Signatures {
			b = append(b, "      {\n        \"keyid\": "...)
			b = appendJSONString(b, s.KeyID)
			b = append(b, ",\n        \"sig\": "...)
			b = appendBase64(b, s.Sig)
			if s.Tree != nil {
				b = appendTree(b, s.Tree)
			}
			b = append(b, "\n      }"...)
			if i < len(env.Signatures)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		b = append(b, "    ]"...)
	}
	return append(b, "\n  }"...)
}

// appendTree appends a signature's "tree" member, at its depth.
func appendTree(b []byte, t *api.TreeProof) []byte {
	b = append(b, ",\n        \"tree\": {\n          \"index\": "...)
	b = strconv.AppendUint(b, uint64(t.Index), 10)
	b = append(b, ",\n          \"path\": "...)
	switch {
	case t.Path == nil:
		b = append(b, "null"...)
	case len(t.Path) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, "[\n"...)
		for i, h := range t.Path {
			b = append(b, "            "...)
			b = appendBase64(b, h)
			if i < len(t.Path)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		b = append(b, "          ]"...)
	}
	return append(b, "\n        }"...)
}

// appendBase64 appends p as encoding/json encodes a []byte: a string of
// standard base64, or null for nil.
func appendBase64(b, p []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// appendJSONString appends s as encoding/json encodes it: as it is when it
// holds only characters that need no escaping, else through json.Marshal
// (which escapes HTML characters too, as the rest of the answer does).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
