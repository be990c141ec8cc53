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
// client and admin endpoints ({"message": ...}) and the pages; code on the
// OAuth endpoints ({"error": code, ...}), whose status oauthStatus derives
// from the row (RFC 6749 §5.2: 401 for invalid_client, else mostly 400).
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
	{provider.ErrUserDisabled, http.StatusForbidden, "access_denied", ""},
	{provider.ErrNoSuchUser, http.StatusNotFound, "invalid_request", "User not found"},
	{provider.ErrBadMailToken, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrRateLimited, http.StatusTooManyRequests, "rate_limited", ""},
	// Second factors (SPEC §10).
	{provider.ErrMFAExpired, http.StatusUnauthorized, "invalid_grant", ""},
	{provider.ErrWrongCode, http.StatusUnauthorized, "invalid_grant", ""},
	{provider.ErrWrongEnrolmentCode, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrMFASetupRequired, http.StatusForbidden, "access_denied", ""},
	{provider.ErrMFAAlreadyEnabled, http.StatusConflict, "invalid_request", ""},
	{provider.ErrNothingPending, http.StatusConflict, "invalid_request", ""},
	{provider.ErrTOTPNotEnabled, http.StatusConflict, "invalid_request", ""},
	{provider.ErrNoFactor, http.StatusConflict, "invalid_request", ""},
	{provider.ErrLastFactor, http.StatusConflict, "invalid_request", ""},
	{provider.ErrPasskeyInvalid, http.StatusBadRequest, "invalid_request", ""},
	{provider.ErrPasskeySignIn, http.StatusUnauthorized, "invalid_grant", ""},
	{provider.ErrPasskeyNotFound, http.StatusNotFound, "invalid_request", ""},
	{errPageForm, http.StatusForbidden, "access_denied", ""},
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
	// The polls of the device grant (RFC 8628 §3.5).
	{provider.ErrAuthorizationPending, http.StatusBadRequest, "authorization_pending", ""},
	{provider.ErrSlowDown, http.StatusBadRequest, "slow_down", ""},
	{provider.ErrDeviceDenied, http.StatusBadRequest, "access_denied", ""},
	{provider.ErrExpiredToken, http.StatusBadRequest, "expired_token", ""},
	{provider.ErrInvalidDPoPProof, http.StatusBadRequest, "invalid_dpop_proof", ""}, // RFC 9449 §5
	{provider.ErrDPoPBinding, http.StatusUnauthorized, "invalid_token", ""},         // RFC 9449 §7.1
	{provider.ErrUnsupportedGrant, http.StatusBadRequest, "unsupported_grant_type", ""},
	{provider.ErrUnsupportedResponseType, http.StatusBadRequest, "unsupported_response_type", ""}, // /oauth2/par
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
	{provider.ErrNoDomainRecord, http.StatusNotFound, "invalid_request", "Not found"},
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

// internalError stands for an error the table does not know: a bug. It is
// logged once and the client learns nothing about it.
var internalError = errorRow{nil, http.StatusInternalServerError, "server_error", "Internal server error"}

// beginError is the first step of every error writer (writeError,
// writeOAuthError, pageError): it finds err's row and status and does what
// every body shape shares. A rate limit sets Retry-After to its window; a
// 503 (a backend down) sets Retry-After: 1 and is logged once as "backend
// unavailable"; an error outside the table is logged once as "unhandled
// error" and answered with internalError. oauth picks the status rule of
// /oauth2/* and /authority-token (oauthStatus) over the row's own.
func beginError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, oauth bool) (errorRow, int) {
	row, ok := lookupError(err)
	if !ok {
		log.ErrorContext(r.Context(), "unhandled error", "path", r.URL.Path, "err", err)
		return internalError, internalError.status
	}
	status := row.status
	if oauth {
		status = oauthStatus(row)
	}
	var rl *provider.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(rl.Seconds()))
	}
	if status == http.StatusServiceUnavailable {
		log.WarnContext(r.Context(), "backend unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
	}
	return row, status
}

// oauthStatus is the status of a row on the OAuth endpoints: 400 for every
// RFC 6749 §5.2 code but invalid_client (401); the RFC 6750 §3.1 bearer
// codes of /userinfo, invalid_token (401) and insufficient_scope (403);
// and the row's own status for the answers that are HTTP's, not OAuth's: a
// wrong method (405), a rate limit (429), a backend down (503).
func oauthStatus(row errorRow) int {
	switch {
	case row.code == "invalid_client", row.code == "invalid_token":
		return http.StatusUnauthorized
	case row.code == "insufficient_scope":
		return http.StatusForbidden
	case row.status == http.StatusMethodNotAllowed, row.status == http.StatusTooManyRequests,
		row.status == http.StatusServiceUnavailable:
		return row.status
	}
	return http.StatusBadRequest
}

// writeError answers a user/client/admin endpoint with {"message": ...}.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	row, status := beginError(w, r, log, err, false)
	writeJSON(w, status, message{errorText(err, row)})
}

// oauthError is the RFC 6749 §5.2 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeOAuthError answers /oauth2/*, /authority-token and /userinfo with
// {"error", "error_description"}, never cached. A failed client
// authentication carries the Basic challenge (RFC 6749 §5.2); /userinfo
// sets its Bearer challenge before calling this.
func writeOAuthError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	row, status := beginError(w, r, log, err, true)
	code := row.code
	switch code {
	case "invalid_client":
		w.Header().Set("WWW-Authenticate", `Basic realm="user-registry"`)
	case "rate_limited": // not an RFC 6749 code; the status says it
		code = "invalid_request"
	}
	writeJSON(w, status, oauthError{code, errorText(err, row)})
}
