package web

import (
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/gorilla/mux"

	"user-registry/provider"
)

// clientsAPI serves /clients (SPEC §5): users register client_credentials
// clients for their own email domain and manage the ones they registered.
// Errors are {"message"} bodies.
type clientsAPI struct{ s *server }

// requireUser admits user access tokens only. An authority token is a
// valid bearer token too, but a client registering further clients would
// let one leaked secret multiply itself. And, as on the account API, only
// first-party (/login, /refresh) tokens: an app the user let sign them in
// must not register or delete clients in the user's name.
func (c *clientsAPI) requireUser(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		claims, ok := claimsFrom(r.Context())
		if !ok || claims.Email == "" || claims.Domain == "" || claims.Subject == claims.ClientID {
			writeError(w, r, c.s.log, provider.ErrForbidden)
			return
		}
		if c.s.cfg.Accounts == nil {
			writeError(w, r, c.s.log, provider.ErrForeignToken)
			return
		}
		if err := c.s.cfg.Accounts.FirstParty(claims); err != nil {
			writeError(w, r, c.s.log, err)
			return
		}
		next(w, r)
	}
}

// CreatedClient is the body announcing a new client, the one place its
// secret is ever shown: the 201 of POST /clients and the output of
// `user-registry clients create` (SPEC §1, §5) share it. secret is "" for
// a public client, and then left out.
type CreatedClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Domain       string   `json:"domain"`
	Name         string   `json:"name"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
}

// NewCreatedClient builds the body for client c and its secret.
func NewCreatedClient(c provider.Client, secret string) CreatedClient {
	return CreatedClient{
		ClientID: c.ID, ClientSecret: secret, Domain: c.Domain, Name: c.Name,
		GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes),
	}
}

// clientJSON is a listed client: never a secret or its hash.
type clientJSON struct {
	ClientID   string   `json:"client_id"`
	Domain     string   `json:"domain"`
	Name       string   `json:"name"`
	GrantTypes []string `json:"grant_types"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// create: POST /clients {"name"?,"jwks"?} → 201. The body may be absent.
// With "jwks" (a JWK Set of public keys) the client uses private_key_jwt
// and gets no secret; a URL to fetch keys from is never taken from a user
// (SEC-61: "jwks_uri" is an unknown field). Who may register, and for
// which domain, is provider.Clients.RegisterForUser's to decide.
func (c *clientsAPI) create(w http.ResponseWriter, r *http.Request) {
	claims, _ := claimsFrom(r.Context())
	var body struct {
		Name string         `json:"name"`
		JWKS jsontext.Value `json:"jwks"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			writeError(w, r, c.s.log, err)
			return
		}
	}
	if len(body.JWKS) > 0 && body.JWKS.Kind() != '{' {
		writeError(w, r, c.s.log, provider.InvalidInput(`jwks: a JWK Set object {"keys":[…]}`))
		return
	}
	cl, secret, err := c.s.cfg.Clients.RegisterForUserWithKeys(r.Context(), claims.Subject, body.Name, body.JWKS)
	if err != nil {
		writeError(w, r, c.s.log, err)
		return
	}
	c.s.log.InfoContext(r.Context(), "client created", "client_id", cl.ID, "domain", cl.Domain, "by", claims.Subject)
	writeJSON(w, http.StatusCreated, NewCreatedClient(cl, secret))
}

// list: GET /clients → the clients this user registered.
func (c *clientsAPI) list(w http.ResponseWriter, r *http.Request) {
	claims, _ := claimsFrom(r.Context())
	list, err := c.s.cfg.Clients.ListForUser(r.Context(), claims.Subject)
	if err != nil {
		writeError(w, r, c.s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Clients []clientJSON `json:"clients"`
	}{clientsJSON(list)})
}

func clientsJSON(list []provider.Client) []clientJSON {
	out := make([]clientJSON, 0, len(list))
	for _, cl := range list {
		out = append(out, clientJSON{
			ClientID: cl.ID, Domain: cl.Domain, Name: cl.Name, GrantTypes: nonNil(cl.GrantTypes),
			Scopes: nonNil(cl.Scopes), CreatedAt: cl.CreatedAt.UTC().Format(time.RFC3339),
		})
	}
	return out
}

// delete: DELETE /clients/{id} → 204 for a client this user registered;
// 404 for any other, exactly as for a missing one.
func (c *clientsAPI) delete(w http.ResponseWriter, r *http.Request) {
	claims, _ := claimsFrom(r.Context())
	id := mux.Vars(r)["id"]
	if err := c.s.cfg.Clients.RemoveForUser(r.Context(), claims.Subject, id); err != nil {
		writeError(w, r, c.s.log, err)
		return
	}
	c.s.log.InfoContext(r.Context(), "client deleted", "client_id", id, "by", claims.Subject)
	w.WriteHeader(http.StatusNoContent)
}
