package web

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// The /device page (RFC 8628 §3.3, SPEC §12): enter the code, sign in,
// consent. Every user code entered, by form or by the
// verification_uri_complete link, goes through provider.DeviceFlow, which
// counts it against the client IP's wrong-code limit. Forms carry the CSRF
// token of the session (or, signed out, of the pre-session cookie), like
// every other page.

// deviceView is what the device pages show.
type deviceView struct {
	UserCode   string // as typed (the entry form) or XXXX-XXXX (the consent form)
	ClientName string
	Domain     string
	Email      string
	Scopes     []provider.ScopeDescription
}

// maxUserCodeParam bounds a user code read from a query or a form; longer
// ones are wrong anyway (provider.NormalizeUserCode).
const maxUserCodeParam = 64

// routesDevicePage registers the page's GET and its two form posts.
func (s *server) routesDevicePage(r *mux.Router) {
	for _, name := range []string{"device", "device_confirm"} {
		s.pages.tmpl.byName[name] = template.Must(template.New("layout.html").ParseFS(pageFS,
			"templates/layout.html", "templates/"+name+".html"))
	}
	r.Handle("/device", noStore(s.audited(http.HandlerFunc(s.pageDevice)))).Methods(http.MethodGet, http.MethodHead)
	form := func(path string, h http.HandlerFunc) {
		r.Handle(path, noStore(s.audited(s.formPost(h)))).Methods(http.MethodPost).MatcherFunc(isFormPost)
	}
	form("/device", s.postDevice)
	form("/device/consent", s.postDeviceConsent)
}

// pageDevice: GET /device[?user_code=…]. Signed in with a code (the
// verification_uri_complete link, or back from the login page), the code is
// checked and the consent page shown; otherwise the entry form, prefilled
// with the code when there is one.
func (s *server) pageDevice(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	if len(code) > maxUserCodeParam {
		code = ""
	}
	u, sess, ok, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if !ok || code == "" {
		s.renderDeviceForm(w, r, http.StatusOK, code, "", sessionOrNil(ok, &sess))
		return
	}
	s.deviceConsent(w, r, u, &sess, code)
}

// postDevice: POST /device from the entry form. A right code leads a
// signed-in user to the consent page, and a signed-out one to the login
// page, which comes back to GET /device with the code.
func (s *server) postDevice(w http.ResponseWriter, r *http.Request) {
	u, sess, ok, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if !s.csrfValid(r, sessionOrNil(ok, &sess)) {
		s.renderForbidden(w, r)
		return
	}
	code := r.PostFormValue("user_code")
	if ok {
		s.deviceConsent(w, r, u, &sess, code)
		return
	}
	req, err := s.cfg.Device.Lookup(r.Context(), s.deviceIP(r), code)
	if err != nil {
		s.deviceFormError(w, r, code, nil, err)
		return
	}
	loginRedirect(w, r, "/device?user_code="+url.QueryEscape(req.UserCode))
}

// deviceConsent checks code for the signed-in user and shows the consent
// page, or the entry form with what was wrong.
func (s *server) deviceConsent(w http.ResponseWriter, r *http.Request, u provider.User, sess *provider.Session, code string) {
	req, err := s.cfg.Device.Lookup(r.Context(), s.deviceIP(r), code)
	if err != nil {
		s.deviceFormError(w, r, code, sess, err)
		return
	}
	name := req.Client.Name
	if name == "" {
		name = req.Client.Domain
	}
	s.render(w, r, http.StatusOK, "device_confirm", pageData{
		Title: "Allow a device", SignedIn: true, CSRF: s.csrfToken(w, r, sess),
		Device: &deviceView{UserCode: req.UserCode, ClientName: name, Domain: req.Client.Domain, Email: u.Email,
			Scopes: req.Scopes},
	})
}

// postDeviceConsent: POST /device/consent, the user's decision. It needs
// the signed-in session and its CSRF token (403 otherwise).
func (s *server) postDeviceConsent(w http.ResponseWriter, r *http.Request) {
	u, sess, ok, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if !ok || !s.csrfValid(r, &sess) {
		s.renderForbidden(w, r)
		return
	}
	var approve bool
	switch r.PostFormValue("action") {
	case "approve":
		approve = true
	case "deny":
	default:
		s.renderStatus(w, r, http.StatusBadRequest, "Bad request", "Please choose Approve or Deny.")
		return
	}
	code := r.PostFormValue("user_code")
	if _, err := s.cfg.Device.Decide(r.Context(), s.deviceIP(r), code, u, sess, approve); err != nil {
		s.deviceFormError(w, r, code, &sess, err)
		return
	}
	d := pageData{Title: "Device connected", Heading: "Device connected", SignedIn: true,
		Body: "You can go back to your device: it is signed in now.", LinkURL: "/account", LinkText: "Go to your account"}
	if !approve {
		d.Title, d.Heading, d.Body = "Request denied", "Request denied", "The device was not given access to your account."
	}
	s.render(w, r, http.StatusOK, "message", d)
}

// renderDeviceForm shows the entry form with status and an error message.
func (s *server) renderDeviceForm(w http.ResponseWriter, r *http.Request, status int, code, msg string, sess *provider.Session) {
	if len(code) > maxUserCodeParam {
		code = ""
	}
	s.render(w, r, status, "device", pageData{
		Title: "Connect a device", SignedIn: sess != nil, CSRF: s.csrfToken(w, r, sess), Error: msg,
		Device: &deviceView{UserCode: code},
	})
}

// deviceFormError shows the entry form with err: a wrong code (400), too
// many wrong codes from this address (429 with Retry-After), a store
// outage (503).
func (s *server) deviceFormError(w http.ResponseWriter, r *http.Request, code string, sess *provider.Session, err error) {
	status, msg := s.pageError(w, r, err)
	s.renderDeviceForm(w, r, status, code, msg, sess)
}

// deviceIP names the client address for the wrong-code limit as the
// per-IP limit does (an IPv6 /64 counts as one address).
func (s *server) deviceIP(r *http.Request) string {
	return ipRateKey(clientIP(r, s.cfg.TrustedProxies))
}

// sessionOrNil is the session of a signed-in request for csrfToken and
// csrfValid, nil when signed out.
func sessionOrNil(ok bool, sess *provider.Session) *provider.Session {
	if !ok {
		return nil
	}
	return sess
}
