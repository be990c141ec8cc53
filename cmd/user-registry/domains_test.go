package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"user-registry/provider"
)

// TestDomainAdminAPIAndCLIAgree: the admin API and `domains` accept and
// refuse the same names, store the same normalized record, and list it as
// the same JSON. A change through the API is honoured at once by the policy
// of the node that made it; a change through the CLI reaches the running
// node within provider.DomainPolicyTTL (SPEC §1).
func TestDomainAdminAPIAndCLIAgree(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "d.db")
	base := serve(t, nil, db)
	newClient := func(domain string, extra ...string) (id, secret string) {
		t.Helper()
		out, errOut, code := cli(t, nil, append([]string{"clients", "create", "--domain", domain, db}, extra...)...)
		var c struct {
			ID     string `json:"client_id"`
			Secret string `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(out), &c); code != 0 || err != nil {
			t.Fatalf("clients create: %d %s %v", code, errOut, err)
		}
		return c.ID, c.Secret
	}
	adminID, adminSecret := newClient("example.com", "--admin")
	cc := clientcredentials.Config{ClientID: adminID, ClientSecret: adminSecret, TokenURL: base + "/authority-token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	admin := tok.AccessToken

	verb := map[int]string{0: "allow", 1: "block"}
	for _, tc := range []struct {
		name, api, cli string // spellings of one name, one per surface
		belongsTo      int
		want           string // normalized; "" = refused
	}{
		{"upper case and trailing dot", "EVIL.com.", "Evil.COM.", 1, "evil.com"},
		{"subdomain", "A.evil.com", "a.EVIL.com", 0, "a.evil.com"},
		{"idn", "bücher.example", "bücher.example", 1, "xn--bcher-kva.example"},
		{"space inside", "not a domain", "not a domain", 1, ""},
		{"hyphen at a label end", "bad-.example", "BAD-.example", 1, ""},
		{"empty label", "a..example", "a..example", 0, ""},
		{"no dot", "localhost", "localhost", 1, ""},
		{"ip address", "10.0.0.1", "10.0.0.1", 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, "PUT", base+"/admin/domains/"+url.PathEscape(tc.api), `{"belongs_to":`+strconv.Itoa(tc.belongsTo)+`}`, admin)
			out, errOut, code := cli(t, nil, "domains", verb[tc.belongsTo], tc.cli, db)
			if tc.want == "" {
				msg, _ := body["message"].(string)
				if status != 400 || code != 1 || msg == "" || !strings.Contains(errOut, msg) {
					t.Fatalf("API %d %v, CLI %d %q: want both refused with one message", status, body, code, errOut)
				}
				return
			}
			if status != 200 || body["domain"] != tc.want || body["belongs_to"] != float64(tc.belongsTo) {
				t.Fatalf("API = %d %v, want 200 %s", status, body, tc.want)
			}
			if code != 0 || out != verb[tc.belongsTo]+"ed "+tc.want+"\n" {
				t.Fatalf("CLI = %d %q %q", code, out, errOut)
			}
		})
	}

	// One JSON type: the listing reads the same through both.
	listed, errOut, code := cli(t, nil, "domains", "list", "--json", db)
	if code != 0 {
		t.Fatalf("list: %d %s", code, errOut)
	}
	req, _ := http.NewRequest("GET", base+"/admin/domains", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	apiList, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	const want = `{"domains":[{"domain":"a.evil.com","belongs_to":0,"require_mfa":false},{"domain":"evil.com","belongs_to":1,"require_mfa":false},{"domain":"xn--bcher-kva.example","belongs_to":1,"require_mfa":false}]}` + "\n"
	if string(apiList) != want || listed != want {
		t.Fatalf("API list %q\nCLI list %q\nwant     %q", apiList, listed, want)
	}

	// Removing: both find the record under any spelling; both say when
	// there is none.
	if _, _, code := cli(t, nil, "domains", "remove", "A.Evil.com.", db); code != 0 {
		t.Fatal("CLI remove failed")
	}
	if status, _ := call(t, "DELETE", base+"/admin/domains/A.Evil.com.", "", admin); status != 404 {
		t.Fatalf("API remove of a removed record = %d, want 404", status)
	}
	if status, _ := call(t, "DELETE", base+"/admin/domains/XN--BCHER-KVA.example", "", admin); status != 204 {
		t.Fatalf("API remove = %d, want 204", status)
	}
	if _, errOut, code := cli(t, nil, "domains", "remove", "bücher.example", db); code != 1 || !strings.Contains(errOut, "no record for xn--bcher-kva.example") {
		t.Fatalf("CLI remove of a removed record = %d %q", code, errOut)
	}

	// The policy: a token request of victim.example's client loads this
	// node's cache; a block through the API refuses the next one at once,
	// well inside the cache's TTL.
	victimID, victimSecret := newClient("victim.example")
	tokenStatus := func() int {
		req, _ := http.NewRequest("POST", base+"/authority-token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(victimID, victimSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := tokenStatus(); s != 200 {
		t.Fatalf("token before the block = %d", s)
	}
	if status, _ := call(t, "PUT", base+"/admin/domains/Victim.Example", `{"belongs_to":1}`, admin); status != 200 {
		t.Fatalf("block = %d", status)
	}
	if s := tokenStatus(); s != 400 {
		t.Fatalf("token right after the API block = %d, want 400", s)
	}
	if _, _, code := cli(t, nil, "domains", "allow", "VICTIM.example", db); code != 0 {
		t.Fatal("CLI allow failed")
	}
	eventually(t, provider.DomainPolicyTTL+time.Second, "CLI allow honoured by the server", func() bool {
		return tokenStatus() == 200
	})
}
