package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The domain-list scenario (SPEC §13, the operators issue): signup latency
// and the node's memory with 1,000,000 domain records against the same
// with none. Two servers on two fresh SQLite files, one of them given a
// generated million blocked domains through `domains import`, take the
// same signup load in interleaved rounds. Every signup names a domain not
// asked before, so each policy check misses the LRU and runs its indexed
// lookup. As many requests are in flight as there are hashing slots (one
// per core): the latency is the work of a signup, not a queue.

// millionDomains is the size of the large list.
const millionDomains = 1_000_000

// domainsScenario runs it on the embedded backend and adds the rows
// "domains"/"none" and "domains"/"1M"; the import time goes into note.
func domainsScenario(ctx context.Context, o options, b bins, tmp string, rep *backendReport) {
	nonePeer, millionPeer := peer{name: "none"}, peer{name: "1M"}
	dbNone := "sqlite:" + filepath.Join(tmp, "domains-none.db")
	dbMillion := "sqlite:" + filepath.Join(tmp, "domains-1m.db")
	took, err := importMillion(ctx, b.ours, tmp, dbMillion)
	if err != nil {
		millionPeer.note = err.Error()
	} else {
		rep.DomainsImport = took
		fmt.Printf("  domains   import of %d generated domains: %.1f s\n", millionDomains, took.Seconds())
	}
	var serial atomic.Int64
	for _, side := range []struct {
		p  *peer
		db string
	}{{&nonePeer, dbNone}, {&millionPeer, dbMillion}} {
		if side.p.note != "" {
			continue
		}
		srv, err := startOurs(ctx, o, b, tmp, "domains-"+side.p.name, &backend{name: "domains", args: []string{"--db", side.db}})
		if err != nil {
			side.p.note = err.Error()
			continue
		}
		defer srv.stop()
		*side.p = signupPeer(side.p.name, "http://"+srv.addr+"/signup", srv.pid(), &serial)
	}
	one := o
	one.workers, one.duration = runtime.NumCPU(), o.loginDuration
	compare(ctx, one, rep, "domains", nonePeer, millionPeer)
}

// signupPeer makes a fresh address per request, each at a domain of its
// own (a policy-cache miss), not in the million list.
func signupPeer(name, url string, pid int, serial *atomic.Int64) peer {
	p := onePeer(name, vegeta.Target{Method: http.MethodPost, URL: url}, pid)
	hdr := http.Header{"Content-Type": {"application/json"}}
	p.gen = func(t *vegeta.Target) error {
		n := serial.Add(1)
		body, err := json.Marshal(map[string]string{
			"email":    fmt.Sprintf("s%d@m%d.signup.example", n, n),
			"password": benchPassword,
		})
		*t = vegeta.Target{Method: http.MethodPost, URL: url, Body: body, Header: hdr}
		return err
	}
	if err := p.gen(&p.tgts[0]); err != nil {
		p.note = err.Error()
	}
	return p
}

// importMillion writes the generated list and loads it with `domains
// import ... --block` into db, returning the time the command took.
func importMillion(ctx context.Context, bin, tmp, db string) (time.Duration, error) {
	list := filepath.Join(tmp, "million.txt")
	f, err := os.Create(list)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	for i := range millionDomains {
		fmt.Fprintf(w, "d%07d.million.example\n", i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(cctx, bin, "domains", "import", list, "--db", db).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("domains import: %v: %s", err, truncate(strings.TrimSpace(string(out)), 200))
	}
	return time.Since(start), nil
}
