package web

import (
	"net/http"
	"net/url"

	"user-registry/provider"
)

// consentView is what the consent page shows.
type consentView struct {
	ClientName   string
	Domain       string
	Email        string // the signed-in user
	RedirectHost string // where the browser goes next
	Scopes       []provider.ScopeDescription
	// Request is the raw query of the authorization request, posted back
	// with the decision and validated again: the form carries no decision
	// the server has not checked, and no server-side state is needed.
	Request string
}

// renderConsent shows the consent page for req with a CSRF token bound to
// the signed-in session.
func (s *server) renderConsent(w http.ResponseWriter, r *http.Request, u provider.User, sess *provider.Session,
	req provider.AuthorizeRequest, rawQuery string) {
	name := req.Client.Name
	if name == "" {
		name = req.Client.Domain
	}
	host := req.RedirectURI
	if ru, err := url.Parse(req.RedirectURI); err == nil && ru.Host != "" {
		host = ru.Host
	}
	widenFormAction(w, req.RedirectURI)
	s.render(w, r, http.StatusOK, "consent", pageData{
		Title: "Allow access", SignedIn: true, CSRF: s.csrfToken(w, r, sess),
		Consent: &consentView{
			ClientName: name, Domain: req.Client.Domain, Email: u.Email, RedirectHost: host,
			Scopes: provider.DescribeScopes(req), Request: rawQuery,
		},
	})
}

// postConsent: POST /oauth2/consent from the consent page. The form needs
// a signed-in session and its CSRF token (403 otherwise). The authorization
// request it carries is validated again; then "deny" sends the browser
// back with access_denied, "approve" remembers the consent and issues a
// code.
func (s *server) postConsent(w http.ResponseWriter, r *http.Request) {
	u, sess, ok, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	// Without a session no token can be valid: the page was rendered
	// for a session that has ended (or never existed).
	if !ok || !s.csrfValid(r, &sess) {
		s.renderForbidden(w, r)
		return
	}
	q, ok := parseAuthorizeQuery(r.PostFormValue("authorize"))
	if !ok {
		s.renderOAuthError(w, r, "The authorization request is malformed or too long.")
		return
	}
	q, err = s.pushedQuery(r, q, true) // oauth_par.go
	if err != nil {
		s.authorizeFailed(w, r, err)
		return
	}
	req, err := s.cfg.CodeFlow.ValidateAuthorize(r.Context(), authorizeParams(q))
	if err != nil {
		s.authorizeFailed(w, r, err)
		return
	}
	switch r.PostFormValue("action") {
	case "deny":
		s.redirectToClient(w, req.DenyURL())
	case "approve":
		if err := s.cfg.CodeFlow.Approve(r.Context(), u.ID, req); err != nil {
			s.renderFailure(w, r, err)
			return
		}
		s.issueCode(w, r, u, sess, req)
	default:
		s.renderOAuthError(w, r, "Please choose Approve or Deny.")
	}
}
