package cli

import (
	"regexp"
	"strings"

	"github.com/aktual/aktual/internal/i18n"
)

// Command-line mistakes as cobra and pflag word them, in English only; we
// say them again in the reader's language. An unknown wording is shown as
// it is.
var (
	reUnknownFlag      = regexp.MustCompile(`^unknown flag: (--\S+)$`)
	reUnknownShort     = regexp.MustCompile(`^unknown shorthand flag: '(.)' in (-\S+)$`)
	reNeedsArg         = regexp.MustCompile(`^flag needs an argument: (--\S+)$`)
	reNeedsArgShort    = regexp.MustCompile(`^flag needs an argument: '(.)' in -\S+$`)
	reInvalidArg       = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-., )?(--\S+)" flag: (.*)$`)
	reUnknownCommand   = regexp.MustCompile(`^unknown command "(.*)" for "(.*)"`)
	reAcceptsArgs      = regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`)
	reBadFlagSyntax    = regexp.MustCompile(`^bad flag syntax: (.*)$`)
	reSuggestionsBlock = regexp.MustCompile(`(?s)\n\nDid you mean this\?\n\t(.*?)\n*$`)
)

// usageProblem says a cobra or pflag error in the reader's language, with
// what to do.
func usageProblem(err error) i18n.Message {
	msg := err.Error()
	var suggest string
	if m := reSuggestionsBlock.FindStringSubmatch(msg); m != nil {
		suggest = strings.Join(strings.Fields(m[1]), ", ")
		msg = msg[:len(msg)-len(m[0])]
	}
	if m := reUnknownFlag.FindStringSubmatch(msg); m != nil {
		return i18n.M("unknown flag %s", m[1])
	}
	if m := reUnknownShort.FindStringSubmatch(msg); m != nil {
		if len(m[2]) == 2 {
			return i18n.M("unknown flag %s", m[2])
		}
		return i18n.M("unknown flag -%s (in %s)", m[1], m[2])
	}
	if m := reNeedsArg.FindStringSubmatch(msg); m != nil {
		return i18n.M("%s needs a value: %s VALUE", m[1], m[1])
	}
	if m := reNeedsArgShort.FindStringSubmatch(msg); m != nil {
		return i18n.M("-%s needs a value: -%s VALUE", m[1], m[1])
	}
	if m := reInvalidArg.FindStringSubmatch(msg); m != nil {
		if strings.Contains(m[3], "ParseBool") {
			return i18n.M("%s takes true or false, not %q", m[2], m[1])
		}
		return i18n.M("%s %q is not a valid value (%s)", m[2], m[1], m[3])
	}
	if m := reUnknownCommand.FindStringSubmatch(msg); m != nil {
		if suggest != "" {
			return i18n.M("unknown command %q for %s; did you mean %s?", m[1], m[2], suggest)
		}
		if strings.Contains(m[2], " ") {
			return i18n.M("%s takes no arguments, but %q was given; options are given as --flag VALUE", m[2], m[1])
		}
		return i18n.M("unknown command %q for %s", m[1], m[2])
	}
	if m := reAcceptsArgs.FindStringSubmatch(msg); m != nil {
		return i18n.M("this command takes %s arguments, but %s were given", m[1], m[2])
	}
	if m := reBadFlagSyntax.FindStringSubmatch(msg); m != nil {
		return i18n.M("bad flag syntax: %s", m[1])
	}
	return i18n.M("%v", err)
}
