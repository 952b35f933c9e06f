package emutest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
)

// Env is one emulator served over HTTP and a client for it.
type Env struct {
	Emu    *emulator.Emulator
	URL    string
	Seed   emulator.Seed
	Client *frameio.Client // sends Seed.Token; built with the options given to Start

	t     testing.TB
	srv   *httptest.Server
	close sync.Once
}

// Start starts an emulator with opts behind an httptest server and builds Client with
// copts. Both are closed when the test ends.
func Start(t testing.TB, opts emulator.Options, copts ...frameio.Option) *Env {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	e := &Env{Emu: emu, Seed: emu.Seed(), t: t, srv: httptest.NewServer(emu)}
	e.URL = e.srv.URL
	t.Cleanup(e.Close)
	e.Client = NewClient(t, e.URL, e.Seed.Token, copts...)
	return e
}

// Close stops the server and then the emulator, before the test ends when a benchmark
// needs the resources back. Calling it again does nothing.
func (e *Env) Close() {
	e.close.Do(func() {
		e.srv.Close()
		if err := e.Emu.Close(); err != nil {
			e.t.Errorf("emulator Close: %v", err)
		}
	})
}

// NewClient returns a frameio client for baseURL that sends token on every API request.
func NewClient(t testing.TB, baseURL, token string, opts ...frameio.Option) *frameio.Client {
	t.Helper()
	c, err := frameio.New(baseURL, &http.Client{Transport: Bearer{Token: token}}, opts...)
	if err != nil {
		t.Fatalf("frameio.New: %v", err)
	}
	return c
}

// Bearer adds a static token to every request, then sends it with Base
// (http.DefaultTransport when nil).
type Bearer struct {
	Token string
	Base  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b Bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.Token)
	base := b.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// NewClientWith returns a frameio client for baseURL that sends its API requests through hc,
// which must add the token itself (wrap Bearer): for tests that put a fault between the
// client and the emulator.
func NewClientWith(t testing.TB, baseURL string, hc *http.Client, opts ...frameio.Option) *frameio.Client {
	t.Helper()
	c, err := frameio.New(baseURL, hc, opts...)
	if err != nil {
		t.Fatalf("frameio.New: %v", err)
	}
	return c
}
