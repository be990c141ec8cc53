package web

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

type probe struct {
	Email string `json:"email"`
	N     *int   `json:"n,omitempty"`
	Inner *struct {
		A string `json:"a"`
	} `json:"inner,omitempty"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		want              error
	}{
		{"ok", "application/json", `{"email":"a@b.c"}`, nil},
		{"ok with charset", "application/json; charset=utf-8", `{"email":"a@b.c"}`, nil},
		{"no content type", "", `{"email":"a@b.c"}`, errUnsupportedMedia},
		{"form", "application/x-www-form-urlencoded", `email=a`, errUnsupportedMedia},
		{"too large", "application/json", `{"email":"` + strings.Repeat("a", maxJSONBody) + `"}`, errTooLarge},
		{"unknown field", "application/json", `{"email":"a","role":"admin"}`, errBadJSON},
		{"wrong type", "application/json", `{"email":1}`, errBadJSON},
		{"two values", "application/json", `{"email":"a"}{"email":"b"}`, errBadJSON},
		{"trailing bracket", "application/json", `{"email":"a"}]`, errBadJSON},
		{"malformed", "application/json", `{"email":`, errBadJSON},
		{"empty", "application/json", ``, errBadJSON},
		{"bad utf8", "application/json", "{\"email\":\"\xff\"}", errBadJSON},
		{"null", "application/json", `null`, errBadJSON},
		{"array", "application/json", ` [{"email":"a"}]`, errBadJSON},
		{"string", "application/json", `"a"`, errBadJSON},
		{"number", "application/json", `1e400`, errBadJSON},
		{"nested ok", "application/json", `{"inner":{"a":"x"},"n":2}`, nil},
		{"duplicate key", "application/json", `{"email":"a","email":"b"}`, errBadJSON},
		{"duplicate key, same value", "application/json", `{"email":"a","email":"a"}`, errBadJSON},
		{"duplicate key, escaped", "application/json", `{"email":"a","em\u0061il":"b"}`, errBadJSON},
		{"duplicate nested key", "application/json", `{"inner":{"a":"x","a":"y"}}`, errBadJSON},
		{"duplicate object", "application/json", `{"inner":{"a":"x"},"inner":{"a":"y"}}`, errBadJSON},
		{"key in other case", "application/json", `{"Email":"x"}`, errBadJSON},
		{"key in upper case", "application/json", `{"EMAIL":"x"}`, errBadJSON},
		{"key in both cases", "application/json", `{"email":"a","Email":"b"}`, errBadJSON},
		{"nested key in other case", "application/json", `{"inner":{"A":"x"}}`, errBadJSON},
		{"lone surrogate", "application/json", `{"email":"\ud800"}`, errBadJSON},
		{"fraction into int", "application/json", `{"n":1.5}`, errBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/signup", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			var p probe
			err := decodeJSON(r, &p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("decodeJSON = %v, want %v", err, tt.want)
			}
			// The message goes to the client: no Go type names.
			if err != nil && strings.Contains(err.Error(), "Go value") {
				t.Errorf("message %q names a Go type", err)
			}
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"email":"a@b.c","n":3}`))
	f.Add([]byte(`{"email":"a"} 1`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p probe
		if err := unmarshalStrict(body, &p); err != nil && !errors.Is(err, errBadJSON) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}

// TestDecodeJSONMessages: the 400 says which key was wrong and how, and
// names no Go type (the JSON package's own texts do).
func TestDecodeJSONMessages(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"email":"a","email":"b"}`, `Malformed JSON body: key "email" is given twice`},
		{`{"inner":{"a":"x","a":"y"}}`, `Malformed JSON body: key "inner/a" is given twice`},
		{`{"Email":"x"}`, `Malformed JSON body: unknown field "Email"`},
		{`{"inner":{"A":"x"}}`, `Malformed JSON body: unknown field "inner/A"`},
		{`{"n":"1"}`, `Malformed JSON body: field "n" has the wrong type`},
		{`{"email":"a"}]`, `Malformed JSON body: invalid JSON at byte 13`},
		{`{"email":`, `Malformed JSON body: the body ends before the JSON value does`},
		{`{"` + strings.Repeat("x", 100) + `":1}`, `Malformed JSON body: unknown field "` + strings.Repeat("x", 64) + `…"`},
	}
	for _, tt := range tests {
		var p probe
		err := unmarshalStrict([]byte(tt.body), &p)
		if err == nil || err.Error() != tt.want {
			t.Errorf("unmarshalStrict(%s) = %v, want %q", tt.body, err, tt.want)
		}
	}
}
