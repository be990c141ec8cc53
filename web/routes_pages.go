package web

import "github.com/gorilla/mux"

// routesPages registers the HTML pages of SPEC §8.
func (s *server) routesPages(r *mux.Router) {
	if s.cfg.Accounts == nil || s.cfg.Sessions == nil {
		return
	}
}
