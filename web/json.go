package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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
// content types, bodies over maxJSONBody, and whatever unmarshalStrict
// refuses.
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

// strictOptions are the decoding rules of SPEC §2. The last three are the
// package's defaults, spelled out because they are the point: two parsers
// that disagree on {"email":"a","email":"b"} or {"Email":...} (encoding/json
// takes the last key and matches names in any case) let a checker and a
// user of the same body see different values.
func strictOptions() jsonv2.Options {
	return jsonv2.JoinOptions(
		jsonv2.RejectUnknownMembers(true),
		jsonv2.MatchCaseInsensitiveNames(false),
		jsontext.AllowDuplicateNames(false),
		jsontext.AllowInvalidUTF8(false),
	)
}

// unmarshalStrict is decodeJSON without the HTTP parts, so the fuzz target
// exercises exactly what requests go through. It refuses invalid UTF-8,
// anything but an object, unknown fields, names matching a field only in
// case, a name given twice (at any depth), wrong types and anything after
// the first value. Every error wraps errBadJSON, and its text names no Go
// type.
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
	if err := jsonv2.Unmarshal(body, dst, strictOptions()); err != nil {
		return fmt.Errorf("%w: %s", errBadJSON, decodeProblem(err))
	}
	return nil
}

// decodeProblem describes an Unmarshal error for the client. The package's
// own texts name Go types, so they are not passed on.
func decodeProblem(err error) string {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return fmt.Sprintf("key %q is given twice", memberName(err))
	case errors.Is(err, jsonv2.ErrUnknownName):
		return fmt.Sprintf("unknown field %q", memberName(err))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "the body ends before the JSON value does"
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.ByteOffset)
	case errors.As(err, &sem) && sem.JSONPointer != "":
		return fmt.Sprintf("field %q has the wrong type", memberName(err))
	default:
		return "the body does not match the request"
	}
}

// memberName is the JSON pointer of the member an error is about, without
// the leading slash ("email", "inner/a"), cut to a length fit for a message.
func memberName(err error) string {
	var p jsontext.Pointer
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	if errors.As(err, &syn) {
		p = syn.JSONPointer
	} else if errors.As(err, &sem) {
		p = sem.JSONPointer
	}
	name := strings.TrimPrefix(string(p), "/")
	if len(name) > 64 {
		name = strings.ToValidUTF8(name[:64], "") + "…"
	}
	return name
}

// writeJSON writes v with status. Encoding errors cannot be reported to the
// client once the header is out, so they are ignored here. Answers stay on
// encoding/json: the strict package differs in what it writes (omitempty,
// nil slices), and only reading needed to change.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// message is the body of user, client and admin endpoint answers.
type message struct {
	Message string `json:"message"`
}
