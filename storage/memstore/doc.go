// Package memstore keeps every kind of user-registry state in process
// memory: users, domain records, clients, signing keys, sessions, codes,
// consent, one-time tokens, refresh-token families and revocations.
//
// It is the embedded default for a single node and the reference backend for
// tests. Nothing survives a restart and nothing is shared between processes,
// so a scaled-out deployment uses sqlstore and redisstore instead.
//
// One mutex guards all maps, which makes every compound operation (consume a
// code, rotate a refresh token) trivially atomic. Expired items are treated as
// absent by comparing with the injected clock and are swept lazily on writes,
// so memory stays bounded by the number of live items.
package memstore
