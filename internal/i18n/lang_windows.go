package i18n

import (
	"golang.org/x/sys/windows"
	"golang.org/x/text/language"
)

// systemLanguage is the user's first preferred UI language on Windows,
// where the locale variables are seldom set.
func systemLanguage() (language.Tag, bool) {
	langs, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err != nil || len(langs) == 0 {
		return English, false
	}
	return Parse(langs[0])
}
