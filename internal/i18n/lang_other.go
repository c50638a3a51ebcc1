//go:build !windows

package i18n

import "golang.org/x/text/language"

// systemLanguage: on Unix the locale variables are the system's setting.
func systemLanguage() (language.Tag, bool) { return English, false }
