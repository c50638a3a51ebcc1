package testenv

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Console is a Windows console with one process in it, as a person at a
// cmd.exe or PowerShell window has it: a pseudo console (ConPTY), whose
// screen comes back as UTF-8 text with terminal sequences whatever the
// console's code page, so a test reads exactly what the person would see.
type Console struct {
	pc   windows.Handle
	proc windows.Handle
	pid  uint32

	mu     sync.Mutex
	screen bytes.Buffer
	read   chan struct{} // closed when the screen's pipe ends

	closeOnce sync.Once
	keys      windows.Handle
}

// kernel32's console calls that golang.org/x/sys/windows does not wrap.
var (
	kernel32              = windows.NewLazySystemDLL("kernel32.dll")
	procAttachConsole     = kernel32.NewProc("AttachConsole")
	procFreeConsole       = kernel32.NewProc("FreeConsole")
	procSetConsoleCtrlHdr = kernel32.NewProc("SetConsoleCtrlHandler")
)

// attachParentProcess is AttachConsole's "the parent's console".
const attachParentProcess = ^uintptr(0)

// StartConsole runs cmdline (a Windows command line) in a new pseudo
// console of width columns. The process inherits this one's environment.
// It is ended, and the console closed, when the test ends.
func StartConsole(t testing.TB, cmdline string, width int16) *Console {
	t.Helper()
	var inR, inW, outR, outW windows.Handle
	if err := windows.CreatePipe(&inR, &inW, nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := windows.CreatePipe(&outR, &outW, nil, 0); err != nil {
		t.Fatal(err)
	}
	c := &Console{read: make(chan struct{})}
	if err := windows.CreatePseudoConsole(windows.Coord{X: width, Y: 50}, inR, outW, 0, &c.pc); err != nil {
		t.Fatalf("CreatePseudoConsole: %v", err)
	}
	// The pseudo console holds its own ends now.
	windows.CloseHandle(inR)
	windows.CloseHandle(outW)
	attrs, err := windows.NewProcThreadAttributeList(1)
	if err != nil {
		t.Fatal(err)
	}
	defer attrs.Delete()
	// The attribute's value is the pseudo console's handle itself (an
	// address in kernelbase's memory, which Go's collector ignores).
	value := *(*unsafe.Pointer)(unsafe.Pointer(&c.pc))
	if err := attrs.Update(windows.PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE, value, unsafe.Sizeof(c.pc)); err != nil {
		t.Fatal(err)
	}
	si := &windows.StartupInfoEx{ProcThreadAttributeList: attrs.List()}
	si.Cb = uint32(unsafe.Sizeof(*si))
	cmd, err := windows.UTF16PtrFromString(cmdline)
	if err != nil {
		t.Fatal(err)
	}
	var pi windows.ProcessInformation
	if err := windows.CreateProcess(nil, cmd, nil, nil, false, windows.EXTENDED_STARTUPINFO_PRESENT, nil, nil, &si.StartupInfo, &pi); err != nil {
		t.Fatalf("starting %s in a console: %v", cmdline, err)
	}
	windows.CloseHandle(pi.Thread)
	c.proc, c.pid = pi.Process, pi.ProcessId
	// The keyboard's end stays open while the console lives: the pseudo
	// console ends when its input ends.
	c.keys = inW
	go c.copyScreen(os.NewFile(uintptr(outR), "pseudo console"))
	t.Cleanup(func() {
		windows.TerminateProcess(c.proc, 1)
		windows.WaitForSingleObject(c.proc, 5000)
		c.close()
		windows.CloseHandle(c.proc)
	})
	return c
}

func (c *Console) copyScreen(f *os.File) {
	defer close(c.read)
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		c.mu.Lock()
		c.screen.Write(buf[:n])
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// vt matches the terminal sequences the pseudo console draws with.
var vt = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]`)

// Text is what the console has shown so far, its terminal sequences
// removed and lines ended with "\n".
func (c *Console) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.ReplaceAll(vt.ReplaceAllString(c.screen.String(), ""), "\r\n", "\n")
}

// WaitFor waits up to d for the console to show s, and fails the test
// with what it shows otherwise.
func (c *Console) WaitFor(t testing.TB, s string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(c.Text(), s) {
			return
		}
	}
	var code uint32
	windows.GetExitCodeProcess(c.proc, &code)
	t.Fatalf("the console did not show %q within %v (the process's exit code: %d, 259 while it runs); it shows:\n%s", s, d, code, c.Text())
}

// CtrlC presses Ctrl-C in the console: the console sends CTRL_C_EVENT to
// every process attached to it, as the keyboard's Ctrl-C does. To send it,
// this process attaches to that console for a moment, ignoring the event
// itself, and then goes back to its own console, if it had one.
func (c *Console) CtrlC(t testing.TB) {
	t.Helper()
	procFreeConsole.Call()
	defer procAttachConsole.Call(attachParentProcess)
	if r, _, err := procAttachConsole.Call(uintptr(c.pid)); r == 0 {
		t.Fatalf("attaching to the test's console: %v", err)
	}
	defer procFreeConsole.Call()
	procSetConsoleCtrlHdr.Call(0, 1)       // this process ignores the Ctrl-C it sends
	defer procSetConsoleCtrlHdr.Call(0, 0) // and its later children do not inherit that
	if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_C_EVENT, 0); err != nil {
		t.Fatalf("GenerateConsoleCtrlEvent: %v", err)
	}
	// The event reaches the processes on their own threads: give them a
	// moment before this process's own handlers are back.
	time.Sleep(200 * time.Millisecond)
}

// Wait waits up to d for the process to end and returns its exit code;
// it fails the test when the process is still running.
func (c *Console) Wait(t testing.TB, d time.Duration) uint32 {
	t.Helper()
	ev, err := windows.WaitForSingleObject(c.proc, uint32(d/time.Millisecond))
	if err != nil || ev != windows.WAIT_OBJECT_0 {
		t.Fatalf("the process in the console did not end within %v (%v); it shows:\n%s", d, err, c.Text())
	}
	var code uint32
	if err := windows.GetExitCodeProcess(c.proc, &code); err != nil {
		t.Fatal(err)
	}
	c.close()
	return code
}

// close closes the pseudo console, which draws what is left of the screen
// and ends its pipe, and waits for the screen's last bytes.
func (c *Console) close() {
	c.closeOnce.Do(func() {
		windows.ClosePseudoConsole(c.pc)
		windows.CloseHandle(c.keys)
	})
	select {
	case <-c.read:
	case <-time.After(10 * time.Second):
	}
}

// ConsoleStdio opens the console this process is attached to as its
// standard input and output (CONIN$, CONOUT$): a process started by
// StartConsole may have inherited the test runner's redirected handles
// instead, which a person's console never gives.
func ConsoleStdio() (in, out *os.File, err error) {
	open := func(name string, access uint32) (*os.File, error) {
		p, _ := windows.UTF16PtrFromString(name)
		h, err := windows.CreateFile(p, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(h), name), nil
	}
	if in, err = open("CONIN$", windows.GENERIC_READ|windows.GENERIC_WRITE); err != nil {
		return nil, nil, err
	}
	if out, err = open("CONOUT$", windows.GENERIC_READ|windows.GENERIC_WRITE); err != nil {
		in.Close()
		return nil, nil, errors.Join(errors.New("opening CONOUT$"), err)
	}
	return in, out, nil
}
