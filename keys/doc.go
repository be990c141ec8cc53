// Package keys is the token issuer: it owns the JWS signing keys (generation,
// encryption at rest, rotation shared by every node through the KeyStore),
// the JWKS and discovery documents, and the one token service that mints and
// verifies every JWT the server issues.
//
// Key lifecycle is derived only from immutable SigningKey rows, so several
// nodes reading one database agree on which key signs and which keys are
// published without talking to each other. keys does no HTTP; the web layer
// serves the bytes produced here.
package keys
