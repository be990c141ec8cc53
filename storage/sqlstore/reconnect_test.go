package sqlstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"

	"user-registry/storage"
	"user-registry/storage/sqlstore"
)

// proxy forwards TCP connections to a backend and can cut them all and
// stop accepting, to play a database restart without touching the server.
type proxy struct {
	t       *testing.T
	addr    string
	backend string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func startProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, addr: ln.Addr().String(), backend: backend}
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(b, c); _ = b.Close() }()
			go func() { _, _ = io.Copy(c, b); _ = c.Close() }()
		}
	}()
}

// down closes the listener and every forwarded connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// up listens again on the same address.
func (p *proxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("re-listen: %v", err)
	}
	p.serve(ln)
}

// TestMySQLRestart checks SEC-44: while the database is away calls fail
// with ErrUnavailable, and once it is back the same Store works again.
func TestMySQLRestart(t *testing.T) {
	root := os.Getenv("USER_REGISTRY_TEST_MYSQL")
	if root == "" {
		t.Skip("USER_REGISTRY_TEST_MYSQL not set")
	}
	ctx := context.Background()
	// A database of our own, migrated, dropped at the end.
	_, name := openMySQL(t, root, nil)

	u, err := url.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	u.Path = "/" + name
	s, err := sqlstore.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("open through proxy: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	put := func(domain string) error {
		return s.PutDomain(ctx, storage.DomainRecord{Domain: domain, BelongsTo: storage.DomainBlocked})
	}
	if err := put("before.example"); err != nil {
		t.Fatalf("before outage: %v", err)
	}

	p.down()
	if err := s.Ping(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("ping during outage: err = %v, want ErrUnavailable", err)
	}
	if _, err := s.ListDomains(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("list during outage: err = %v, want ErrUnavailable", err)
	}

	p.up()
	if err := put("after.example"); err != nil {
		t.Fatalf("after outage: %v", err)
	}
	ds, err := s.ListDomains(ctx)
	if err != nil || len(ds) != 2 {
		t.Fatalf("after outage: %+v, %v", ds, err)
	}
}
