//go:build !windows

package netcheck

import "syscall"

var (
	refusedErrors     = []error{syscall.ECONNREFUSED}
	unreachableErrors = []error{syscall.ENETUNREACH, syscall.EHOSTUNREACH}
	timeoutErrors     = []error{syscall.ETIMEDOUT}
)
