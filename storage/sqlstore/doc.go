// Package sqlstore keeps the durable records of user-registry (users, domain
// records, OAuth2 clients, signing keys) in a SQL database through GORM.
//
// Two databases are supported, chosen by the DSN given to Open:
//
//	sqlite:PATH                        a file shared by several processes (WAL, busy timeout)
//	sqlite::memory:                    a private in-memory database (tests)
//	mysql://USER[:PASS]@HOST:PORT/DB   MySQL or MariaDB
//
// Uniqueness (canonical email, client id, key generation and kid) is decided
// by the database's unique indexes, never by a read before the write, so
// concurrent creates on any number of nodes yield exactly one success; the
// losers get storage.ErrExists. Failures to reach the database wrap
// storage.ErrUnavailable. All SQL goes through GORM with bound values.
package sqlstore
