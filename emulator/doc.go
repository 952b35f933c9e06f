// Package emulator is a local Frame.io V4 server for tests, demos and offline use.
//
// It implements the endpoints fiosync uses with the documented paths, envelopes, status codes,
// pagination and rate limits, accepts part uploads on presigned-style URLs that check their
// headers and signature like S3 does, and offers switches that inject faults (API errors, part
// failures, connection resets, latency, short URL lifetimes). It imports no other fiosync
// package, so the client and the emulator cannot agree on a mistake: both follow the API as
// documented.
package emulator
