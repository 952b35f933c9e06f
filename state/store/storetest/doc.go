// Package storetest is the conformance suite for store.Backend
// implementations. Every backend runs it from its own tests, so the local
// file and the PostgreSQL backend keep one contract:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Factory{New: newBackend, Reopen: reopen})
//	}
//
// newBackend must return a backend over fresh, empty storage each time it
// is called, and two calls within one test must not share storage unless
// the suite asks for it through Reopen.
package storetest
