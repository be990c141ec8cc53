// Command loadbench is the load benchmark of the authority-token issue. It
// builds ./cmd/user-registry and bench/cmd/stockserver into a temp dir and,
// for each backend (embedded SQLite + in-process store; MySQL + Redis),
// measures with vegeta in max-rate mode:
//
//	(a) POST /oauth2/token client_credentials, ours vs stock go-oauth2,
//	    interleaved rounds, median;
//	(b) GET /.well-known/jwks.json, ours vs a plain net/http handler
//	    serving the same bytes;
//	(c) POST /login (argon2id, so few workers and a short run);
//	(d) GET /me with a Bearer token.
//
// Run from the checkout: go run ./bench/cmd/loadbench [-duration 8s ...].
// It is a program, not a test, so `go test ./...` never runs it.
package main
