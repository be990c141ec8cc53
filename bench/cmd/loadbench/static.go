package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
)

// staticSpec is what the plain JWKS peer serves: the exact bytes and the
// headers our server answered with, so (b) compares only the serving path.
type staticSpec struct {
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"body"`
}

// serveStatic is the hidden `--serve-static FILE` mode: loadbench re-executes
// itself so the plain net/http peer is a separate process like our server,
// and does not share a Go runtime (GC, scheduler) with the load generator.
func serveStatic(specFile string) error {
	b, err := os.ReadFile(specFile)
	if err != nil {
		return err
	}
	var spec staticSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(spec.Path, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range spec.Headers {
			h.Set(k, v)
		}
		_, _ = w.Write(spec.Body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "msg=serving addr=%s\n", ln.Addr())
	return http.Serve(ln, mux)
}
