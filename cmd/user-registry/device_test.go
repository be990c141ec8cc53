package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// TestDeviceClientCommand: a client registered by the CLI with the device
// grant shows it in clients list --json and starts the device flow at a
// running server; discovery names the endpoint and the grant. With
// MySQL+Redis two nodes share the grant's state: a poll on one node and
// the next on the other are one device polling too fast.
func TestDeviceClientCommand(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			out, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", "tv.example", "--name", "TV",
				"--public", "--grant", deviceGrant, "--grant", "refresh_token", "--scope", "openid"}, b.args...)...)
			if code != 0 {
				t.Fatalf("create: %d %s", code, errOut)
			}
			var created struct {
				ClientID   string   `json:"client_id"`
				GrantTypes []string `json:"grant_types"`
			}
			if err := json.Unmarshal([]byte(out), &created); err != nil || !slices.Equal(created.GrantTypes, []string{deviceGrant, "refresh_token"}) {
				t.Fatalf("created %s: %v", out, err)
			}
			out, _, code = cli(t, nil, append([]string{"clients", "list", "--json"}, b.args...)...)
			var list struct {
				Clients []struct {
					ClientID   string   `json:"client_id"`
					GrantTypes []string `json:"grant_types"`
				} `json:"clients"`
			}
			if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Clients) != 1 ||
				list.Clients[0].ClientID != created.ClientID || !slices.Contains(list.Clients[0].GrantTypes, deviceGrant) {
				t.Fatalf("list: %d %s %v", code, out, err)
			}

			nodes := []string{serve(t, nil, b.args...)}
			if b.name == "mysql+redis" {
				nodes = append(nodes, serve(t, nil, b.args...))
			}
			status, disc := call(t, "GET", nodes[0]+"/.well-known/openid-configuration", "", "")
			grants, _ := json.Marshal(disc["grant_types_supported"])
			if status != 200 || disc["device_authorization_endpoint"] != nodes[0]+"/oauth2/device_authorization" ||
				!strings.Contains(string(grants), deviceGrant) {
				t.Fatalf("discovery %d %v", status, disc)
			}
			status, auth := postForm(t, nodes[0]+"/oauth2/device_authorization", url.Values{"client_id": {created.ClientID}})
			if status != 200 || auth["verification_uri"] != nodes[0]+"/device" || auth["interval"] != float64(5) {
				t.Fatalf("device authorization %d %v", status, auth)
			}
			poll := url.Values{"grant_type": {deviceGrant}, "client_id": {created.ClientID}, "device_code": {auth["device_code"].(string)}}
			want := []string{"authorization_pending", "slow_down"}
			for i, w := range want {
				node := nodes[i%len(nodes)]
				if status, body := postForm(t, node+"/oauth2/token", poll); status != 400 || body["error"] != w {
					t.Fatalf("poll %d at %s = %d %v, want %s", i, node, status, body, w)
				}
			}
		})
	}
}
