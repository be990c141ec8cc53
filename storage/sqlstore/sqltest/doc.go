// Package sqltest gives tests a MySQL database of their own, so suites can
// run in parallel on one server without touching data they did not create.
package sqltest
