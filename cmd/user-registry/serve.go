package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/web"
)

const serveUsage = `Usage: user-registry serve [flags]

Runs the HTTP server. The database schema is migrated on start.`

func cmdServe(ctx context.Context, args []string, e env) error {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.register(fs)
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, serveUsage)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("serve takes no arguments, got %q", pos)
	}
	log, err := newLogger(c.LogFormat, e.stderr)
	if err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if err := validateMail(&c); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	db, err := openDB(ctx, &c.storeConfig)
	if err != nil {
		return err
	}
	defer db.Close()
	eph, err := openEphemeral(ctx, &c.storeConfig, log)
	if err != nil {
		return err
	}
	secret, err := keySecret(&c.storeConfig, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if c.Issuer == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.Issuer = scheme + "://" + ln.Addr().String()
	}
	mgr, err := keys.NewManager(db, keys.Config{
		Alg: c.SigningAlg, Secret: secret, Rotation: c.KeyRotation,
		JWKSMaxAge: c.JWKSMaxAge, TokenTTL: c.AccessTTL, Log: log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	if err := mgr.Ensure(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("signing keys: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go mgr.Run(runCtx)

	tokens := keys.NewTokens(mgr, eph, keys.TokenConfig{Issuer: c.Issuer, AccessTTL: c.AccessTTL})
	policy := provider.NewDomainPolicy(db, c.DefaultDomainPolicy == "block", nil)
	clientKey, err := clientHMACKey(secret)
	if err != nil {
		ln.Close()
		return err
	}
	clients := provider.NewClients(db, policy, tokens, clientKey, nil)
	acfg := provider.DefaultAccountsConfig(c.LoginAudience...)
	if len(acfg.LoginAudience) == 0 {
		acfg.LoginAudience = []string{c.Issuer}
	}
	acfg.AccessTTL, acfg.RefreshTTL = c.AccessTTL, c.RefreshTTL
	acfg.LoginLimit, acfg.RequireVerified = c.LimitLoginAccount, c.RequireVerifiedEmail
	mailer, err := newMailer(&c, c.Issuer)
	if err != nil {
		ln.Close()
		return err
	}
	acfg.ActivateAtSignup = mailer == nil // with mail, the verification link activates (SPEC §3a)
	accounts, err := provider.NewAccounts(db, policy, provider.NewHasher(provider.DefaultArgon2Params(), 0),
		tokens, eph, eph, eph.Rate(), acfg, nil, log)
	if err != nil {
		ln.Close()
		return err
	}
	codeFlow, err := provider.NewCodeFlow(accounts, clients, eph, eph, eph, tokens, provider.CodeFlowConfig{Log: log})
	if err != nil {
		ln.Close()
		return err
	}
	lifecycle, stopMail, err := startLifecycle(mailer, accounts, eph, eph.Rate(), c.Issuer, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMail()
	proxies, err := parseCIDRs(c.TrustedProxies)
	if err != nil {
		ln.Close()
		return err
	}
	handler := web.New(web.Config{
		Log:                log,
		Ready:              map[string]web.Pinger{"database": db, "sessions": eph},
		Issuer:             c.Issuer,
		Keys:               mgr,
		Tokens:             tokens,
		JWKSMaxAge:         c.JWKSMaxAge,
		Accounts:           accounts,
		Users:              db,
		Domains:            db,
		Policy:             policy,
		Clients:            clients,
		CodeFlow:           codeFlow,
		Sessions:           eph,
		Rate:               eph.Rate(),
		GenericLoginErrors: c.LoginErrors == "generic",
		TrustedProxies:     proxies,
		LimitIP:            c.LimitIP,
		LimitClient:        c.LimitClient,
		TLS:                c.TLSCert != "",
		Lifecycle:          lifecycle,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	log.Info("serving", "addr", ln.Addr().String(), "issuer", c.Issuer)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let in-flight requests finish.
	log.Info("shutting down")
	shutCtx, done := context.WithTimeout(context.Background(), 20*time.Second)
	defer done()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
