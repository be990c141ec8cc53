package provider

// clientError is a failure of client registration, client authentication or
// authority-token issue. Its text is safe to show to the caller (it becomes
// the RFC 6749 error_description, or the {"message"} of /clients). Detailed
// variants made by clientErrorf match their sentinel under errors.Is, so the
// web layer maps every variant with one row of its error table.
type clientError struct {
	msg  string
	kind *clientError // the sentinel this error is a variant of; nil for sentinels
}

func (e *clientError) Error() string { return e.msg }

// UserMessage returns the text to send to the caller.
func (e *clientError) UserMessage() string { return e.msg }

// Is makes errors.Is(variant, sentinel) hold.
func (e *clientError) Is(target error) bool { return e.kind != nil && target == error(e.kind) }

// clientErrorf returns a variant of sentinel with a more specific message.
func clientErrorf(sentinel error, msg string) error {
	return &clientError{msg: msg, kind: sentinel.(*clientError)}
}

// Client sentinels. The web layer's error table gives each its HTTP answer
// (in parentheses: RFC 6749 code on the token endpoints, status elsewhere).
var (
	// ErrBadClient: unknown client, wrong secret, a public client presenting a
	// secret, or missing client credentials (invalid_client, 401). The
	// message never says which.
	ErrBadClient error = &clientError{msg: "Client authentication failed"}
	// ErrUnauthorizedClient: the authenticated client may not use this grant,
	// asked for another domain, or its domain is blocked now
	// (unauthorized_client, 400).
	ErrUnauthorizedClient error = &clientError{msg: "The client is not authorized to use this grant"}
	// ErrInvalidScope: a requested scope is not registered for the client, or
	// is malformed (invalid_scope, 400).
	ErrInvalidScope error = &clientError{msg: "The requested scope is not registered for this client"}
	// ErrInvalidTarget: a requested audience/resource is not registered for
	// the client (invalid_target, RFC 8707, 400).
	ErrInvalidTarget error = &clientError{msg: "The requested audience is not registered for this client"}
	// ErrUnsupportedGrant: a grant type this server does not offer, such as
	// password or implicit (unsupported_grant_type, 400).
	ErrUnsupportedGrant error = &clientError{msg: "The grant type is not supported"}
	// ErrInvalidRequest: a malformed token request: missing grant_type, two
	// client authentication methods at once, a repeated parameter
	// (invalid_request, 400).
	ErrInvalidRequest error = &clientError{msg: "The request is malformed"}
	// ErrForbidden: the caller is authenticated but may not do this: a user
	// of a blocked domain on /clients, a token without registry:admin on the
	// admin API (403).
	ErrForbidden error = &clientError{msg: "Forbidden"}
	// ErrClientNotFound: no such client, or one the caller may not manage:
	// another user's, or the operators' (404).
	ErrClientNotFound error = &clientError{msg: "Client not found"}
)

// InvalidRequest returns a variant of ErrInvalidRequest with message msg.
func InvalidRequest(msg string) error { return clientErrorf(ErrInvalidRequest, msg) }

// ErrClientDomainBlocked: a user of a blocked domain asked to register a
// client (a variant of ErrForbidden, 403).
var ErrClientDomainBlocked = clientErrorf(ErrForbidden, "Your domain is not allowed to register clients.")
