package api

import "strings"

// MaskCode shows what was typed as an update code or Internet code
// without revealing it, for logs and for messages others may read. A
// whole update code keeps its last group, which staff know as the code
// hint: *****-*****-*****-*****-12345 (16 random digits stay hidden).
// Anything else keeps only its shape, every digit a star, so an Internet
// code (eight random digits in all) gives nothing away: ***-***-***.
// Characters other than digits are dropped rather than echoed, so the
// result is safe to log whatever a client sent.
func MaskCode(code string) string {
	if len(code) > maxTypedCode {
		code = code[:maxTypedCode]
	}
	var digits []byte
	for i := 0; i < len(code); i++ {
		if c := code[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	switch n := len(digits); n {
	case CodeDigits:
		return UpdateCode(digits).Masked()
	case InternetCodeDigits:
		return groupDigits(strings.Repeat("*", n), internetGroup, "-")
	default:
		return groupDigits(strings.Repeat("*", n), CodeGroupSize, "-")
	}
}
