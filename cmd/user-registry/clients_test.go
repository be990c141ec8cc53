package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// TestClientsCommandAndServe: a client created by the CLI while serve runs
// gets an authority token from it; list shows it without its secret;
// delete removes it.
func TestClientsCommandAndServe(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			base := serve(t, nil, b.args...)
			out, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", "Example.COM",
				"--name", "billing", "--scope", "read", "--scope", "write", "--admin"}, b.args...)...)
			if code != 0 {
				t.Fatalf("create: %d %s", code, errOut)
			}
			var created map[string]any
			if err := json.Unmarshal([]byte(out), &created); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Fatalf("create output %q: %v", out, err)
			}
			id, _ := created["client_id"].(string)
			secret, _ := created["client_secret"].(string)
			if id == "" || len(secret) < 43 || created["domain"] != "example.com" || created["name"] != "billing" {
				t.Fatalf("created %v", created)
			}
			if sc := created["scopes"].([]any); len(sc) != 3 || sc[2] != "registry:admin" {
				t.Fatalf("scopes %v", sc)
			}
			if strings.Contains(errOut, secret) {
				t.Fatal("secret on stderr")
			}

			cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: base + "/oauth2/token"}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatalf("token from serve: %v", err)
			}
			if tok.Extra("domain") != "example.com" || tok.Extra("scope") != "read write registry:admin" {
				t.Fatalf("token response %v %v", tok.Extra("domain"), tok.Extra("scope"))
			}

			pub, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", "example.com", "--public",
				"--redirect-uri", "http://127.0.0.1/cb"}, b.args...)...)
			if code != 0 || strings.Contains(pub, "client_secret") {
				t.Fatalf("public create: %d %s %s", code, pub, errOut)
			}
			if _, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", "example.com", "--grant", "password"}, b.args...)...); code != 1 || !strings.Contains(errOut, "grant") {
				t.Fatalf("password grant: %d %s", code, errOut)
			}

			out, _, code = cli(t, nil, append([]string{"clients", "list", "--json"}, b.args...)...)
			var list struct {
				Clients []map[string]any `json:"clients"`
			}
			if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Clients) != 2 {
				t.Fatalf("list: %d %s %v", code, out, err)
			}
			if strings.Contains(out, secret) || strings.Contains(out, "secret") {
				t.Fatalf("list shows a secret: %s", out)
			}
			if out, _, code := cli(t, nil, append([]string{"clients", "list"}, b.args...)...); code != 0 || !strings.Contains(out, id) {
				t.Fatalf("list text: %d %s", code, out)
			}

			if out, errOut, code := cli(t, nil, append([]string{"clients", "delete", id}, b.args...)...); code != 0 {
				t.Fatalf("delete: %d %s %s", code, out, errOut)
			}
			if _, errOut, code := cli(t, nil, append([]string{"clients", "delete", id}, b.args...)...); code != 1 || !strings.Contains(errOut, "no client") {
				t.Fatalf("delete again: %d %s", code, errOut)
			}
			if _, _, code := cli(t, nil, "clients", "create"); code == 0 {
				t.Fatal("create without --domain succeeded")
			}
		})
	}
}
