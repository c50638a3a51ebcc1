package cli

import (
	"regexp"
	"strings"
	"sync"

	"github.com/aktual/aktual/internal/i18n"
)

// Command-line mistakes as cobra and pflag word them, in English only; we
// say them again in the reader's language. An unknown wording is shown as
// it is. The patterns are compiled on the first mistake, not at start-up:
// a command that runs without one pays nothing for them (docs/benchmarks.md).
var usagePatterns = sync.OnceValue(func() *usageRes {
	return &usageRes{
		unknownFlag:      regexp.MustCompile(`^unknown flag: (--\S+)$`),
		unknownShort:     regexp.MustCompile(`^unknown shorthand flag: '(.)' in (-\S+)$`),
		needsArg:         regexp.MustCompile(`^flag needs an argument: (--\S+)$`),
		needsArgShort:    regexp.MustCompile(`^flag needs an argument: '(.)' in -\S+$`),
		invalidArg:       regexp.MustCompile(`^invalid argument "(.*)" for "(?:-., )?(--\S+)" flag: (.*)$`),
		unknownCommand:   regexp.MustCompile(`^unknown command "(.*)" for "(.*)"`),
		acceptsArgs:      regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`),
		badFlagSyntax:    regexp.MustCompile(`^bad flag syntax: (.*)$`),
		suggestionsBlock: regexp.MustCompile(`(?s)\n\nDid you mean this\?\n\t(.*?)\n*$`),
	}
})

// usageRes are the compiled patterns of usagePatterns.
type usageRes struct {
	unknownFlag, unknownShort, needsArg, needsArgShort, invalidArg *regexp.Regexp
	unknownCommand, acceptsArgs, badFlagSyntax, suggestionsBlock   *regexp.Regexp
}

// usageProblem says a cobra or pflag error in the reader's language, with
// what to do.
func usageProblem(err error) i18n.Message {
	msg := err.Error()
	re := usagePatterns()
	var suggest string
	if m := re.suggestionsBlock.FindStringSubmatch(msg); m != nil {
		suggest = strings.Join(strings.Fields(m[1]), ", ")
		msg = msg[:len(msg)-len(m[0])]
	}
	if m := re.unknownFlag.FindStringSubmatch(msg); m != nil {
		return i18n.M("unknown flag %s", m[1])
	}
	if m := re.unknownShort.FindStringSubmatch(msg); m != nil {
		if len(m[2]) == 2 {
			return i18n.M("unknown flag %s", m[2])
		}
		return i18n.M("unknown flag -%s (in %s)", m[1], m[2])
	}
	if m := re.needsArg.FindStringSubmatch(msg); m != nil {
		return i18n.M("%s needs a value: %s VALUE", m[1], m[1])
	}
	if m := re.needsArgShort.FindStringSubmatch(msg); m != nil {
		return i18n.M("-%s needs a value: -%s VALUE", m[1], m[1])
	}
	if m := re.invalidArg.FindStringSubmatch(msg); m != nil {
		if strings.Contains(m[3], "ParseBool") {
			return i18n.M("%s takes true or false, not %q", m[2], m[1])
		}
		return i18n.M("%s %q is not a valid value (%s)", m[2], m[1], m[3])
	}
	if m := re.unknownCommand.FindStringSubmatch(msg); m != nil {
		if suggest != "" {
			return i18n.M("unknown command %q for %s; did you mean %s?", m[1], m[2], suggest)
		}
		if strings.Contains(m[2], " ") {
			return i18n.M("%s takes no arguments, but %q was given; options are given as --flag VALUE", m[2], m[1])
		}
		return i18n.M("unknown command %q for %s", m[1], m[2])
	}
	if m := re.acceptsArgs.FindStringSubmatch(msg); m != nil {
		return i18n.M("this command takes %s arguments, but %s were given", m[1], m[2])
	}
	if m := re.badFlagSyntax.FindStringSubmatch(msg); m != nil {
		return i18n.M("bad flag syntax: %s", m[1])
	}
	return i18n.M("%v", err)
}
