package storage

import (
	"context"
	"time"
)

// Trust lets an outside OIDC issuer's tokens be exchanged for authority
// tokens of one domain (SPEC §11, RFC 8693). Subject is a glob over the
// outside token's sub; Audience is the aud it must carry ("" means this
// server's issuer); Scopes bound what the exchanged token may hold.
type Trust struct {
	ID        string
	Domain    string
	Issuer    string
	Subject   string
	Audience  string
	Scopes    []string
	CreatedAt time.Time
}

// FederationStore keeps the trusts of workload identity federation.
type FederationStore interface {
	// CreateTrust inserts t. Returns ErrExists when t.ID is taken.
	CreateTrust(ctx context.Context, t *Trust) error
	// ListTrusts returns every trust, ordered by creation time then id.
	ListTrusts(ctx context.Context) ([]Trust, error)
	// DeleteTrust returns ErrNotFound for an unknown id.
	DeleteTrust(ctx context.Context, id string) error
}
