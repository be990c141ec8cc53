package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// backend is one storage configuration of our server.
type backend struct {
	name string
	args []string // --db/--redis/--key-secret, shared by serve and clients create
	// shared: the stores are outside the process, so a second node can
	// serve the same data (the two-node scenario).
	shared bool
}

// prepareRedisBackend checks that MySQL and Redis answer on loopback, starts
// from an empty bench database and an empty Redis DB (only the one named in
// --redis, never DB 0), and returns the server flags. A nil backend with a
// note means "skip".
func prepareRedisBackend(ctx context.Context, mysqlURL, redisURL string) (*backend, string) {
	mu, err := url.Parse(mysqlURL)
	if err != nil || mu.Scheme != "mysql" || strings.Trim(mu.Path, "/") == "" {
		return nil, fmt.Sprintf("bad --mysql %q (want mysql://USER@HOST:PORT/DB)", mysqlURL)
	}
	ropt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Sprintf("bad --redis %q: %v", redisURL, err)
	}
	if ropt.DB == 0 {
		return nil, "refusing to FLUSHDB Redis DB 0; pass --redis redis://HOST:PORT/N with N > 0"
	}
	for _, hp := range []string{mu.Host, ropt.Addr} {
		if !isLoopback(hp) {
			return nil, fmt.Sprintf("%s is not a loopback address", hp)
		}
		c, err := net.DialTimeout("tcp", hp, time.Second)
		if err != nil {
			return nil, fmt.Sprintf("%s unreachable (%v)", hp, err)
		}
		c.Close()
	}

	// A fresh schema each run, so earlier runs' users/clients/keys don't
	// change what is measured. The database is the benchmark's own.
	dbName := strings.Trim(mu.Path, "/")
	cfg := mysql.NewConfig()
	cfg.User = mu.User.Username()
	cfg.Passwd, _ = mu.User.Password()
	cfg.Net, cfg.Addr = "tcp", mu.Host
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Sprintf("mysql: %v", err)
	}
	defer db.Close()
	qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, q := range []string{"DROP DATABASE IF EXISTS `" + dbName + "`", "CREATE DATABASE `" + dbName + "`"} {
		if _, err := db.ExecContext(qctx, q); err != nil {
			return nil, fmt.Sprintf("mysql %q: %v", q, err)
		}
	}
	rc := redis.NewClient(ropt)
	defer rc.Close()
	if err := rc.FlushDB(qctx).Err(); err != nil {
		return nil, fmt.Sprintf("redis FLUSHDB: %v", err)
	}

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &backend{name: "redis", shared: true, args: []string{
		"--db", mysqlURL, "--redis", redisURL,
		"--key-secret", base64.StdEncoding.EncodeToString(secret),
	}}, ""
}

func isLoopback(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// clientCreds is the part of `clients create` output the benchmark needs.
type clientCreds struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
	Domain string `json:"domain"`
}

func createClient(ctx context.Context, bin string, be *backend) (clientCreds, error) {
	args := append([]string{"clients", "create", "--domain", "bench.example", "--name", "loadbench"}, be.args...)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return clientCreds{}, fmt.Errorf("clients create: %v: %s", err, truncate(strings.TrimSpace(stderr.String()), 200))
	}
	var c clientCreds
	if err := json.Unmarshal(out, &c); err != nil || c.ID == "" || c.Secret == "" {
		return clientCreds{}, fmt.Errorf("clients create printed %q", truncate(string(out), 200))
	}
	return c, nil
}

const (
	benchEmail    = "loadbench@bench.example"
	benchPassword = "Load-bench-pass-7319" // not in the common-password list
)

// loginBody is the JSON body of POST /login, reused by the (c) scenario.
func loginBody() []byte {
	b, _ := json.Marshal(map[string]string{"email": benchEmail, "password": benchPassword})
	return b
}

// signupAndLogin makes the bench user (201, or 202 if it exists) and returns
// a user access token for the GET /me scenario.
func signupAndLogin(ctx context.Context, base string) (string, error) {
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	code, _, body, err := do(ctx, http.MethodPost, base+"/signup", jsonHdr, loginBody())
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated && code != http.StatusAccepted {
		return "", fmt.Errorf("POST /signup: %d %s", code, truncate(string(body), 200))
	}
	code, _, body, err = do(ctx, http.MethodPost, base+"/login", jsonHdr, loginBody())
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("POST /login: %d %s", code, truncate(string(body), 200))
	}
	return tok.AccessToken, nil
}

// do is a single request with a short timeout, for setup and preflights.
func do(ctx context.Context, method, u string, h http.Header, body []byte) (int, http.Header, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, b, err
}
