// Package provider holds the identity provider's use cases (signup, login,
// logout, update, domain policy, authority tokens) and the building blocks
// they share: domain and email normalization, phone parsing, the password
// policy and password hashing.
//
// Each use case has one owner, built from a struct of named dependencies:
// Accounts (AccountDeps), Sessions (SessionDeps), CodeFlow (CodeFlowDeps),
// MailLinks (MailLinkDeps) and Lifecycle (LifecycleDeps). In each, a nil
// Now means time.Now and a nil Log discards. The owners decide; the web
// layer decodes requests, calls them and renders what they return.
//
// It depends on storage and keys only; it knows nothing about HTTP. Errors
// caused by bad user input wrap ErrInvalidInput and carry a user-facing
// message (see Message) that the web layer sends as {"message": ...}.
package provider
