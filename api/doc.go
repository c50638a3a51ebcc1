// Package api is the contract aktual and aktuald speak (DESIGN.md): the
// requests and answers on the wire, signed envelopes, key sets and trust
// files, update and Internet codes, versions and names.
package api
