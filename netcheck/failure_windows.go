package netcheck

import "syscall"

// Winsock's codes, which syscall's portable names (ECONNREFUSED…) do
// not match on Windows.
const (
	wsaENETUNREACH  syscall.Errno = 10051
	wsaETIMEDOUT    syscall.Errno = 10060
	wsaECONNREFUSED syscall.Errno = 10061
	wsaEHOSTUNREACH syscall.Errno = 10065
)

var (
	refusedErrors     = []error{syscall.ECONNREFUSED, wsaECONNREFUSED}
	unreachableErrors = []error{syscall.ENETUNREACH, syscall.EHOSTUNREACH, wsaENETUNREACH, wsaEHOSTUNREACH}
	timeoutErrors     = []error{syscall.ETIMEDOUT, wsaETIMEDOUT}
)
