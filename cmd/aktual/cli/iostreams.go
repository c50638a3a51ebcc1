package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// IOStreams owns standard input, output and error and knows which of them
// is a terminal. stdout is data; stderr is for people.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY: prompts may re-ask; ErrTTY: progress bars and decoration.
	InTTY  bool
	ErrTTY bool
	// P renders messages in the reader's language (English until the
	// command line is read).
	P *i18n.Printer
	// Quiet: only errors and the result reach stderr (--quiet).
	Quiet bool
	// Browser opens pages for the person (the classic series' Internet
	// code page); nil opens none, and the address is printed instead.
	Browser Browser

	lines   *bufio.Reader
	pending chan lineResult // a read still in flight from an interrupted prompt
	// watchSignals starts turning Ctrl-C into a clean stop (Main); nil
	// when the caller cancels the context itself (tests).
	watchSignals func()
}

type lineResult struct {
	line string
	err  error
}

// NewIOStreams detects terminals on real files, and opens pages in the
// system's browser.
func NewIOStreams(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut, InTTY: isTerminal(in), ErrTTY: isTerminal(errOut),
		P: i18n.NewPrinter(i18n.English), Browser: systemBrowser{}}
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// maxInputLine bounds one answer read from standard input.
const maxInputLine = 4096

// errEndOfInput is wrapped when standard input has no more lines.
var errEndOfInput = errors.New("end of input")

// ReadLine reads one line (without its end) from standard input. It never
// waits for input that cannot come: at end of input it fails.
func (s *IOStreams) ReadLine() (string, error) {
	if s.In == nil {
		return "", errEndOfInput
	}
	if s.lines == nil {
		s.lines = bufio.NewReaderSize(s.In, maxInputLine)
	}
	var b strings.Builder
	for {
		chunk, isPrefix, err := s.lines.ReadLine()
		if err == io.EOF && b.Len() == 0 {
			return "", errEndOfInput
		}
		if err != nil && err != io.EOF {
			return "", err
		}
		if b.Len()+len(chunk) > maxInputLine {
			return "", i18n.Errorf("the input line is longer than %d characters", maxInputLine)
		}
		b.Write(chunk)
		if !isPrefix || err == io.EOF {
			return strings.TrimSpace(b.String()), nil
		}
	}
}

// Prompt writes question to stderr and reads the answer. needed is the
// message shown when no answer can be read (standard input ended). Ctrl-C
// (ctx) ends the wait at once; the read left in flight is taken by the
// next prompt.
func (s *IOStreams) Prompt(ctx context.Context, question string, needed i18n.Message) (string, error) {
	fmt.Fprint(s.ErrOut, question)
	if s.pending == nil {
		s.pending = make(chan lineResult, 1)
		go func() {
			line, err := s.ReadLine()
			s.pending <- lineResult{line, err}
		}()
	}
	var r lineResult
	select {
	case r = <-s.pending:
		s.pending = nil
	case <-ctx.Done():
		fmt.Fprintln(s.ErrOut)
		return "", ctx.Err()
	}
	if !s.InTTY {
		fmt.Fprintln(s.ErrOut)
	}
	if errors.Is(r.err, errEndOfInput) {
		return "", &updater.Error{Kind: updater.ErrInputNeeded, Err: r.err, Msg: needed}
	}
	return r.line, r.err
}
