package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestContentTypeDecidesHTML: on the paths the pages and the JSON API share,
// only application/x-www-form-urlencoded gets the pages' HTML (SPEC §2);
// multipart/form-data, text/plain and a missing Content-Type get the JSON
// 415, and application/json with parameters is the JSON API's as usual.
// Over real HTTP, for /signup, /login and /update.
func TestContentTypeDecidesHTML(t *testing.T) {
	env := newTestEnv(t, "sqlite+memory")
	signup(t, env.Handler, "ct@example.com")
	access, _ := login(t, env.Handler, "ct@example.com", testPassword)

	mpBody := "--XX\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmp@example.com\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + testPassword + "\r\n--XX--\r\n"
	const multipart = "multipart/form-data; boundary=XX"
	const unsupported = "Content-Type must be application/json"
	endpoints := []struct {
		path, json, form string
		bearer           bool
	}{
		{"/signup", `{"email":"new@example.com","password":"` + testPassword + `"}`, "email=form%40example.com&password=x", false},
		{"/login", `{"email":"ct@example.com","password":"` + testPassword + `"}`, "email=ct%40example.com&password=x", false},
		{"/update", `{"discoverable":false}`, "discoverable=0", true},
	}
	for _, ep := range endpoints {
		tests := []struct {
			name, ctype, body string
			status            int    // 0: any 2xx
			msg               string // "": no message check
			html              bool
		}{
			{"multipart", multipart, mpBody, 415, unsupported, false},
			{"multipart without boundary", "multipart/form-data", mpBody, 415, unsupported, false},
			{"text/plain", "text/plain", ep.json, 415, unsupported, false},
			{"no content type", "", ep.json, 415, unsupported, false},
			{"form", "application/x-www-form-urlencoded", ep.form, 403, "", true}, // no CSRF token
			{"json with charset", "application/json; charset=utf-8", ep.json, 0, "", false},
		}
		for _, tt := range tests {
			t.Run(ep.path+"/"+tt.name, func(t *testing.T) {
				req, err := http.NewRequest("POST", env.Server.URL+ep.path, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.ctype != "" {
					req.Header.Set("Content-Type", tt.ctype)
				}
				if ep.bearer {
					req.Header.Set("Authorization", "Bearer "+access)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ct := resp.Header.Get("Content-Type")
				if tt.html {
					if resp.StatusCode != tt.status || !strings.HasPrefix(ct, "text/html") {
						t.Fatalf("= %d %q, want %d HTML", resp.StatusCode, ct, tt.status)
					}
					return
				}
				if tt.status == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299) ||
					tt.status != 0 && resp.StatusCode != tt.status {
					t.Fatalf("= %d %s, want %d", resp.StatusCode, raw, tt.status)
				}
				var body map[string]any
				if ct != "application/json" || json.Unmarshal(raw, &body) != nil {
					t.Fatalf("= %d %q %q, want a JSON object", resp.StatusCode, ct, raw)
				}
				if tt.msg != "" && (len(body) != 1 || body["message"] != tt.msg) {
					t.Fatalf("body = %s, want {\"message\":%q}", raw, tt.msg)
				}
			})
		}
	}
}
