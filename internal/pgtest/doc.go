// Package pgtest gives tests a PostgreSQL database of their own.
//
// URL returns a connection URL whose search_path is a schema created for the
// calling test and dropped when it ends, so tests that use it can run in
// parallel without seeing each other's tables. The server comes from
// FIOSYNC_TEST_PG_URL, which scripts/with-pg.sh sets after starting a
// throwaway server; `make test` runs the tests through it.
//
// Without FIOSYNC_TEST_PG_URL the test fails, saying how to get a server,
// unless FIOSYNC_TEST_PG=off, which skips it with a visible message: a
// machine without PostgreSQL must opt out on purpose, never by accident.
package pgtest
