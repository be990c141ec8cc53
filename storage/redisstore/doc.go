// Package redisstore keeps user-registry's ephemeral, shared state in Redis:
// browser sessions, authorization codes, consent, one-time mail tokens,
// refresh-token families, revoked token ids, per-user "not before" times and
// rate-limit counters. It implements storage.SessionStore,
// storage.RefreshStore and storage.RevocationStore; durable records live in
// sqlstore.
//
// Every key carries a real Redis expiry (PEXPIREAT at the item's own expiry)
// so Redis cleans up by itself, and the expiry is also stored in the value and
// compared with the injected clock, so a fake clock decides validity in
// tests exactly as on memstore.
//
// Compound operations (consume a code, rotate a refresh token, consume a
// mail token) run as Lua scripts, which Redis executes atomically. Keys a
// script touches together share a Cluster hash tag ({family-id}, {code-hash},
// {user-id}), so the same scripts run on a single node, behind Sentinel or
// on Redis Cluster.
//
// Every failure to talk to Redis is returned wrapping storage.ErrUnavailable:
// callers must fail closed (503), never read it as "not revoked".
package redisstore
