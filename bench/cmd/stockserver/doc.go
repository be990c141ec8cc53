// Command stockserver is the baseline of the load benchmark: a stock
// go-oauth2 v4 server set up the way go-oauth2's README example does it
// (default manager, in-memory token store, one client in a memory client
// store), with the JWT access generator signing ES256 tokens. It answers
// client_credentials on POST /oauth2/token with client_secret_basic.
//
// It is deliberately not tuned: it is the "what you get from the library"
// peer that bench/cmd/loadbench compares our /oauth2/token against.
package main
