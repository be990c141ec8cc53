package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	oauth2errors "github.com/go-oauth2/oauth2/v4/errors"

	"user-registry/provider"
	"user-registry/storage"
)

// errorRow maps an error to its HTTP answer. status is used on the user,
// client and admin endpoints ({"message": ...}); code on the OAuth endpoints
// ({"error": code, ...}), whose status is 401 for invalid_client and 400
// otherwise (RFC 6749 §5.2), except where oauthStatus says otherwise.
type errorRow struct {
	err     error
	status  int
	code    string
	message string // fixed message; "" means the error's own text
}

// errTable is the only place an error becomes HTTP. First match wins, so
// more specific errors come first.
var errTable = []errorRow{
	{errUnsupportedMedia, http.StatusUnsupportedMediaType, "invalid_request", ""},
	{errTooLarge, http.StatusRequestEntityTooLarge, "invalid_request", ""},
	{errBadJSON, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrInvalidInput, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrDomainBlocked, http.StatusUnauthorized, "unauthorized_client", ""},
	{provider.ErrUserExists, http.StatusAccepted, "invalid_request", ""},
	{provider.ErrUnknownUser, http.StatusUnauthorized, "invalid_grant", ""},
	{provider.ErrWrongPassword, http.StatusUnauthorized, "invalid_grant", ""},
	{provider.ErrUnauthenticated, http.StatusUnauthorized, "invalid_grant", ""},
	{provider.ErrNotVerified, http.StatusForbidden, "access_denied", ""},
	{provider.ErrBadMailToken, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrRateLimited, http.StatusTooManyRequests, "rate_limited", ""},
	// Clients and authority tokens (provider/errors_clients.go). The
	// go-oauth2 rows cover the errors its Manager returns on our path.
	{provider.ErrBadClient, http.StatusUnauthorized, "invalid_client", ""},
	{oauth2errors.ErrInvalidClient, http.StatusUnauthorized, "invalid_client", "Client authentication failed"},
	{provider.ErrUnauthorizedClient, http.StatusBadRequest, "unauthorized_client", ""},
	{oauth2errors.ErrUnauthorizedClient, http.StatusBadRequest, "unauthorized_client", "The client is not authorized to use this grant"},
	{provider.ErrInvalidScope, http.StatusBadRequest, "invalid_scope", ""},
	{oauth2errors.ErrInvalidScope, http.StatusBadRequest, "invalid_scope", "The requested scope is invalid"},
	{provider.ErrInvalidTarget, http.StatusBadRequest, "invalid_target", ""},
	{provider.ErrInvalidGrant, http.StatusBadRequest, "invalid_grant", ""},
	{provider.ErrUnsupportedGrant, http.StatusBadRequest, "unsupported_grant_type", ""},
	{oauth2errors.ErrUnsupportedGrantType, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported"},
	{oauth2errors.ErrInvalidGrant, http.StatusBadRequest, "invalid_grant", "The grant is invalid or expired"},
	{provider.ErrInvalidRequest, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrForbidden, http.StatusForbidden, "access_denied", ""},
	{provider.ErrClientNotFound, http.StatusNotFound, "invalid_request", ""},
	{errNoToken, http.StatusUnauthorized, "invalid_token", ""},
	{errBadToken, http.StatusUnauthorized, "invalid_token", ""},
	{errGenericLogin, http.StatusUnauthorized, "invalid_grant", provider.GenericLoginMessage},
	{provider.ErrForeignToken, http.StatusForbidden, "insufficient_scope", ""},
	{provider.ErrInsufficientScope, http.StatusForbidden, "insufficient_scope", ""},
	{errNotFound, http.StatusNotFound, "invalid_request", "Not found"},
	{errMethod, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed"},
	{storage.ErrUnavailable, http.StatusServiceUnavailable, "temporarily_unavailable", "Service temporarily unavailable"},
}

var (
	errNotFound = errors.New("not found")
	errMethod   = errors.New("method not allowed")
)

func lookupError(err error) (errorRow, bool) {
	for _, row := range errTable {
		if errors.Is(err, row.err) {
			return row, true
		}
	}
	return errorRow{}, false
}

// writeError answers a user/client/admin endpoint with {"message": ...}. An
// error not in the table is a bug: it is logged once and the client gets a
// generic 500 without details.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	row, ok := lookupError(err)
	if !ok {
		log.ErrorContext(r.Context(), "unhandled error", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, message{"Internal server error"})
		return
	}
	retryAfter(w, r, log, err, row)
	writeJSON(w, row.status, message{errorText(err, row)})
}

// retryAfter sets Retry-After on the user endpoints and the pages alike:
// the window of a rate limit, or 1 s for a backend outage, which is also
// logged.
func retryAfter(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, row errorRow) {
	var rl *provider.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(rl.Seconds()))
	}
	if row.status == http.StatusServiceUnavailable {
		log.WarnContext(r.Context(), "backend unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
	}
}

// oauthError is the RFC 6749 §5.2 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeOAuthError answers /oauth2/* and /authority-token.
func writeOAuthError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	row, ok := lookupError(err)
	if !ok {
		log.ErrorContext(r.Context(), "unhandled error", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "Internal server error"})
		return
	}
	status := http.StatusBadRequest
	switch row.code {
	case "invalid_client":
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="user-registry"`)
	case "temporarily_unavailable":
		status = http.StatusServiceUnavailable
	case "rate_limited":
		status = http.StatusTooManyRequests
	}
	var rl *provider.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(rl.Seconds()))
	}
	code := row.code
	if code == "rate_limited" {
		code = "invalid_request"
	}
	writeJSON(w, status, oauthError{code, errorText(err, row)})
}
