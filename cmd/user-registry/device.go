package main

import (
	"log/slog"

	"user-registry/provider"
)

// newDeviceFlow builds the device authorization grant (SPEC §12) over the
// session store, so every node answers every step, with the wrong-code
// limit per client IP counted in the shared rate store.
func newDeviceFlow(issuer string, eph ephemeral, codeFlow *provider.CodeFlow, audit provider.Auditor, log *slog.Logger) (*provider.DeviceFlow, error) {
	limit, err := provider.NewRateLimiter(eph.Rate(), provider.DefaultDeviceCodeLimit)
	if err != nil {
		return nil, err
	}
	return provider.NewDeviceFlow(provider.DeviceDeps{CodeFlow: codeFlow, Store: eph, WrongCodes: limit,
		Audit: audit, Issuer: issuer, Log: log})
}
