package keys

import (
	"encoding/json"
	"errors"
	"strings"
)

// Discovery returns the authorization-server / OpenID provider metadata of
// SPEC §6 for issuer, advertising algs as the ID token signing algs. It
// states exactly what is supported (SEC-11): no "none" alg, no "plain"
// PKCE, only the enabled grants. Unknown algs are refused.
func Discovery(issuer string, algs []string) ([]byte, error) {
	if issuer == "" {
		return nil, errors.New("keys: discovery needs an issuer")
	}
	signing := make([]string, 0, len(algs))
	for _, a := range algs {
		if _, ok := algorithms[a]; !ok {
			return nil, errors.New("keys: discovery: unsupported alg " + a)
		}
		signing = append(signing, a)
	}
	if len(signing) == 0 {
		signing = append(signing, DefaultAlg)
	}
	base := strings.TrimSuffix(issuer, "/")
	clientAuth := []string{"client_secret_basic", "client_secret_post", "none", "private_key_jwt"}
	// The client-assertion algs (SPEC §11; provider.AssertionAlgs, which
	// keys cannot import).
	assertionAlgs := []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"}
	return json.Marshal(struct {
		Issuer                   string   `json:"issuer"`
		JWKSURI                  string   `json:"jwks_uri"`
		Authorization            string   `json:"authorization_endpoint"`
		Token                    string   `json:"token_endpoint"`
		Revocation               string   `json:"revocation_endpoint"`
		Introspection            string   `json:"introspection_endpoint"`
		UserInfo                 string   `json:"userinfo_endpoint"`
		GrantTypes               []string `json:"grant_types_supported"`
		ResponseTypes            []string `json:"response_types_supported"`
		ResponseModes            []string `json:"response_modes_supported"`
		CodeChallengeMethods     []string `json:"code_challenge_methods_supported"`
		IDTokenAlgs              []string `json:"id_token_signing_alg_values_supported"`
		TokenAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
		TokenAuthAlgs            []string `json:"token_endpoint_auth_signing_alg_values_supported"`
		RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported"`
		RevocationAuthAlgs       []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
		IntrospectionAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
		IntrospectionAuthAlgs    []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
		Scopes                   []string `json:"scopes_supported"`
		SubjectTypes             []string `json:"subject_types_supported"`
		Claims                   []string `json:"claims_supported"`
		ACRValues                []string `json:"acr_values_supported"`
		DPoPAlgs                 []string `json:"dpop_signing_alg_values_supported"`
		// SPEC §12: RFC 9207 iss on every authorization response; PAR
		// (RFC 9126), required per client only (--require-par).
		ISSParameter bool   `json:"authorization_response_iss_parameter_supported"`
		PAR          string `json:"pushed_authorization_request_endpoint"`
		RequirePAR   bool   `json:"require_pushed_authorization_requests"`
		// Logout (SPEC §12).
		EndSession          string `json:"end_session_endpoint"`
		Backchannel         bool   `json:"backchannel_logout_supported"`
		BackchannelSIDs     bool   `json:"backchannel_logout_session_supported"`
		DeviceAuthorization string `json:"device_authorization_endpoint"`
	}{
		EndSession:      base + "/oauth2/logout",
		Backchannel:     true,
		BackchannelSIDs: true,
		Issuer:          issuer,
		JWKSURI:         base + "/.well-known/jwks.json",
		Authorization:   base + "/oauth2/authorize",
		Token:           base + "/oauth2/token",
		Revocation:      base + "/oauth2/revoke",
		Introspection:   base + "/oauth2/introspect",
		UserInfo:        base + "/userinfo",
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials",
			"urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:device_code"},
		ResponseTypes:        []string{"code"},
		ResponseModes:        []string{"query"},
		CodeChallengeMethods: []string{"S256"},
		IDTokenAlgs:          signing,
		TokenAuthMethods:     clientAuth,
		TokenAuthAlgs:        assertionAlgs,
		// Public clients may revoke their own tokens with client_id alone;
		// introspection needs a confidential client (SPEC §7).
		RevocationAuthMethods:    clientAuth,
		RevocationAuthAlgs:       assertionAlgs,
		IntrospectionAuthMethods: []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		IntrospectionAuthAlgs:    assertionAlgs,
		Scopes:                   []string{"openid", "email", "phone", "profile", "offline_access"},
		SubjectTypes:             []string{"public"},
		Claims: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
			"amr", "acr", "email", "email_verified", "phone_number"},
		// Password only, or with a second factor (SPEC §10).
		ACRValues:           []string{"pwd", "mfa"},
		DPoPAlgs:            DPoPAlgs(),
		ISSParameter:        true,
		PAR:                 base + "/oauth2/par",
		RequirePAR:          false,
		DeviceAuthorization: base + "/oauth2/device_authorization", // RFC 8628 §4
	})
}

// DPoPAlgs returns the algorithms a DPoP proof may be signed with (SPEC
// §11): asymmetric only, never none or HS*. The proof verifier
// (provider.DPoP) accepts exactly these, and discovery lists them.
func DPoPAlgs() []string { return []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"} }
