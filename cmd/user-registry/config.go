package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"user-registry/keys"
	"user-registry/provider"
)

// storeConfig is what every subcommand that opens the database needs.
type storeConfig struct {
	DB            string
	KeySecret     string
	Redis         string
	RedisCluster  string
	RedisSentinel string
	RedisMaster   string
	LogFormat     string
	SigningAlg    string
	KeyRotation   time.Duration
	JWKSMaxAge    time.Duration
	AccessTTL     time.Duration
}

func (c *storeConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", "sqlite:user-registry.db", "database: sqlite:PATH, sqlite::memory:, or mysql://USER[:PASS]@HOST:PORT/DB")
	fs.StringVar(&c.KeySecret, "key-secret", "", "base64 32-byte key-encryption key for private signing keys (required with MySQL; with SQLite generated beside the database when empty)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.SigningAlg, "signing-alg", keys.DefaultAlg, "algorithm of new signing keys: ES256, RS256 or EdDSA")
	fs.DurationVar(&c.KeyRotation, "key-rotation", keys.DefaultRotation, "age at which the active signing key is replaced")
	fs.DurationVar(&c.JWKSMaxAge, "jwks-max-age", keys.DefaultJWKSMaxAge, "JWKS Cache-Control max-age and pre-publication period of new keys")
	fs.DurationVar(&c.AccessTTL, "access-ttl", provider.DefaultAccessTTL, "lifetime of access and authority tokens")
	c.registerRedis(fs)
}

func (c *storeConfig) registerRedis(fs *flag.FlagSet) {
	fs.StringVar(&c.Redis, "redis", "", "redis://[:PASS@]HOST:PORT/N or rediss://…; empty = in-process store")
	fs.StringVar(&c.RedisCluster, "redis-cluster", "", "Redis Cluster addresses h1:p,h2:p")
	fs.StringVar(&c.RedisSentinel, "redis-sentinel", "", "Redis Sentinel addresses h1:p,h2:p")
	fs.StringVar(&c.RedisMaster, "redis-master", "", "Redis Sentinel master name")
}

// serveConfig is the configuration of `serve`.
type serveConfig struct {
	storeConfig
	Addr                 string
	Issuer               string
	LoginAudience        stringList
	TLSCert, TLSKey      string
	SMTPURL, MailFrom    string
	MailDir              string
	RequireVerifiedEmail bool
	RefreshTTL           time.Duration
	LoginErrors          string
	DefaultDomainPolicy  string
	TrustedProxies       string
	LimitLoginAccount    string
	LimitIP              string
	LimitClient          string
	AuditRetention       time.Duration
	Audit                bool // record the audit trail (--audit)
	WebAuthnRPID         string
	WebAuthnOrigins      stringList
}

func (c *serveConfig) register(fs *flag.FlagSet) {
	c.storeConfig.register(fs)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.Issuer, "issuer", "", "iss of every token and base of discovery URLs (default http://<addr>)")
	fs.Var(&c.LoginAudience, "login-audience", "aud of tokens from /login (repeatable; default the issuer)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (serve HTTPS directly)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "smtp://[USER:PASS@]HOST:PORT or smtps://… for mail")
	fs.StringVar(&c.MailFrom, "mail-from", "", "sender address of mails")
	fs.StringVar(&c.MailDir, "mail-dir", "", "write mails as .eml files into this directory instead of sending")
	fs.BoolVar(&c.RequireVerifiedEmail, "require-verified-email", false, "refuse login until the email is verified")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", provider.DefaultRefreshTTL, "refresh token idle lifetime (absolute: 30 days)")
	fs.StringVar(&c.LoginErrors, "login-errors", "seed", "login error messages: seed or generic")
	fs.StringVar(&c.DefaultDomainPolicy, "default-domain-policy", "allow", "policy for a domain in neither list: allow or block")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma separated CIDRs whose X-Forwarded-For and X-Forwarded-Proto are believed")
	fs.StringVar(&c.LimitLoginAccount, "limit-login-account", provider.DefaultLoginLimit, "failed logins per account (N/DURATION, 0 = off)")
	fs.StringVar(&c.LimitIP, "limit-ip", "120/1m", "requests per client IP to /login, /signup and / (N/DURATION, 0 = off)")
	fs.StringVar(&c.LimitClient, "limit-client", "6000/1m", "token requests per client (N/DURATION, 0 = off)")
	fs.DurationVar(&c.AuditRetention, "audit-retention", provider.DefaultAuditRetention, "how long audit events are kept")
	fs.BoolVar(&c.Audit, "audit", true, "record the audit trail (false: record nothing new)")
	fs.StringVar(&c.WebAuthnRPID, "webauthn-rp-id", "", "passkeys' relying party ID, a domain name (default the issuer's host; an IP-address issuer without it turns passkeys off)")
	fs.Var(&c.WebAuthnOrigins, "webauthn-origin", "origin passkey responses may come from (repeatable; default the issuer's origin)")
}

// validate checks the durations: the key manager would silently replace a
// zero or negative one by its default while the JWKS would still announce
// it (Cache-Control: max-age=-5), so they are refused up front.
func (c *storeConfig) validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--key-rotation", c.KeyRotation}, {"--jwks-max-age", c.JWKSMaxAge}, {"--access-ttl", c.AccessTTL}} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be a positive duration", d.name)
		}
	}
	return nil
}

// validate checks the durations, the enumerated and rate-limit flags before
// anything is opened, so a typo fails fast with a one-line error.
func (c *serveConfig) validate() error {
	if err := c.storeConfig.validate(); err != nil {
		return err
	}
	if c.RefreshTTL <= 0 {
		return fmt.Errorf("--refresh-ttl must be a positive duration")
	}
	if c.AuditRetention <= 0 {
		return fmt.Errorf("--audit-retention must be a positive duration")
	}
	if c.LoginErrors != "seed" && c.LoginErrors != "generic" {
		return fmt.Errorf("--login-errors must be seed or generic")
	}
	if c.DefaultDomainPolicy != "allow" && c.DefaultDomainPolicy != "block" {
		return fmt.Errorf("--default-domain-policy must be allow or block")
	}
	for name, spec := range map[string]string{"--limit-login-account": c.LimitLoginAccount, "--limit-ip": c.LimitIP, "--limit-client": c.LimitClient} {
		if _, _, err := provider.ParseRate(spec); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	if err := validateWebAuthn(c.WebAuthnRPID, c.WebAuthnOrigins); err != nil {
		return err
	}
	_, err := parseCIDRs(c.TrustedProxies)
	return err
}

// validateWebAuthn checks --webauthn-rp-id (a domain name, never an IP
// address) and each --webauthn-origin (scheme://host[:port], nothing
// more: WebAuthn compares origins exactly).
func validateWebAuthn(rpID string, origins []string) error {
	if rpID != "" {
		if net.ParseIP(rpID) != nil || strings.ContainsAny(rpID, ":/@ ") {
			return fmt.Errorf("--webauthn-rp-id %q must be a domain name", rpID)
		}
	}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("--webauthn-origin %q must be an origin: scheme://host[:port]", o)
		}
	}
	return nil
}

// parseCIDRs reads --trusted-proxies: comma separated CIDRs or addresses.
func parseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range splitList(s) {
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR or address", part)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
