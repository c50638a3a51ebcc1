package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aktual/aktual/api"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: message}})
}

// readJSON reads a bounded body and decodes it strictly. It writes the
// error response itself and reports whether the caller may go on.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, api.CodeBadRequest,
				fmt.Sprintf("request body is larger than %d bytes", api.MaxRequestBody))
			return false
		}
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "could not read the request body")
		return false
	}
	// Every request is a JSON object. encoding/json takes null as "set
	// nothing", so a body of null would reach the handler as a zero
	// request, refused later for a missing field rather than for its shape.
	switch trimmed := bytes.TrimLeft(body, " \t\r\n"); {
	case len(trimmed) == 0:
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "request body is empty; send a JSON object")
		return false
	case trimmed[0] != '{':
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "request body is not valid JSON of the expected shape: it must be a JSON object")
		return false
	}
	if err := api.DecodeStrict(body, v); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "request body is not valid JSON of the expected shape: "+err.Error())
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
