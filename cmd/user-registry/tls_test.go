package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: with --tls-cert/--tls-key the server speaks HTTPS (HTTP/2
// negotiated), the default issuer is https, and the session cookie takes
// the __Host- prefix with Secure (SPEC §8).
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	srv := startServer(t, nil, "--db=sqlite:"+filepath.Join(t.TempDir(), "tls.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	base := strings.Replace(srv.base, "http://", "https://", 1)
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("discovery over TLS = %d %s", resp.StatusCode, resp.Proto)
	}
	if doc["issuer"] != base {
		t.Fatalf("issuer = %v, want %s", doc["issuer"], base)
	}
	resp, err = client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checked := 0
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "ur_session") || strings.HasSuffix(c.Name, "ur_csrf") {
			checked++
			if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure {
				t.Fatalf("cookie %s over TLS: Secure=%v", c.Name, c.Secure)
			}
		}
	}
	if checked == 0 {
		t.Fatalf("the login page set no session or CSRF cookie: %v", resp.Cookies())
	}
	// Plain HTTP to the TLS port is refused, not served.
	if resp, err := http.Get(srv.base + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on the TLS listener")
		}
	}
}
