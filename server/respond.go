package server

import (
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
	if err := api.DecodeStrict(body, v); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "request body is not valid JSON of the expected shape: "+err.Error())
		return false
	}
	return true
}
