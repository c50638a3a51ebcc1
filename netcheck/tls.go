package netcheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"

	"github.com/aktual/aktual/internal/i18n"
)

// dateFormat shows a certificate's dates; it reads the same in every
// language.
const dateFormat = "2006-01-02"

// checkTLS sets up TLS on the connection the tcp check made, then checks
// the certificate itself, so as to say exactly what is wrong with it.
func (k *checker) checkTLS(ctx context.Context) bool {
	if k.u.Scheme != "https" || k.conn == nil {
		return true
	}
	cfg := k.c.tlsConfig()
	roots := cfg.RootCAs
	cfg.ServerName = k.host
	cfg.InsecureSkipVerify = true // verified below, step by step
	cfg.VerifyPeerCertificate, cfg.VerifyConnection = nil, nil
	tc := tls.Client(k.conn, cfg)
	k.conn = tc
	hctx, cancel := context.WithTimeout(ctx, k.c.timeout())
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		k.closeConn()
		return k.add(k.handshakeProblem(err))
	}
	return k.add(k.certificateResult(tc.ConnectionState().PeerCertificates, roots))
}

func (k *checker) handshakeProblem(err error) Result {
	host := k.u.Host
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &header) && bytes.HasPrefix(header.RecordHeader[:], []byte("HTTP/")):
		return Result{Name: CheckTLS,
			Detail: i18n.M("%s answers plain HTTP, not HTTPS", host),
			Remedy: i18n.M("check the address: this server may need http:// instead of https://, or another port; ask your vendor which")}
	case errors.As(err, &header):
		return Result{Name: CheckTLS,
			Detail: i18n.M("%s does not answer with TLS (HTTPS)", host),
			Remedy: i18n.M("check the address: this server may need http:// instead of https://, or another port; ask your vendor which")}
	case isTimeout(err):
		return Result{Name: CheckTLS,
			Detail: i18n.M("the secure connection (TLS) to %s was not set up within %s", host, span(k.c.timeout())),
			Remedy: i18n.M("the server, or something between (a firewall or proxy), holds the connection: try again later; if it lasts, ask your network administrator")}
	}
	return Result{Name: CheckTLS,
		Detail: i18n.M("setting up the secure connection (TLS) to %s failed: %v", host, err),
		Remedy: i18n.M("a firewall or filter on your network may be cutting HTTPS connections: ask your network administrator; otherwise tell your vendor")}
}

// certificateResult checks the server's certificate as the HTTP client
// will, in the order that best names the remedy: dates (this computer's
// clock may be wrong), then name, then issuer.
func (k *checker) certificateResult(certs []*x509.Certificate, roots *x509.CertPool) Result {
	host, now := k.u.Host, k.c.Now.Now()
	if len(certs) == 0 {
		return Result{Name: CheckTLS,
			Detail: i18n.M("%s sent no certificate", host),
			Remedy: i18n.M("tell your vendor that the server's certificate is missing")}
	}
	leaf := certs[0]
	clockHint := i18n.M("if this computer's date is wrong, set the correct date and time; if it is right, the server's certificate must be renewed: tell your vendor")
	switch {
	case now.Before(leaf.NotBefore):
		return Result{Name: CheckTLS,
			Detail: i18n.M("the certificate of %s is valid only from %s, and this computer's date is %s", host, leaf.NotBefore.Local().Format(dateFormat), now.Format(dateFormat)),
			Remedy: clockHint}
	case now.After(leaf.NotAfter):
		return Result{Name: CheckTLS,
			Detail: i18n.M("the certificate of %s expired on %s (this computer's date is %s)", host, leaf.NotAfter.Local().Format(dateFormat), now.Format(dateFormat)),
			Remedy: clockHint}
	}
	if err := leaf.VerifyHostname(k.host); err != nil {
		return Result{Name: CheckTLS,
			Detail: i18n.M("the certificate is for %s, not for %s", certNames(leaf), k.host),
			Remedy: i18n.M("use the server's address exactly as your vendor gave it; if it is right, the certificate is wrong or something on your network intercepts HTTPS: tell your vendor or your network administrator")}
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), CurrentTime: now}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		r := Result{Name: CheckTLS,
			Detail: i18n.M("the certificate of %s could not be verified: %v", host, err),
			Remedy: i18n.M("tell your vendor, or your network administrator if your network inspects HTTPS")}
		if errors.As(err, new(x509.UnknownAuthorityError)) {
			r.Detail = i18n.M("the certificate of %s is issued by %s, which this computer does not trust", host, issuerName(leaf))
			if bytes.Equal(leaf.RawIssuer, leaf.RawSubject) {
				r.Detail = i18n.M("the certificate of %s is self-signed, and this computer does not trust it", host)
			}
			r.Remedy = i18n.M("if your network or antivirus inspects HTTPS, its certificate must be trusted by this computer: ask your network administrator; otherwise tell your vendor that the server's certificate is not trusted")
		}
		return r
	}
	left := leaf.NotAfter.Sub(now)
	r := Result{Name: CheckTLS, OK: true,
		Detail: i18n.M("certificate for %s, issued by %s, valid until %s (%s left)", subjectName(leaf), issuerName(leaf), leaf.NotAfter.Local().Format(dateFormat), span(left))}
	if left < CertWarning {
		r.Warning = true
		r.Remedy = i18n.M("the certificate expires soon: tell your vendor, so that it is renewed before updates stop working")
	}
	return r
}

func certNames(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		names = append(names, c.Subject.CommonName)
	}
	return strings.Join(names, ", ")
}

func subjectName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return certNames(c)
}

func issuerName(c *x509.Certificate) string {
	switch {
	case c.Issuer.CommonName != "":
		return c.Issuer.CommonName
	case len(c.Issuer.Organization) > 0:
		return c.Issuer.Organization[0]
	}
	return c.Issuer.String()
}
