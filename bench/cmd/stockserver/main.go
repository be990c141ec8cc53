package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/generates"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/golang-jwt/jwt/v5"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9096", "listen address (loopback; port 0 picks a free one)")
	clientID := flag.String("client-id", "bench-client", "the one registered client's id")
	clientSecret := flag.String("client-secret", "bench-secret", "the one registered client's secret")
	flag.Parse()

	keyPEM, err := newES256KeyPEM()
	if err != nil {
		log.Fatalf("stockserver: key: %v", err)
	}

	manager := manage.NewDefaultManager()
	// Same lifetime as our authority tokens (expires_in 600) so both servers
	// answer the same thing; the library default is 2 h.
	manager.SetClientTokenCfg(&manage.Config{AccessTokenExp: 10 * time.Minute})
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	// NewJWTAccessGenerate takes the PEM bytes and parses them on every token:
	// that is the library's behaviour and part of what we compare against.
	manager.MapAccessGenerate(generates.NewJWTAccessGenerate("stock-1", keyPEM, jwt.SigningMethodES256))

	clientStore := store.NewClientStore()
	if err := clientStore.Set(*clientID, &models.Client{ID: *clientID, Secret: *clientSecret, Domain: "http://localhost"}); err != nil {
		log.Fatalf("stockserver: client store: %v", err)
	}
	manager.MapClientStorage(clientStore)

	srv := server.NewDefaultServer(manager)
	srv.SetAllowGetAccessRequest(false)
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	srv.SetInternalErrorHandler(func(err error) *errors.Response {
		log.Println("stockserver: internal error:", err)
		return nil
	})

	mux := http.NewServeMux()
	mux.HandleFunc("/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = srv.HandleTokenRequest(w, r) // errors are already written to w
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("stockserver: listen: %v", err)
	}
	// The load benchmark waits for this line to learn the (possibly random) port.
	fmt.Fprintf(os.Stderr, "msg=serving addr=%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

// newES256KeyPEM makes a fresh P-256 key in the SEC 1 PEM form that
// jwt.ParseECPrivateKeyFromPEM (used by the generator) reads.
func newES256KeyPEM() ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}
