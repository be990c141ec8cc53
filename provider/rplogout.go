package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"

	"user-registry/keys"
)

// idHintVerifier verifies an id_token_hint (*keys.Tokens).
type idHintVerifier interface {
	VerifyIDHint(ctx context.Context, token, clientID string) (keys.IDClaims, error)
}

// EndSessionDeps are what EndSession is built from; all but Log and
// Audit are required.
type EndSessionDeps struct {
	Tokens   idHintVerifier
	Clients  clientLookup
	Sessions *Sessions
	Audit    Auditor
	Log      *slog.Logger
}

// EndSession is RP-initiated logout (OIDC RP-Initiated Logout 1.0, SPEC
// §12, SEC-65): an app sends the browser to the end_session_endpoint,
// the browser session ends with every token minted in it, and the browser
// goes back to the app only to a post_logout_redirect_uri the app
// registered, exactly. Without a valid id_token_hint the user confirms
// first (the web layer's CSRF-protected form).
type EndSession struct {
	tokens   idHintVerifier
	clients  clientLookup
	sessions *Sessions
	audit    Auditor
	log      *slog.Logger
}

// NewEndSession builds the service; it fails when a dependency is missing.
func NewEndSession(d EndSessionDeps) (*EndSession, error) {
	if d.Tokens == nil || d.Clients == nil || d.Sessions == nil {
		return nil, errors.New("provider: end session: missing dependency")
	}
	e := &EndSession{tokens: d.Tokens, clients: d.Clients, sessions: d.Sessions, audit: auditorOr(d.Audit), log: d.Log}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// EndSessionRequest holds the parameters of a logout request.
type EndSessionRequest struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// EndSessionPlan is a checked logout request.
type EndSessionPlan struct {
	// Hint is the verified id_token_hint; nil when there was none, and
	// then the user must confirm.
	Hint *keys.IDClaims
	// ClientID is the app that asked (from client_id or the hint).
	ClientID string
	// RedirectURL is the registered post-logout URI with state, or ""
	// for the signed-out page.
	RedirectURL string
}

// Confirm reports whether the user must confirm the logout.
func (p EndSessionPlan) Confirm() bool { return p.Hint == nil }

// Check validates a logout request. A hint must verify (our key, iss,
// typ; an expired one is fine) and name client_id when both are given;
// client_id must name a client. A post_logout_redirect_uri that is not
// exactly one the client registered — or given with no client to check it
// against — leads to the signed-out page, never a redirect. Returns a
// variant of ErrInvalidRequest, or an error wrapping
// storage.ErrUnavailable.
func (e *EndSession) Check(ctx context.Context, req EndSessionRequest) (EndSessionPlan, error) {
	if len(req.ClientID) > 128 || len(req.PostLogoutRedirectURI) > 2048 || len(req.State) > maxParamLen {
		return EndSessionPlan{}, InvalidRequest("A logout parameter is too long")
	}
	var plan EndSessionPlan
	if req.IDTokenHint != "" {
		c, err := e.tokens.VerifyIDHint(ctx, req.IDTokenHint, req.ClientID)
		if errors.Is(err, keys.ErrInvalidToken) {
			return EndSessionPlan{}, InvalidRequest("The id_token_hint is not a valid ID token of this server for this client")
		}
		if err != nil {
			return EndSessionPlan{}, fmt.Errorf("provider: logout hint: %w", err)
		}
		plan.Hint = &c
		plan.ClientID = c.Audience
	} else {
		plan.ClientID = req.ClientID
	}
	if plan.ClientID == "" {
		return plan, nil // nobody to send the browser back to
	}
	cl, err := e.clients.Lookup(ctx, plan.ClientID)
	if errors.Is(err, ErrBadClient) {
		return EndSessionPlan{}, InvalidRequest("Unknown client_id")
	}
	if err != nil {
		return EndSessionPlan{}, err
	}
	if req.PostLogoutRedirectURI != "" && slices.Contains(cl.PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
		plan.RedirectURL = appendQuery(req.PostLogoutRedirectURI, url.Values{}, req.State)
	}
	return plan, nil
}

// End ends the sign-in of a checked logout. cookie is the browser's
// session cookie value ("" for none). With a hint, the session it names
// ends (wherever its cookie is), and so does the browser's own session
// when it is the hint's user's; after a confirmation (no hint), the
// browser's session ends. Audited as logout. Errors wrap
// storage.ErrUnavailable.
func (e *EndSession) End(ctx context.Context, plan EndSessionPlan, cookie string) error {
	u, _, signedIn, err := e.sessions.Validate(ctx, cookie)
	if err != nil {
		return err
	}
	userID := u.ID
	if plan.Hint != nil {
		userID = plan.Hint.Subject
		if err := e.sessions.EndSID(ctx, plan.Hint.SID, plan.Hint.Subject); err != nil {
			return err
		}
	}
	if signedIn && u.ID == userID {
		if err := e.sessions.End(ctx, cookie); err != nil {
			return err
		}
	}
	if userID != "" {
		ev := AuditEvent{Event: EventLogout, UserID: userID, ClientID: plan.ClientID, Actor: ActorUser, Detail: "rp-initiated"}
		if u.ID == userID {
			ev.Domain = u.Domain // known only for the browser's own user
		}
		e.audit.Record(ctx, ev)
	}
	return nil
}
