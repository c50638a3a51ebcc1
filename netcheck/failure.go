package netcheck

import (
	"context"
	"errors"
	"net"
)

// failure is why a connection could not be made, as far as a remedy
// depends on it.
type failure int

const (
	otherFailure failure = iota
	refused
	timedOut
	unreachable
)

func connectFailure(err error) failure {
	switch {
	case isAny(err, refusedErrors):
		return refused
	case isTimeout(err):
		return timedOut
	case isAny(err, unreachableErrors):
		return unreachable
	}
	return otherFailure
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() || isAny(err, timeoutErrors)
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func isNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}
