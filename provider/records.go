package provider

import "user-registry/storage"

// The records the services hand to the web layer. They are the storage
// records themselves (aliases, no copies); naming them here lets web depend
// on provider alone and use storage only for its error sentinels.
type (
	// User is a registered account.
	User = storage.User
	// Client is an OAuth2 client.
	Client = storage.Client
	// Session is a browser sign-in (provider.Sessions).
	Session = storage.Session
)
