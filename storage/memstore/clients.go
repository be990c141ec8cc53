package memstore

import (
	"context"
	"slices"
	"sort"
	"time"

	"user-registry/storage"
)

// cloneClient copies the slices of c so stored records can't be changed
// through a value handed to or returned from the store.
func cloneClient(c storage.Client) storage.Client {
	c.SecretHash = slices.Clone(c.SecretHash)
	c.PrevSecretHash = slices.Clone(c.PrevSecretHash)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Scopes = slices.Clone(c.Scopes)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.Audiences = slices.Clone(c.Audiences)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.JWKS = slices.Clone(c.JWKS)
	return c
}

func cloneKey(k storage.SigningKey) storage.SigningKey {
	k.Private = slices.Clone(k.Private)
	k.Public = slices.Clone(k.Public)
	return k
}

// CreateClient returns storage.ErrExists when c.ID is taken.
func (s *Store) CreateClient(_ context.Context, c *storage.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		return storage.ErrExists
	}
	s.clients[c.ID] = cloneClient(*c)
	return nil
}

// Client returns storage.ErrNotFound for an unknown id.
func (s *Store) Client(_ context.Context, id string) (storage.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return storage.Client{}, storage.ErrNotFound
	}
	return cloneClient(c), nil
}

// ListClients returns the clients of domain ("" = all), ordered by creation
// time then id.
func (s *Store) ListClients(_ context.Context, domain string) ([]storage.Client, error) {
	return s.listClients(func(c storage.Client) bool { return domain == "" || c.Domain == domain }), nil
}

// ListClientsByCreator returns the clients userID registered, ordered like
// ListClients; none for an empty userID.
func (s *Store) ListClientsByCreator(_ context.Context, userID string) ([]storage.Client, error) {
	return s.listClients(func(c storage.Client) bool { return userID != "" && c.CreatedBy == userID }), nil
}

// listClients returns copies of the clients keep selects, in list order.
func (s *Store) listClients(keep func(storage.Client) bool) []storage.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []storage.Client{}
	for _, c := range s.clients {
		if keep(c) {
			out = append(out, cloneClient(c))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// DeleteClient returns storage.ErrNotFound for an unknown id.
func (s *Store) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[id]; !ok {
		return storage.ErrNotFound
	}
	delete(s.clients, id)
	return nil
}

// CreateKey inserts k. Returns storage.ErrExists when k.Generation or k.KID
// is taken, so of two concurrent rotations exactly one wins.
func (s *Store) CreateKey(_ context.Context, k *storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.KID]; ok {
		return storage.ErrExists
	}
	if _, ok := s.generations[k.Generation]; ok {
		return storage.ErrExists
	}
	s.keys[k.KID] = cloneKey(*k)
	s.generations[k.Generation] = k.KID
	return nil
}

// ListKeys returns all keys ordered by Generation ascending.
func (s *Store) ListKeys(context.Context) ([]storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, cloneKey(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Generation < out[j].Generation })
	return out, nil
}

// DeleteKey removes a key. Returns storage.ErrNotFound.
func (s *Store) DeleteKey(_ context.Context, kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[kid]
	if !ok {
		return storage.ErrNotFound
	}
	delete(s.keys, kid)
	delete(s.generations, k.Generation)
	return nil
}

// RotateClientSecret makes hash the secret hash of client id and keeps the
// replaced one until prevExpiresAt. Returns storage.ErrNotFound.
func (s *Store) RotateClientSecret(_ context.Context, id string, hash []byte, prevExpiresAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return storage.ErrNotFound
	}
	c.PrevSecretHash, c.PrevSecretExpiresAt = c.SecretHash, prevExpiresAt
	c.SecretHash = slices.Clone(hash)
	s.clients[id] = c
	return nil
}
