// Package storagetest is the conformance suite every storage backend passes.
// A backend's test calls Run with a constructor returning fresh, empty stores;
// stores a backend does not implement are left nil and their subtests skip.
package storagetest
