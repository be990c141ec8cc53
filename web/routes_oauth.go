package web

import "github.com/gorilla/mux"

// routesOAuth registers the OAuth2 endpoints, client registration and the
// admin API (SPEC §4, §5, §7).
func (s *server) routesOAuth(r *mux.Router) {
}
