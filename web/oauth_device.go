package web

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// The device authorization grant (RFC 8628, SPEC §12): the device
// authorization endpoint and the grant at the token endpoint here; the
// /device page in page_device.go. provider.DeviceFlow owns every rule.

// routesDevice registers POST /oauth2/device_authorization and the /device
// page. The endpoint needs client authentication, the page the pages.
func (s *server) routesDevice(r *mux.Router) {
	if s.cfg.Device == nil || s.cfg.ClientAuth == nil {
		return
	}
	r.Handle("/oauth2/device_authorization", http.HandlerFunc(s.deviceAuthorization)).Methods(http.MethodPost)
	s.oauthWrongMethod(r, "POST", "/oauth2/device_authorization")
	if s.pages != nil {
		s.routesDevicePage(r)
	}
}

// deviceAuthorizationResponse is the RFC 8628 §3.2 body.
type deviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// deviceAuthorization: POST /oauth2/device_authorization. The request is
// a token request in shape (form body, client authentication as at the
// token endpoint, public clients by client_id; RFC 8628 §3.1), so it is
// read by the token endpoint's reader; only client_id, the credentials
// and scope count.
func (s *server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	req, err := readTokenRequest(r, false)
	if err != nil {
		writeOAuthError(w, r, s.log, err)
		return
	}
	c, err := s.cfg.ClientAuth.Authenticate(r.Context(), req.client, provider.UseCodeGrant)
	var a provider.DeviceAuthorization
	if err == nil {
		a, err = s.cfg.Device.Start(r.Context(), c, req.scope)
	}
	if err != nil {
		writeOAuthError(w, r, s.log, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(deviceAuthorizationResponse{
		DeviceCode: a.DeviceCode, UserCode: a.UserCode,
		VerificationURI: a.VerificationURI, VerificationURIComplete: a.VerificationURIComplete,
		ExpiresIn: int(a.ExpiresIn.Seconds()), Interval: int(a.Interval.Seconds()),
	})
}

// serveDevice runs the device_code grant of POST /oauth2/token: client
// authentication as for the code grant (public clients by client_id), a
// DPoP proof binds the tokens, and the poll's answer is the provider's.
func (e *tokenEndpoint) serveDevice(w http.ResponseWriter, r *http.Request, req *tokenRequest) {
	if e.device == nil {
		writeOAuthError(w, r, e.log, provider.ErrUnsupportedGrant)
		return
	}
	ctx := r.Context()
	c, err := e.auth.Authenticate(ctx, req.client, provider.UseCodeGrant)
	var jkt string
	if err == nil {
		jkt, err = e.auth.Bind(ctx, c, tokenEndpointProof(r, req.proof))
	}
	var out provider.CodeTokens
	if err == nil {
		out, err = e.device.DeviceToken(ctx, c, req.deviceCode, jkt)
	}
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	writeCodeTokens(w, out)
}
