package provider

import (
	"encoding/json"
	"fmt"

	"user-registry/storage"
)

// The post-logout URIs are stored as one JSON list in a 4096-character
// column: these bounds keep any accepted list inside it.
const (
	maxPostLogoutURIs  = 20
	maxPostLogoutTotal = 4000 // encoded as JSON
)

// validateLogoutURIs checks the logout URIs of spec into c (SPEC §12,
// SEC-65): post-logout redirect URIs are absolute, without fragment,
// like redirect URIs, and matched exactly later; the back-channel URI is
// called by the server, so it follows the fetch rules (https, or http to
// a loopback host; no credentials). Returns ErrInvalidInput variants.
func validateLogoutURIs(spec ClientSpec, c *storage.Client) error {
	c.PostLogoutRedirectURIs = dedupe(spec.PostLogoutRedirectURIs)
	if len(c.PostLogoutRedirectURIs) > maxPostLogoutURIs {
		return InvalidInput(fmt.Sprintf("At most %d post-logout redirect URIs", maxPostLogoutURIs))
	}
	if b, _ := json.Marshal(c.PostLogoutRedirectURIs); len(b) > maxPostLogoutTotal {
		return InvalidInput("Post-logout redirect URIs: too long in all")
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return InvalidInput(fmt.Sprintf("Invalid post-logout redirect URI %q: absolute, without fragment", u))
		}
	}
	if spec.BackchannelLogoutURI != "" {
		if err := CheckFetchURL(spec.BackchannelLogoutURI); err != nil {
			return InvalidInput(fmt.Sprintf("Invalid back-channel logout URI: %s", Message(err)))
		}
	}
	c.BackchannelLogoutURI = spec.BackchannelLogoutURI
	return nil
}
