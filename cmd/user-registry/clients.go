package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/hkdf"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/web"
)

const clientsUsage = `Usage:
  user-registry clients create --domain D [--name N] [--scope S]... [--grant G]... [--redirect-uri U]...
                               [--audience A]... [--public] [--admin] [--domain-admin] [--trusted]
                               [--jwks FILE | --jwks-uri URL] [--dpop] [--require-par] [flags]
  user-registry clients list [--json] [flags]
  user-registry clients delete ID [flags]
  user-registry clients rotate-secret ID [--grace 24h] [flags]

Manages OAuth2 clients. create prints one JSON object with the client secret,
which is shown this once (only a keyed hash of it is stored). Grants:
client_credentials (the default), authorization_code, refresh_token,
urn:ietf:params:oauth:grant-type:device_code (RFC 8628: TVs and CLIs). --admin
adds scope registry:admin (the whole admin API); --domain-admin adds scope
domain:admin (the users and audit events of exactly --domain through the admin
API; not /admin/domains); --audience registers an audience
the client may ask tokens for; --trusted skips the consent page; --public makes
a client without a secret (authorization code flow with PKCE only).
--jwks FILE (a JWK Set of public keys) or --jwks-uri URL (https; fetched
with a 5 s timeout, at most 64 KiB, cached up to 5 minutes) makes a
private_key_jwt client: it has no secret and signs client assertions. --dpop
makes every token request of the client carry a DPoP proof (RFC 9449).
--require-par refuses the client's authorization requests unless it pushed
them to /oauth2/par first (RFC 9126; needs the authorization_code grant).
rotate-secret prints a new secret, shown this once; the previous one keeps
working for --grace (default 24h, 0 ends it at once, at most 720h).`

// clientHMACInfo is the HKDF info string: the client-secret key is derived
// from the key-encryption secret, so serve and the CLI agree on it without
// another secret to configure, and it is independent of the keys it encrypts.
const clientHMACInfo = "user-registry client secrets"

// clientHMACKey derives the key of the client-secret hashes (HKDF-SHA256)
// from the key-encryption secret. serve must derive it the same way.
func clientHMACKey(secret []byte) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(clientHMACInfo)), key); err != nil {
		return nil, fmt.Errorf("derive client secret key: %w", err)
	}
	return key, nil
}

// listedClient is a client in `clients list --json`: no secret, no hash.
type listedClient struct {
	ClientID     string   `json:"client_id"`
	Domain       string   `json:"domain"`
	Name         string   `json:"name"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	RedirectURIs []string `json:"redirect_uris"`
	Audiences    []string `json:"audiences"`
	Public       bool     `json:"public"`
	Admin        bool     `json:"admin"`
	Trusted      bool     `json:"trusted"`
	RequirePAR   bool     `json:"require_par"`
	CreatedAt    string   `json:"created_at"`
	// Logout (SPEC §12).
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty"`
}

func cmdClients(ctx context.Context, args []string, e env) error {
	var c storeConfig
	var spec provider.ClientSpec
	var scopes, grants, redirects, audiences, postLogout stringList
	var asJSON bool
	var jwksFile string
	fs := flag.NewFlagSet("clients", flag.ContinueOnError)
	c.register(fs)
	fs.StringVar(&spec.Domain, "domain", "", "create: the client's domain")
	fs.StringVar(&spec.Name, "name", "", "create: a display name")
	fs.Var(&scopes, "scope", "create: a scope the client may ask for (repeatable)")
	fs.Var(&grants, "grant", "create: a grant type (repeatable; default client_credentials)")
	fs.Var(&redirects, "redirect-uri", "create: a redirect URI (repeatable)")
	fs.Var(&audiences, "audience", "create: an audience the client may ask tokens for (repeatable)")
	fs.BoolVar(&spec.Public, "public", false, "create: a public client (no secret)")
	fs.BoolVar(&spec.Admin, "admin", false, "create: an admin client (scope registry:admin)")
	fs.BoolVar(&spec.DomainAdmin, "domain-admin", false, "create: a domain admin client (scope domain:admin: users of --domain)")
	fs.BoolVar(&spec.Trusted, "trusted", false, "create: skip the consent page")
	fs.StringVar(&jwksFile, "jwks", "", "create: file with the JWK Set of the client's public keys (private_key_jwt)")
	fs.StringVar(&spec.JWKSURI, "jwks-uri", "", "create: https URL of the client's JWK Set (private_key_jwt)")
	fs.BoolVar(&spec.DPoP, "dpop", false, "create: require a DPoP proof on every token request")
	fs.BoolVar(&spec.RequirePAR, "require-par", false, "create: refuse authorization requests not pushed to /oauth2/par first")
	fs.Var(&postLogout, "post-logout-redirect-uri", "create: where RP-initiated logout may return the browser (repeatable, exact match)")
	fs.StringVar(&spec.BackchannelLogoutURI, "backchannel-logout-uri", "", "create: https URL that receives back-channel logout tokens")
	var grace string
	fs.StringVar(&grace, "grace", "", "rotate-secret: how long the previous secret keeps working (default 24h)")
	fs.BoolVar(&asJSON, "json", false, "list: as JSON")
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, clientsUsage)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(e.stderr, clientsUsage)
		return errUsage
	}
	switch pos[0] {
	case "create":
		if len(pos) != 1 {
			return errors.New("clients create takes no arguments")
		}
		if spec.Domain == "" {
			return errors.New("clients create needs --domain")
		}
	case "list":
		if len(pos) != 1 {
			return errors.New("clients list takes no arguments")
		}
	case "delete":
		if len(pos) != 2 {
			return errors.New("clients delete needs exactly one ID")
		}
	case "rotate-secret":
		if len(pos) != 2 {
			return errors.New("clients rotate-secret needs exactly one ID")
		}
	default:
		fmt.Fprintf(e.stderr, "unknown clients command %q\n\n%s\n", pos[0], clientsUsage)
		return errUsage
	}
	spec.Scopes, spec.GrantTypes, spec.RedirectURIs, spec.Audiences = scopes, grants, redirects, audiences
	spec.PostLogoutRedirectURIs = postLogout
	if jwksFile != "" {
		if spec.JWKS, err = readJWKSFile(jwksFile); err != nil {
			return err
		}
	}

	db, secret, log, err := openWithSecret(ctx, &c, e)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, audit, flush := cliAudit(ctx, db, log)
	defer flush()
	key, err := clientHMACKey(secret)
	if err != nil {
		return err
	}
	// The CLI issues no tokens and registers no clients for users: no user
	// store, no domain policy, no token minter.
	clients := provider.NewClients(db, nil, nil, nil, key, nil)
	clients.SetAuditor(audit)

	switch pos[0] {
	case "rotate-secret":
		return rotateSecret(ctx, clients, pos[1], grace, e)
	case "create":
		cl, sec, err := clients.Create(ctx, spec)
		if err != nil {
			if msg := provider.Message(err); msg != "" {
				return errors.New(msg)
			}
			return err
		}
		if slices.Contains(cl.GrantTypes, provider.GrantAuthorizationCode) && len(cl.RedirectURIs) == 0 {
			fmt.Fprintln(e.stderr, "warning: the client has no --redirect-uri; its authorization requests will be refused")
		}
		return json.NewEncoder(e.stdout).Encode(web.NewCreatedClient(cl, sec))
	case "delete":
		if err := clients.Delete(ctx, pos[1]); err != nil {
			if errors.Is(err, provider.ErrClientNotFound) {
				return fmt.Errorf("no client %s", pos[1])
			}
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", pos[1])
		return nil
	}
	list, err := clients.List(ctx, "")
	if err != nil {
		return err
	}
	return printClients(list, asJSON, e)
}

// readJWKSFile reads a --jwks file, refusing one larger than a key set
// can reasonably be (the same 64 KiB as a fetched one).
func readJWKSFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--jwks: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, provider.FetchMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--jwks: %w", err)
	}
	if len(b) > provider.FetchMaxBytes {
		return nil, fmt.Errorf("--jwks: %s is larger than %d bytes", path, provider.FetchMaxBytes)
	}
	return b, nil
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func printClients(list []storage.Client, asJSON bool, e env) error {
	if asJSON {
		out := struct {
			Clients []listedClient `json:"clients"`
		}{Clients: []listedClient{}}
		for _, c := range list {
			out.Clients = append(out.Clients, listedClient{
				ClientID: c.ID, Domain: c.Domain, Name: c.Name, GrantTypes: orEmpty(c.GrantTypes),
				Scopes: orEmpty(c.Scopes), RedirectURIs: orEmpty(c.RedirectURIs), Audiences: orEmpty(c.Audiences),
				Public: c.Public, Admin: c.Admin, Trusted: c.Trusted, RequirePAR: c.RequirePAR, CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339),
				PostLogoutRedirectURIs: orEmpty(c.PostLogoutRedirectURIs), BackchannelLogoutURI: c.BackchannelLogoutURI,
			})
		}
		return json.NewEncoder(e.stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT_ID\tDOMAIN\tNAME\tGRANTS\tSCOPES\tCREATED")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Domain, c.Name, strings.Join(c.GrantTypes, ","),
			strings.Join(c.Scopes, " "), c.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// rotateSecret is `clients rotate-secret ID [--grace D]` (SPEC §11): it
// prints {"client_id","client_secret","previous_secret_expires_at"}, the
// body POST /clients/{id}/secret answers, for any client.
func rotateSecret(ctx context.Context, clients *provider.Clients, id, grace string, e env) error {
	d, err := web.ParseGrace(grace)
	if err != nil {
		return fmt.Errorf("--grace: %s", provider.Message(err))
	}
	rot, err := provider.NewSecretRotation(provider.SecretRotationDeps{Clients: clients})
	if err != nil {
		return err
	}
	ctx = provider.WithRequestInfo(ctx, provider.RequestInfo{Actor: provider.ActorCLI})
	out, err := rot.Rotate(ctx, id, d)
	if errors.Is(err, provider.ErrClientNotFound) {
		return fmt.Errorf("no client %s", id)
	}
	if err != nil {
		if msg := provider.Message(err); msg != "" {
			return errors.New(msg)
		}
		return err
	}
	return json.NewEncoder(e.stdout).Encode(web.NewRotatedSecret(out))
}
