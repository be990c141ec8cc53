package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage/sqlstore"
	"user-registry/web"
)

const serveUsage = `Usage: user-registry serve [flags]

Runs the HTTP server. The database schema is migrated on start.`

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 20 * time.Second

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
	if _, err := validateMail(&c); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	var tlsConfig *tls.Config
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
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
	if closer, ok := eph.(io.Closer); ok {
		defer closer.Close()
	}
	secret, err := keySecret(&c.storeConfig, log)
	if err != nil {
		return err
	}
	// Listen before wiring: the default issuer names the address actually
	// bound (with --addr :0 the port is only known now).
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if c.Issuer == "" {
		scheme := "http"
		if tlsConfig != nil {
			scheme = "https"
		}
		c.Issuer = scheme + "://" + ln.Addr().String()
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	handler, stopQueues, err := wire(runCtx, &c, log, db, eph, secret)
	if err != nil {
		return err
	}
	defer stopQueues()

	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "issuer", c.Issuer)
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(ln, "", "") // certificates are in TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let in-flight requests finish
	// (SEC-47); the mail and audit queues drain after (deferred
	// stopQueues).
	log.Info("shutting down")
	shutCtx, done := context.WithTimeout(context.Background(), shutdownGrace)
	defer done()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// wire builds the services over the opened stores and returns the HTTP
// handler, starting the key manager's background loop and the audit
// pruning on ctx. stop drains the mail and audit queues.
func wire(ctx context.Context, c *serveConfig, log *slog.Logger, db *sqlstore.Store, eph ephemeral, secret []byte) (h http.Handler, stop func(), err error) {
	audit, auditLog, stopAudit, err := startAudit(ctx, c.Audit, c.AuditRetention, db, log)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil { // nothing is served: flush now
			stopAudit()
		}
	}()
	mgr, err := c.keyManager(ctx, db, secret, log, audit)
	if err != nil {
		return nil, nil, err
	}
	go mgr.Run(ctx)

	tokens := keys.NewTokens(mgr, eph, keys.TokenConfig{Issuer: c.Issuer, AccessTTL: c.AccessTTL})
	policy := provider.NewDomainPolicy(db, c.DefaultDomainPolicy == "block", nil)
	clientKey, err := clientHMACKey(secret)
	if err != nil {
		return nil, nil, err
	}
	clients := provider.NewClients(db, db, policy, tokens, clientKey, nil)
	clients.SetAuditor(audit)
	acfg := provider.DefaultAccountsConfig(c.LoginAudience...)
	if len(acfg.LoginAudience) == 0 {
		acfg.LoginAudience = []string{c.Issuer}
	}
	acfg.AccessTTL, acfg.RefreshTTL = c.AccessTTL, c.RefreshTTL
	acfg.LoginLimit, acfg.RequireVerified = c.LimitLoginAccount, c.RequireVerifiedEmail
	mailer, err := newMailer(c, c.Issuer)
	if err != nil {
		return nil, nil, err
	}
	acfg.ActivateAtSignup = mailer == nil // with mail, the verification link activates (SPEC §3a)
	hasher := provider.NewHasher(provider.DefaultArgon2Params(), 0)
	if acfg.FailureFloor, err = hasher.CalibrateFailureFloor(ctx); err != nil {
		return nil, nil, err
	}
	log.Info("failed logins held to a floor", "failure_floor", acfg.FailureFloor)
	if _, set := os.LookupEnv("GOGC"); !set {
		go runGCGovernor(ctx, defaultGCPercent, hasher.Started) // the environment's GOGC wins (memory.go)
	}
	links, mailQueue, stopMail, err := startMail(mailer, eph, c.Issuer, log)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil { // nothing is served: drain the queue now
			stopMail()
		}
	}()
	// Back-channel logout (SPEC §12): the worker delivers what any node
	// queued; revocations through rev also end the user's browser
	// sessions (logout everywhere, password change, deletion, disable).
	backchannel, logouts, err := newLogouts(db, eph, tokens, acfg.RefreshAbsolute, log)
	if err != nil {
		return nil, nil, err
	}
	rev := logouts.Revocations(eph)
	deps := provider.AccountDeps{
		Users: db, Policy: policy, Hasher: hasher, Tokens: tokens,
		Refresh: eph, Revocations: rev, Rate: eph.Rate(), Consents: eph, Config: acfg, Log: log, Audit: audit,
		Logouts: logouts,
	}
	if mailer != nil {
		deps.Verification = links
	}
	stopBackchannel := runBackchannel(ctx, backchannel)
	defer func() {
		if err != nil {
			stopBackchannel()
		}
	}()
	accounts, err := provider.NewAccounts(deps)
	if err != nil {
		return nil, nil, err
	}
	codeFlow, err := provider.NewCodeFlow(provider.CodeFlowDeps{
		Accounts: accounts, Clients: clients, Store: eph, Revocations: eph, IDs: tokens, Log: log, Logouts: logouts, Policy: policy,
	})
	if err != nil {
		return nil, nil, err
	}
	device, err := newDeviceFlow(c.Issuer, eph, codeFlow, audit, log)
	if err != nil {
		return nil, nil, err
	}
	proxies, err := parseCIDRs(c.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	sessions, err := provider.NewSessions(provider.SessionDeps{Store: eph, Revocations: eph, Users: db, Log: log,
		Logouts: logouts})
	if err != nil {
		return nil, nil, err
	}
	endSession, err := provider.NewEndSession(provider.EndSessionDeps{Tokens: tokens, Clients: clients,
		Sessions: sessions, Audit: audit, Log: log})
	if err != nil {
		return nil, nil, err
	}
	ipLimit, err := provider.NewRateLimiter(eph.Rate(), c.LimitIP)
	if err != nil {
		return nil, nil, fmt.Errorf("--limit-ip: %w", err)
	}
	clientLimit, err := provider.NewRateLimiter(eph.Rate(), c.LimitClient)
	if err != nil {
		return nil, nil, fmt.Errorf("--limit-client: %w", err)
	}
	dpop, err := provider.NewDPoP(provider.DPoPDeps{Nonces: eph, Issuer: c.Issuer})
	if err != nil {
		return nil, nil, err
	}
	// One fetcher for --jwks-uri key sets and outside issuers (SEC-61).
	fetcher := provider.NewFetcher(provider.FetcherDeps{})
	clientAuth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: clients, Limit: clientLimit,
		Issuer: c.Issuer, Nonces: eph, Fetcher: fetcher, DPoP: dpop, Audit: audit, Log: log})
	if err != nil {
		return nil, nil, err
	}
	rotation, err := provider.NewSecretRotation(provider.SecretRotationDeps{Clients: clients, Audit: audit})
	if err != nil {
		return nil, nil, err
	}
	federation, err := provider.NewFederation(provider.FederationDeps{Store: db, Issuer: c.Issuer, Tokens: tokens,
		Policy: policy, Fetcher: fetcher, Limit: clientLimit, Log: log})
	if err != nil {
		return nil, nil, err
	}
	lifecycle, err := provider.NewLifecycle(provider.LifecycleDeps{Accounts: accounts, Links: links, Rate: eph.Rate(), Log: log})
	if err != nil {
		return nil, nil, err
	}
	mfaDeps := provider.MFADeps{Accounts: accounts, Store: db, Challenges: eph, Secret: secret,
		Issuer: mfaIssuer(c.Issuer), Audit: audit, Log: log}
	if mailer != nil {
		mfaDeps.Mail = mailQueue
	}
	// Passkeys (SPEC §10): the RP ID and origins come from the flags or the
	// issuer, never from a request; an IP-address issuer without
	// --webauthn-rp-id turns them off, which is said once here.
	rpID, origins, off := provider.PasskeyRPID(c.Issuer, c.WebAuthnRPID, c.WebAuthnOrigins)
	if off != "" {
		log.Warn("passkeys off", "reason", off)
	} else {
		mfaDeps.Passkeys = provider.PasskeyRecords{Store: db}
	}
	mfa, err := provider.NewMFA(mfaDeps)
	if err != nil {
		return nil, nil, err
	}
	var passkeys *provider.Passkeys
	if off == "" {
		passkeys, err = provider.NewPasskeys(provider.PasskeysDeps{Accounts: accounts, MFA: mfa, Store: db, Challenges: eph,
			RPID: rpID, Origins: origins, RPName: mfaIssuer(c.Issuer), Audit: audit, Log: log})
		if err != nil {
			return nil, nil, err
		}
		log.Info("passkeys on", "rp_id", rpID, "origins", origins)
	}
	userAdmin, err := provider.NewUserAdmin(provider.UserAdminDeps{Users: db, Revocations: rev, Consents: eph, Audit: audit, Log: log, MFA: mfa})
	if err != nil {
		return nil, nil, err
	}
	return web.New(web.Config{
		MFA:                mfa,
		Passkeys:           passkeys,
		Log:                log,
		Ready:              map[string]web.Pinger{"database": db, "sessions": eph},
		Issuer:             c.Issuer,
		Keys:               mgr,
		Tokens:             tokens,
		JWKSMaxAge:         c.JWKSMaxAge,
		Accounts:           accounts,
		DomainAdmin:        &provider.DomainAdmin{Store: db, Policy: policy, Audit: audit},
		UserAdmin:          userAdmin,
		Policy:             policy,
		Clients:            clients,
		ClientAuth:         clientAuth,
		CodeFlow:           codeFlow,
		Sessions:           sessions,
		EndSession:         endSession,
		IPLimit:            ipLimit,
		GenericLoginErrors: c.LoginErrors == "generic",
		TrustedProxies:     proxies,
		TLS:                c.TLSCert != "",
		Lifecycle:          lifecycle,
		Audit:              audit,
		AuditLog:           auditLog,
		Federation:         federation,
		DPoP:               dpop,
		SecretRotation:     rotation,
		Device:             device,
	}), func() { stopBackchannel(); stopMail(); stopAudit() }, nil
}

// mfaIssuer is the name authenticator apps show for our TOTP entries: the
// issuer's host.
func mfaIssuer(issuer string) string {
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return "user-registry"
}
