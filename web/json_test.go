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
