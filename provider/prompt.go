package provider

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"user-registry/storage"
)

// SignIn is the browser sign-in an authorization request arrives with.
type SignIn struct {
	User storage.User
	// AuthTime is when the browser session signed in: the auth_time of
	// the ID tokens minted from the code.
	AuthTime time.Time
	// SID names the browser session (the sid of ID tokens, SPEC §12);
	// "" for a session from before sids, whose tokens then carry their
	// family as sid.
	SID string
	// AMR is how it signed in (SPEC §10); the ID and access tokens carry
	// it. nil for a session from before amr was recorded: a password.
	AMR []string
}

// SessionSignIn is the sign-in of a browser session of user u.
func SessionSignIn(u storage.User, s storage.Session) *SignIn {
	at := s.AuthTime
	if at.IsZero() {
		at = s.CreatedAt
	}
	amr := s.AMR
	if len(amr) == 0 {
		amr = amrPasswordOnly()
	}
	return &SignIn{User: u, AuthTime: at, AMR: amr, SID: s.SID}
}

// AuthorizeNext is what the authorization endpoint does next, as decided
// by CodeFlow.Authorize.
type AuthorizeNext int

const (
	// NextLogin: nobody is signed in; the browser signs in and comes back
	// with the same request.
	NextLogin AuthorizeNext = iota + 1
	// NextConsent: the user must approve the request on the consent page.
	NextConsent
	// NextRedirect: a code was issued; the browser goes to
	// AuthorizeDecision.RedirectURL.
	NextRedirect
	// NextReauth: the browser's sign-in does not do (prompt=login, older
	// than max_age, or no second factor where one is asked for or
	// required); the user signs in again, and comes back with the
	// request less what the new sign-in satisfies (ReauthQuery).
	NextReauth
)

// AuthorizeDecision is the outcome of CodeFlow.Authorize.
type AuthorizeDecision struct {
	Next AuthorizeNext
	// RedirectURL is the client's redirect URI with the code and state,
	// with NextRedirect only.
	RedirectURL string
}

// Authorize decides a validated authorization request for the browser's
// sign-in (nil when signed out), following the request's prompt (OIDC
// Core §3.1.2.1):
//
//   - signed out: NextLogin; with prompt=none, login_required.
//   - prompt=login, or a sign-in older than max_age: NextReauth; with
//     prompt=none, login_required.
//   - acr_values=mfa, or a domain that requires a second factor, and a
//     sign-in without one: NextReauth (the sign-in then asks for the
//     factor, or offers to set one up); with prompt=none,
//     interaction_required.
//   - consent needed (ConsentNeeded, or prompt=consent for a client that
//     is not trusted): NextConsent; with prompt=none, consent_required.
//   - otherwise a code is issued for the sign-in: NextRedirect.
//
// select_account asks for nothing more: there is one account a browser.
//
// Returns an *AuthorizeError for the client's redirect URI for prompt=none
// when the user would have to act, or an error wrapping
// storage.ErrUnavailable.
func (f *CodeFlow) Authorize(ctx context.Context, req AuthorizeRequest, in *SignIn) (AuthorizeDecision, error) {
	if in == nil {
		if req.Prompt == "none" {
			return AuthorizeDecision{}, promptNone(req, "login_required", "The user is not signed in")
		}
		return AuthorizeDecision{Next: NextLogin}, nil
	}
	// max_age=0 always signs in again: any time at all has passed since.
	if req.Prompt == "login" || req.MaxAge >= 0 && f.now().Sub(in.AuthTime) > time.Duration(req.MaxAge)*time.Second {
		if req.Prompt == "none" {
			return AuthorizeDecision{}, promptNone(req, "login_required", "The sign-in is older than max_age")
		}
		return AuthorizeDecision{Next: NextReauth}, nil
	}
	if !HasMFA(in.AMR) {
		need, err := f.mfaNeeded(ctx, req, in.User)
		if err != nil {
			return AuthorizeDecision{}, err
		}
		if need && req.Prompt == "none" {
			return AuthorizeDecision{}, promptNone(req, "interaction_required", "A second factor is required")
		}
		if need {
			return AuthorizeDecision{Next: NextReauth}, nil
		}
	}
	need, err := f.ConsentNeeded(ctx, in.User.ID, req)
	if err != nil {
		return AuthorizeDecision{}, err
	}
	if req.Prompt == "consent" && !req.Client.Trusted {
		need = true
	}
	if need {
		if req.Prompt == "none" {
			return AuthorizeDecision{}, promptNone(req, "consent_required", "The user has not approved this application")
		}
		return AuthorizeDecision{Next: NextConsent}, nil
	}
	code, err := f.IssueCode(ctx, *in, req)
	if err != nil {
		return AuthorizeDecision{}, err
	}
	return AuthorizeDecision{Next: NextRedirect, RedirectURL: req.SuccessURL(code)}, nil
}

// promptNone is the error of prompt=none when the user would have to act
// (OIDC Core §3.1.2.6), sent back to the client.
func promptNone(req AuthorizeRequest, code, desc string) error {
	return &AuthorizeError{Code: code, Description: desc, RedirectURI: req.RedirectURI, State: req.State}
}

// mfaNeeded reports whether req or u's domain asks for a second factor.
func (f *CodeFlow) mfaNeeded(ctx context.Context, req AuthorizeRequest, u storage.User) (bool, error) {
	if req.WantMFA {
		return true, nil
	}
	if f.policy == nil {
		return false, nil
	}
	return f.policy.RequireMFA(ctx, u.Domain)
}

// ReauthQuery is the query of an authorization request to come back to
// after the sign-in a NextReauth asked for: prompt=login and max_age are
// dropped, as the fresh sign-in satisfies them (the ID token's auth_time
// tells the client so), and keeping them would ask again forever.
func ReauthQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k == "max_age" || k == "prompt" && len(v) == 1 && v[0] == "login" {
			continue
		}
		out[k] = v
	}
	return out
}

// WantsMFA reports whether an authorization request's query asks for a
// second factor (acr_values=mfa): the sign-in pages then offer to set one
// up to a user who has none.
func WantsMFA(q url.Values) bool {
	return slices.Contains(strings.Fields(q.Get("acr_values")), ACRMFA)
}
