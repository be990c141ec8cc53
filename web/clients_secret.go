package web

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// RotatedSecret is the answer to a secret rotation, shared by
// POST /clients/{id}/secret and `user-registry clients rotate-secret`
// (SPEC §11): the new secret, shown this once, and the instant (RFC 3339)
// the previous one stops working.
type RotatedSecret struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	PreviousSecretExpiresAt string `json:"previous_secret_expires_at"`
}

// NewRotatedSecret builds the body of a rotation.
func NewRotatedSecret(r provider.RotatedSecret) RotatedSecret {
	return RotatedSecret{r.ClientID, r.Secret, r.PreviousSecretExpiresAt.UTC().Format(time.RFC3339)}
}

// ParseGrace reads a grace period ("24h", "90m", "0s"); "" is
// provider.DefaultSecretGrace. Range checks are the provider's.
func ParseGrace(s string) (time.Duration, error) {
	if s == "" {
		return provider.DefaultSecretGrace, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, provider.InvalidInput("grace must be a duration such as \"24h\"")
	}
	return d, nil
}

// rotateSecret: POST /clients/{id}/secret {"grace"?} → 200 for a client
// this user registered; 404 for any other, as for DELETE. The body may be
// absent.
func (c *clientsAPI) rotateSecret(w http.ResponseWriter, r *http.Request) {
	claims, _ := claimsFrom(r.Context())
	var body struct {
		Grace string `json:"grace"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			writeError(w, r, c.s.log, err)
			return
		}
	}
	grace, err := ParseGrace(body.Grace)
	if err != nil {
		writeError(w, r, c.s.log, err)
		return
	}
	id := mux.Vars(r)["id"]
	ctx := provider.WithRequestInfo(r.Context(), provider.RequestInfo{
		IP: clientIP(r, c.s.cfg.TrustedProxies).String(), UserAgent: r.UserAgent(), Actor: provider.ActorUser,
	})
	out, err := c.s.cfg.SecretRotation.RotateForUser(ctx, claims.Subject, id, grace)
	if err != nil {
		writeError(w, r, c.s.log, err)
		return
	}
	c.s.log.InfoContext(r.Context(), "client secret rotated", "client_id", id, "by", claims.Subject, "grace", grace)
	writeJSON(w, http.StatusOK, NewRotatedSecret(out))
}
