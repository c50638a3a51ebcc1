package cli

import (
	"io"

	"github.com/pkg/browser"
)

// Browser opens a URL for the person at this computer. Tests use a stub
// that records what was opened.
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

// newBrowser is the browser commands use.
var newBrowser = func() Browser { return systemBrowser{} }
