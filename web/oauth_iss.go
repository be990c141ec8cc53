package web

import (
	"net/http"
	"net/url"
)

// redirectToClient sends the browser back to the client with an
// authorization response: a code, or an error. Every such redirect goes
// through here and carries our issuer as iss (RFC 9207 §2), so a client
// talking to several authorization servers can tell which one answered
// (mix-up attacks). target is the client's redirect URI with the response
// parameters, as provider built it; an iss the registered URI carried
// itself is replaced.
func (s *server) redirectToClient(w http.ResponseWriter, target string) {
	u, err := url.Parse(target)
	if err == nil { // provider built target from a validated URI
		q := u.Query()
		q.Set("iss", s.cfg.Issuer)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	redirectTo(w, target)
}
