package cli

import (
	"io"

	"github.com/pkg/browser"

	"github.com/aktual/aktual/internal/i18n"
)

// Browser opens a URL for the person at this computer. It reaches each
// command through IOStreams; tests give a stub that records what was
// opened.
type Browser interface {
	Open(url string) error
}

type systemBrowser struct{}

// Open starts the system's browser. pkg/browser copies the launcher's
// output to its own Stdout, which is our data stream: silence it.
func (systemBrowser) Open(url string) error {
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	return browser.OpenURL(url)
}

// noBrowser is an IOStreams' browser when none was given: nothing is
// opened, and the command prints the address for the person instead.
type noBrowser struct{}

func (noBrowser) Open(string) error {
	return i18n.Errorf("no browser was given to aktual")
}

// browser is the browser commands open pages with: the one main gave
// (the system's), a test's stub, or none.
func (s *IOStreams) browser() Browser {
	if s.Browser == nil {
		return noBrowser{}
	}
	return s.Browser
}
