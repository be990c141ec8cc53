package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"user-registry/provider"
)

// The pages of second factors (SPEC §10): the "Two-factor authentication"
// page after the password, the forced enrolment of a user who must have a
// factor and has none, and the account page's Security section. No script:
// the QR code is an inline SVG drawn here, and "Use a recovery code" is a
// <details> element. Passkeys need the browser's WebAuthn API, so their
// buttons run static/passkeys.js (page_passkeys.go).

// mfaView is what the second-factor templates show.
type mfaView struct {
	Token         string // the mfa_token of a sign-in in progress
	Passkey       bool   // the user can use a passkey (the passkey pages' button)
	Recovery      bool   // the user has recovery codes
	TOTP          bool   // TOTP is on (account page; the code field of the two-factor page)
	CodesLeft     int
	Secret        string                 // an enrolment in progress: its key
	QR            template.HTML          // and its otpauth URI as a QR code
	RecoveryCodes []string               // shown once
	Passkeys      []provider.PasskeyInfo // the account page's list
}

// routesMFAPages registers the form posts of the second-factor pages.
func (s *server) routesMFAPages(form func(string, http.HandlerFunc)) {
	if s.cfg.MFA == nil {
		return
	}
	form("/login/mfa", s.postLoginMFA)
	form("/login/mfa/setup", s.postMFASetup)
	form("/account/totp", s.postTOTPStart)
	form("/account/totp/confirm", s.postTOTPConfirm)
	form("/account/totp/disable", s.postTOTPDisable)
	form("/account/recovery-codes", s.postRecoveryCodes)
}

// pageSecondStep follows a right password on the login form: a user with
// a factor gets the two-factor page; one who must have a factor (the
// domain requires it, or the pending authorization request asks for one)
// and has none goes straight to enrolment; anyone else is signed in.
func (s *server) pageSecondStep(w http.ResponseWriter, r *http.Request, u provider.User, next string, fail func(int, string)) {
	ctx := r.Context()
	err := s.cfg.MFA.SecondStep(ctx, u)
	var need *provider.MFARequiredError
	switch {
	case errors.As(err, &need):
		s.render(w, r, http.StatusOK, "mfa", pageData{
			Title: "Two-factor authentication", CSRF: s.csrfToken(w, r, nil), Next: next,
			MFA: &mfaView{Token: need.Token, TOTP: need.HasMethod(provider.MethodTOTP), Passkey: need.HasMethod(provider.MethodPasskey),
				Recovery: need.HasMethod(provider.MethodRecoveryCode)},
		})
		return
	case errors.Is(err, provider.ErrMFASetupRequired), err == nil && nextWantsMFA(next):
		s.startForcedEnrolment(w, r, u, next, fail)
		return
	case err != nil:
		fail(s.pageError(w, r, err))
		return
	}
	s.signedIn(w, r, u, []string{provider.AMRPassword}, next)
}

// nextWantsMFA reports whether the pending authorization request asks for
// a second factor (acr_values=mfa).
func nextWantsMFA(next string) bool {
	u, err := url.Parse(next)
	if err != nil || next == "" {
		return false
	}
	q, ok := parseAuthorizeQuery(u.RawQuery)
	return ok && provider.WantsMFA(q)
}

// signedIn starts the browser session and goes on.
func (s *server) signedIn(w http.ResponseWriter, r *http.Request, u provider.User, amr []string, next string) {
	if err := s.startPageSessionAMR(w, r, u, amr); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	http.Redirect(w, r, afterLogin(next), http.StatusSeeOther)
}

// startForcedEnrolment opens a challenge for u (the password was right)
// and shows a new TOTP enrolment to confirm with it.
func (s *server) startForcedEnrolment(w http.ResponseWriter, r *http.Request, u provider.User, next string, fail func(int, string)) {
	tok, err := s.cfg.MFA.StartChallenge(r.Context(), u)
	if err != nil {
		fail(s.pageError(w, r, err))
		return
	}
	en, err := s.cfg.MFA.StartTOTPForced(r.Context(), u)
	if err != nil {
		fail(s.pageError(w, r, err))
		return
	}
	s.renderSetup(w, r, http.StatusOK, tok, en, next, "")
}

func (s *server) renderSetup(w http.ResponseWriter, r *http.Request, status int, tok string, en provider.TOTPEnrolment, next, errMsg string) {
	view := &mfaView{Token: tok, Secret: en.Secret, QR: qrSVG(en.OTPAuthURI)}
	s.render(w, r, status, "mfa_setup", pageData{
		Title: "Set up two-factor authentication", CSRF: s.csrfToken(w, r, nil), Next: next, Error: errMsg, MFA: view,
		Body: "Your sign-in needs a second factor. Set up an authenticator app to continue.",
	})
}

// postLoginMFA: POST /login/mfa from the two-factor page.
func (s *server) postLoginMFA(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		s.renderForbidden(w, r)
		return
	}
	tok, code := r.PostFormValue("mfa_token"), strings.TrimSpace(r.PostFormValue("code"))
	next, _ := safeNext(r.PostFormValue("next"))
	if err := s.pageIPLimit(r); err != nil {
		s.renderLoginAgain(w, r, next, err)
		return
	}
	u, err := s.cfg.MFA.VerifyCode(r.Context(), tok, code)
	if errors.Is(err, provider.ErrWrongCode) {
		pu, perr := s.cfg.MFA.PendingUser(r.Context(), tok)
		if perr == nil {
			methods, merr := s.cfg.MFA.Methods(r.Context(), pu.ID)
			if merr == nil {
				status, msg := s.pageError(w, r, err)
				s.render(w, r, status, "mfa", pageData{
					Title: "Two-factor authentication", CSRF: s.csrfToken(w, r, nil), Next: next, Error: msg,
					MFA: &mfaView{Token: tok, TOTP: hasMethod(methods, provider.MethodTOTP), Passkey: hasMethod(methods, provider.MethodPasskey),
						Recovery: hasMethod(methods, provider.MethodRecoveryCode)},
				})
				return
			}
		}
		err = provider.ErrMFAExpired // the fifth wrong code ended it
	}
	if err != nil {
		s.renderLoginAgain(w, r, next, err)
		return
	}
	s.signedIn(w, r, u, provider.AMRWithCode(), next)
}

func hasMethod(methods []string, m string) bool {
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

// renderLoginAgain shows the login form with the error of a second step
// that cannot go on (expired, rate limited, a store down).
func (s *server) renderLoginAgain(w http.ResponseWriter, r *http.Request, next string, err error) {
	status, msg := s.pageError(w, r, err)
	s.allowFormRedirect(w, r, next)
	s.render(w, r, status, "login", pageData{Title: "Sign in", CSRF: s.csrfToken(w, r, nil), Next: next, Error: msg})
}

// postMFASetup: POST /login/mfa/setup, the first code of a forced
// enrolment. Success signs in with password + TOTP and shows the recovery
// codes once.
func (s *server) postMFASetup(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		s.renderForbidden(w, r)
		return
	}
	tok, code := r.PostFormValue("mfa_token"), strings.TrimSpace(r.PostFormValue("code"))
	next, _ := safeNext(r.PostFormValue("next"))
	if err := s.pageIPLimit(r); err != nil {
		s.renderLoginAgain(w, r, next, err)
		return
	}
	u, codes, err := s.cfg.MFA.FinishEnrolment(r.Context(), tok, code)
	if errors.Is(err, provider.ErrWrongEnrolmentCode) {
		if pu, perr := s.cfg.MFA.PendingUser(r.Context(), tok); perr == nil {
			if en, eerr := s.cfg.MFA.PendingTOTP(r.Context(), pu); eerr == nil {
				status, msg := s.pageError(w, r, err)
				s.renderSetup(w, r, status, tok, en, next, msg)
				return
			}
		}
		err = provider.ErrMFAExpired
	}
	if err != nil {
		s.renderLoginAgain(w, r, next, err)
		return
	}
	if err := s.startPageSessionAMR(w, r, u, provider.AMRWithCode()); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "recovery_codes", pageData{
		Title: "Your recovery codes", SignedIn: true, LinkURL: afterLogin(next), MFA: &mfaView{RecoveryCodes: codes},
	})
}

// accountMFA is the Security section's state for u. A store failure shows
// the section as off, and is logged: the rest of the page still works.
func (s *server) accountMFA(r *http.Request, u provider.User) *mfaView {
	v := &mfaView{}
	if s.cfg.MFA == nil {
		return v
	}
	st, err := s.cfg.MFA.Status(r.Context(), u.ID)
	if err != nil {
		s.log.WarnContext(r.Context(), "second factors not shown", "err", err)
		return v
	}
	v.TOTP, v.CodesLeft, v.Passkeys = st.TOTP, st.RecoveryCodesLeft, st.Passkeys
	return v
}

// postTOTPStart: POST /account/totp (password) starts an enrolment.
func (s *server) postTOTPStart(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	en, err := s.cfg.MFA.StartTOTP(r.Context(), u.ID, r.PostFormValue("password"))
	if err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	s.renderAccountMFA(w, r, http.StatusOK, u, &sess, "", "", func(v *mfaView) {
		v.Secret, v.QR = en.Secret, qrSVG(en.OTPAuthURI)
	})
}

// postTOTPConfirm: POST /account/totp/confirm (code) turns TOTP on.
func (s *server) postTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	codes, err := s.cfg.MFA.ConfirmTOTP(r.Context(), u.ID, strings.TrimSpace(r.PostFormValue("code")))
	if err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccountMFA(w, r, status, u, &sess, "", msg, func(v *mfaView) {
			if en, perr := s.cfg.MFA.PendingTOTP(r.Context(), u); perr == nil {
				v.Secret, v.QR = en.Secret, qrSVG(en.OTPAuthURI)
			}
		})
		return
	}
	s.renderAccountMFA(w, r, http.StatusOK, u, &sess, "Two-factor authentication enabled", "", func(v *mfaView) {
		v.RecoveryCodes = codes
	})
}

// postTOTPDisable: POST /account/totp/disable (password).
func (s *server) postTOTPDisable(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if err := s.cfg.MFA.DisableTOTP(r.Context(), u.ID, r.PostFormValue("password")); err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	s.renderAccount(w, r, http.StatusOK, u, &sess, "Two-factor authentication disabled", "")
}

// postRecoveryCodes: POST /account/recovery-codes (password), a new set.
func (s *server) postRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	codes, err := s.cfg.MFA.RegenerateRecoveryCodes(r.Context(), u.ID, r.PostFormValue("password"))
	if err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	s.renderAccountMFA(w, r, http.StatusOK, u, &sess, "New recovery codes created; the old ones no longer work", "", func(v *mfaView) {
		v.RecoveryCodes = codes
	})
}

// qrSVG draws uri as a QR code in inline SVG: one path of dark modules,
// with the quiet zone, so no image request and no script is needed (CSP
// img-src 'self'). The markup is built from the code's bitmap alone.
func qrSVG(uri string) template.HTML {
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		return ""
	}
	bits := q.Bitmap() // includes the quiet zone
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges" role="img" aria-label="QR code">`, n, n, n*5, n*5)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()) // #nosec: digits and fixed markup only
}
