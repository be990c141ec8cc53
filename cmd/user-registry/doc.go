// Command user-registry is the identity provider's one binary: `serve` runs
// the HTTP server, the other subcommands administer the same database while
// it runs (domains, clients, keys, users). This package only parses
// configuration and wires the packages together.
package main
