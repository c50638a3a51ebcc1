package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"golang.org/x/text/language"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/metrics"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // our own types always encode; a failed write is a client that hung up
}

// writeError answers {"error": {"code", "message"}}, the message in the
// language the request asks for (Accept-Language): the installer shows it
// to the customer as it is. msg is an i18n.Message, or an error that can
// say its format (api and hwkey errors).
func writeError(w http.ResponseWriter, r *http.Request, status int, code string, msg i18n.Localizable) {
	metrics.NoteErrorCode(r, code) // for the metrics and the request log
	p := printer(r)
	w.Header().Set("Content-Language", p.Lang().String())
	writeJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: p.Sprint(msg)}})
}

// requestLanguage is the language of the request's Accept-Language that
// the server speaks (i18n.AcceptLanguage).
func requestLanguage(r *http.Request) language.Tag {
	return i18n.AcceptLanguage(r.Header.Get("Accept-Language"))
}

// printer renders messages for the reader of r's answer.
func printer(r *http.Request) *i18n.Printer { return i18n.NewPrinter(requestLanguage(r)) }

// readJSON reads a bounded body and decodes it strictly. It writes the
// error response itself and reports whether the caller may go on.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return readJSONUpTo(w, r, v, api.MaxRequestBody)
}

// readJSONUpTo is readJSON for a body of up to limit bytes.
func readJSONUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, http.StatusRequestEntityTooLarge, api.CodeBadRequest,
				i18n.M("request body is larger than %d bytes", limit))
			return false
		}
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("could not read the request body"))
		return false
	}
	// Every request is a JSON object. encoding/json takes null as "set
	// nothing", so a body of null would reach the handler as a zero
	// request, refused later for a missing field rather than for its shape.
	switch trimmed := bytes.TrimLeft(body, " \t\r\n"); {
	case len(trimmed) == 0:
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, i18n.M("request body is empty; send a JSON object"))
		return false
	case trimmed[0] != '{':
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
			i18n.M("request body is not valid JSON of the expected shape: it must be a JSON object"))
		return false
	}
	if err := api.DecodeStrict(body, v); err != nil {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
			i18n.M("request body is not valid JSON of the expected shape: %v", err))
		return false
	}
	return true
}

// readEmptyBody is readJSON for the endpoints whose request carries
// nothing (complete, release, challenges): no body, or an empty object.
// Anything else is refused, so a client's mistake is not silently taken
// for a valid request.
func readEmptyBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
		return true
	}
	return readJSON(w, r, &struct{}{})
}
