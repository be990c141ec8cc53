package web

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// Messages of the lifecycle endpoints (SPEC §3a). The resend and forgot
// answers are the same whatever the address (SEC-53).
const (
	msgEmailVerified  = "Email verified"
	msgResendSent     = "If that address is registered and not yet verified, a new verification link has been sent."
	msgForgotSent     = "If that address is registered, a reset link has been sent."
	msgEmailMissing   = "Please provide an email"
	msgResetFieldsMis = "Please provide token and password"
)

// routesLifecycleAPI registers the JSON side of SPEC §3a when a mailer is
// configured: GET /verify-email (JSON or HTML, see apiVerifyEmail) and
// the JSON posts of resend, forgot and reset, each counted against the
// client IP's budget (limited) besides the per-address limit of the
// provider. The pages post forms to the same paths (page_lifecycle.go).
func (s *server) routesLifecycleAPI(r *mux.Router, limited func(http.Handler) http.Handler) {
	if s.cfg.Lifecycle == nil {
		return
	}
	r.Handle("/verify-email", noStore(s.audited(http.HandlerFunc(s.apiVerifyEmail)))).Methods(http.MethodGet)
	post := func(path string, h http.HandlerFunc) {
		r.Handle(path, limited(noStore(s.audited(h)))).Methods(http.MethodPost).MatcherFunc(isJSONRequest)
	}
	post("/verify-email/resend", s.apiResendVerification)
	post("/password/forgot", s.apiForgotPassword)
	post("/password/reset", s.apiResetPassword)
}

// apiVerifyEmail is GET /verify-email?token=… (the link in the mail):
// browsers (Accept preferring text/html) get a page, other callers
// {"message":"Email verified"}; a bad, used or expired token is a 400.
func (s *server) apiVerifyEmail(w http.ResponseWriter, r *http.Request) {
	_, err := s.cfg.Lifecycle.VerifyEmail(r.Context(), r.URL.Query().Get("token"))
	if s.pages != nil && prefersHTML(r) {
		if err != nil {
			status, msg := s.pageError(w, r, err)
			s.render(w, r, status, "verify", pageData{Title: "Link not valid", Heading: "Link not valid", Body: msg,
				LinkURL: "/account", LinkText: "Go to your account"})
			return
		}
		s.render(w, r, http.StatusOK, "verify", pageData{Title: msgEmailVerified, Heading: msgEmailVerified,
			Body: "Thank you, your email address is verified.", LinkURL: "/account", LinkText: "Continue"})
		return
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msgEmailVerified})
}

type emailRequest struct {
	Email string `json:"email"`
}

// apiResendVerification is POST /verify-email/resend {"email"}: 202 with
// one body for every address; 429 over the per-address or per-IP limit.
func (s *server) apiResendVerification(w http.ResponseWriter, r *http.Request) {
	s.apiMailRequest(w, r, s.cfg.Lifecycle.ResendVerification, msgResendSent)
}

// apiForgotPassword is POST /password/forgot {"email"} (SEC-53): 202 with
// one body for every address, registered or not; the mail, if any, goes
// out in the background.
func (s *server) apiForgotPassword(w http.ResponseWriter, r *http.Request) {
	s.apiMailRequest(w, r, s.cfg.Lifecycle.ForgotPassword, msgForgotSent)
}

// apiMailRequest decodes {"email"} and runs do: 400 only for a missing
// field, never for an unknown or malformed address, which would tell the
// caller what the store holds.
func (s *server) apiMailRequest(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, email string) error, msg string) {
	var req emailRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if strings.TrimSpace(req.Email) == "" {
		writeError(w, r, s.log, provider.InvalidInput(msgEmailMissing))
		return
	}
	if err := do(r.Context(), req.Email); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, message{msg})
}

type resetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// apiResetPassword is POST /password/reset {"token","password"}: 200
// "Password updated"; 400 for the password policy or a bad token. Every
// session and token of the user is revoked (SEC-54).
func (s *server) apiResetPassword(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Token == "" || req.Password == "" {
		writeError(w, r, s.log, provider.InvalidInput(msgResetFieldsMis))
		return
	}
	if _, err := s.cfg.Lifecycle.ResetPassword(r.Context(), req.Token, req.Password); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msgPasswordUpdated})
}

// prefersHTML reports whether the request's Accept header ranks
// text/html above application/json (RFC 9110 §12.5.1 q-values; wildcards
// count for both, so "*/*" alone means JSON, and a browser's
// "text/html,…,*/*;q=0.8" means HTML).
func prefersHTML(r *http.Request) bool {
	var html, js float64 = -1, -1
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/html":
			html = max(html, q)
		case "application/json":
			js = max(js, q)
		}
	}
	return html > 0 && html > js
}
