// Package storage defines the records user-registry keeps and the small,
// per-concern interfaces its backends implement.
//
// Durable records (users, domain records, clients, signing keys) live in a
// SQL database (package sqlstore); ephemeral state (web sessions, refresh
// token families, revocations, authorization codes, consent, rate-limit
// counters) lives in Redis (package redisstore). Package memstore implements
// every interface in process for the embedded default and for tests, and
// package storagetest is the conformance suite all backends pass.
//
// This package imports no database driver: callers depend on the interfaces,
// constructors in the backend packages return concrete types.
package storage
