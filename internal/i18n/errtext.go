package i18n

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"syscall"
)

// describe names the system and network causes a customer meets, so that
// they read in the customer's language rather than as Go wrote them.
func describe(err error) (Message, bool) {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return M("the name %s is not known (DNS)", dns.Name), true
	case errors.As(err, &dns) && dns.IsTimeout:
		return M("looking up the name %s took too long (DNS)", dns.Name), true
	case errors.As(err, &dns):
		return M("the name %s could not be looked up (DNS: %s)", dns.Name, dns.Err), true
	case errors.As(err, &unknownCA):
		return M("the server's certificate is not signed by an authority this computer trusts"), true
	case errors.As(err, &hostname):
		return M("the server's certificate is for another name than %s", hostname.Host), true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return M("the server's certificate has expired or is not valid yet"), true
	case errors.As(err, &invalid):
		return M("the server's certificate is not valid (%s)", invalid.Detail), true
	case errors.As(err, &verify):
		return M("the server's certificate could not be verified"), true
	case errors.As(err, &header):
		return M("the server does not speak HTTPS on that port"), true
	case errors.Is(err, syscall.ECONNREFUSED):
		return M("the connection was refused (nothing answers on that port, or a firewall refuses it)"), true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return M("the connection was cut by the other side or the network"), true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return M("the network is unreachable from this computer"), true
	case errors.Is(err, syscall.ENOSPC):
		return M("the disk is full"), true
	case errors.Is(err, syscall.EROFS):
		return M("the disk is read-only"), true
	case errors.Is(err, fs.ErrPermission):
		return M("permission denied"), true
	case errors.Is(err, fs.ErrNotExist):
		return M("the file does not exist"), true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return M("the connection closed before the answer was complete"), true
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return M("it took too long"), true
	case errors.Is(err, context.Canceled):
		return M("interrupted"), true
	}
	return Message{}, false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
