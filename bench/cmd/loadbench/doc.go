// Command loadbench is the load benchmark of the performance issue. It
// builds ./cmd/user-registry and bench/cmd/stockserver into a temp dir and,
// for each backend (embedded SQLite + in-process store; MySQL + Redis),
// drives our server with a lean closed-loop HTTP/1.1 generator (attack.go):
//
//	tokens     POST /oauth2/token client_credentials, ours vs stock go-oauth2;
//	jwks       GET /.well-known/jwks.json, ours vs a plain net/http handler
//	discovery  GET /.well-known/openid-configuration, likewise;
//	login      POST /login vs the argon2id bound measured in this process;
//	me         GET /me with a Bearer token;
//	twonode    (MySQL + Redis) tokens on one node vs round-robin over two.
//
// Comparisons run in interleaved rounds; each run records throughput,
// p50/p99, errors, server CPU per request and peak RSS (VmHWM), and one
// summary table lists every ratio with its goal.
//
// Run from the checkout: go run ./bench/cmd/loadbench [-backends ...].
// It is a program, not a test, so `go test ./...` never runs it.
package main
