package frameio_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/conc/pool"
	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
)

// env is one emulator served on loopback plus a client pointed at it.
type env struct {
	emu    *emulator.Emulator
	url    string
	seed   emulator.Seed
	token  *tokenSource
	client *frameio.Client
}

// fastRetry keeps retry tests quick while still exercising backoff.
var fastRetry = frameio.RetryPolicy{MaxAttempts: 12, BaseDelay: 5 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: 20 * time.Second}

// newEnv starts an emulator with opts and a client with the seed token. Options that turn
// rate limits off should pass frameio.WithoutPacing among copts to keep tests fast.
func newEnv(t testing.TB, opts emulator.Options, copts ...frameio.Option) *env {
	t.Helper()
	s := emutest.Start(t, opts)
	e := &env{emu: s.Emu, url: s.URL, seed: s.Seed}
	e.token = &tokenSource{}
	e.token.set(e.seed.Token)
	e.client = e.newClient(t, copts...)
	return e
}

// newClient returns another client on the same emulator, with the env's token source, which
// tests swap to provoke 401s.
func (e *env) newClient(t testing.TB, copts ...frameio.Option) *frameio.Client {
	t.Helper()
	all := append([]frameio.Option{frameio.WithRetry(fastRetry)}, copts...)
	c, err := frameio.New(e.url, &http.Client{Transport: &bearerTransport{src: e.token}}, all...)
	if err != nil {
		t.Fatalf("frameio.New: %v", err)
	}
	return c
}

// noLimits is the emulator with rate limits off, for tests about something else.
func noLimits() emulator.Options {
	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	return o
}

// tokenSource holds the bearer token the transport sends; tests swap it to provoke 401s.
type tokenSource struct {
	mu    sync.Mutex
	token string
}

func (s *tokenSource) set(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = tok
}

func (s *tokenSource) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// bearerTransport is the static-token auth that the CLI uses with FRAMEIO_TOKEN.
type bearerTransport struct{ src *tokenSource }

func (b *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.src.get())
	return http.DefaultTransport.RoundTrip(r)
}

// genReader is a deterministic pseudo-random file of any size that lives in 1 MiB of memory:
// byte o is pattern[o % len(pattern)]. The pattern length is not a power of two, so parts at
// different offsets differ and a misplaced part changes the hash.
type genReader struct {
	size    int64
	pattern []byte
}

func newGenReader(size int64, seed uint64) *genReader {
	p := make([]byte, 1<<20+7)
	r := rand.New(rand.NewPCG(seed, seed+1))
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return &genReader{size: size, pattern: p}
}

func (g *genReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= g.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), g.size-off))
	for done := 0; done < n; {
		i := int((off + int64(done)) % int64(len(g.pattern)))
		done += copy(b[done:n], g.pattern[i:])
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// blake3Hex hashes the whole source, as a reader of the local file would.
func blake3Hex(t testing.TB, src io.ReaderAt, size int64) string {
	t.Helper()
	h := blake3.New()
	if _, err := io.Copy(h, io.NewSectionReader(src, 0, size)); err != nil {
		t.Fatalf("hash source: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// upload creates a local upload in the root folder and PUTs all parts with workers
// concurrent part uploads, as apply will.
func upload(ctx context.Context, c *frameio.Client, seed emulator.Seed, name string, src io.ReaderAt, size int64, workers int) (*frameio.File, error) {
	f, err := c.CreateLocalUpload(ctx, seed.AccountID, seed.RootFolderID, name, size)
	if err != nil {
		return nil, err
	}
	offs, err := frameio.PartOffsets(f.UploadURLs, size)
	if err != nil {
		return f, err
	}
	p := pool.New().WithContext(ctx).WithMaxGoroutines(workers).WithCancelOnError().WithFirstError()
	for i, part := range f.UploadURLs {
		p.Go(func(ctx context.Context) error {
			return c.UploadPart(ctx, part, f.MediaType, io.NewSectionReader(src, offs[i], part.Size))
		})
	}
	return f, p.Wait()
}

// fileInfo fetches what the emulator stored, failing the test for an unknown id.
func fileInfo(t testing.TB, e *env, id string) emulator.FileInfo {
	t.Helper()
	info, ok := e.emu.FileInfo(id)
	if !ok {
		t.Fatalf("emulator has no file %q", id)
	}
	return info
}

// requests returns the emulator's count of answers with status for route.
func requests(e *env, route, status string) int64 {
	return e.emu.Stats().Requests[route][status]
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// debugLogger logs everything the client says into buf.
func debugLogger(buf io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// counter counts calls of a hook.
type counter struct{ n atomic.Int64 }

func (c *counter) inc() int64 { return c.n.Add(1) }
func (c *counter) get() int64 { return c.n.Load() }
