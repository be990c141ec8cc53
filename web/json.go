package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"
)

// maxJSONBody is the largest JSON request body accepted (SPEC §2, SEC-36).
const maxJSONBody = 16 << 10

// Errors of request decoding; errors.go maps them to 415, 413 and 400.
var (
	errUnsupportedMedia = clientMessage("Content-Type must be application/json")
	errTooLarge         = clientMessage("Request body too large")
	errBadJSON          = clientMessage("Malformed JSON body")
)

// decodeJSON reads exactly one JSON object from r into dst. It refuses other
// content types, bodies over maxJSONBody, invalid UTF-8, unknown fields,
// wrong types and anything after the first value.
func decodeJSON(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errUnsupportedMedia
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if len(body) > maxJSONBody {
		return errTooLarge
	}
	return unmarshalStrict(body, dst)
}

// unmarshalStrict is decodeJSON without the HTTP parts, so the fuzz target
// exercises exactly what requests go through.
func unmarshalStrict(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: body is not valid UTF-8", errBadJSON)
	}
	// Every request body is an object: refuse null (which would decode as
	// {}), arrays, strings and numbers here, with a message that names no
	// Go type.
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		return fmt.Errorf("%w: the body must be a JSON object", errBadJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("%w: field %q has the wrong type", errBadJSON, typeErr.Field)
		}
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: unexpected data after the JSON value", errBadJSON)
	}
	// dec.More is false at EOF but also before a stray closing bracket; a
	// second Decode tells the two apart.
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return fmt.Errorf("%w: unexpected data after the JSON value", errBadJSON)
	}
	return nil
}

// writeJSON writes v with status. Encoding errors cannot be reported to the
// client once the header is out, so they are ignored here.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// message is the body of user, client and admin endpoint answers.
type message struct {
	Message string `json:"message"`
}
