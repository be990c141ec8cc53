package provider

import (
	"bytes"
	"encoding/json"

	"user-registry/storage"
)

// validateClientKeys checks the keys of a private_key_jwt client spec and
// copies them into c: an inline JWK Set of acceptable public keys
// (parseKeySet), stored compacted, or a JWKS URI under the fetch rules
// (CheckFetchURL), never both, and never for a public client. Returns an
// error wrapping ErrInvalidInput.
func validateClientKeys(spec ClientSpec, c *storage.Client) error {
	jwks := bytes.TrimSpace(spec.JWKS)
	if len(jwks) == 0 && spec.JWKSURI == "" {
		return nil
	}
	switch {
	case len(jwks) > 0 && spec.JWKSURI != "":
		return InvalidInput("Give the keys inline (JWKS) or by URL (JWKS URI), not both")
	case spec.Public:
		return InvalidInput("A public client has no keys: it authenticates with nothing but PKCE")
	case spec.JWKSURI != "":
		if err := CheckFetchURL(spec.JWKSURI); err != nil {
			return err
		}
		c.JWKSURI = spec.JWKSURI
		return nil
	}
	if _, err := parseKeySet(jwks); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, jwks); err != nil {
		return InvalidInput("JWKS: not JSON")
	}
	c.JWKS = buf.Bytes()
	return nil
}
