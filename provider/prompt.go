package provider

import (
	"context"
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
//   - consent needed (ConsentNeeded, or prompt=consent for a client that
//     is not trusted): NextConsent; with prompt=none, consent_required.
//   - otherwise a code is issued for the sign-in: NextRedirect.
//
// prompt=login and select_account ask for nothing more today: the
// browser's sign-in is used as it is.
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
