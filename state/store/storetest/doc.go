// Package statetest is the conformance suite for store.Backend
// implementations. Every backend runs it from its own tests, so the local
// file and the planned PostgreSQL backend keep one contract:
//
//	func TestConformance(t *testing.T) {
//		statetest.Run(t, func(t *testing.T) store.Backend { return newBackend(t) })
//	}
//
// newBackend must return a backend over fresh, empty storage each time it
// is called, and two calls within one test must not share storage unless
// the suite asks for it through Reopen.
package storetest
