package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Emulator. The CLI flags of `fiosync emulator` map onto these fields one
// to one; DefaultOptions gives the documented defaults.
type Options struct {
	// DataDir holds part bytes and the metadata snapshot. "" means a temporary directory that
	// Close removes.
	DataDir string
	// RateLimitScale multiplies the documented rate limits; 0 disables rate limiting.
	RateLimitScale float64
	// APIFaultRate is the share of API calls answered 500 or 503 before they take any effect.
	APIFaultRate float64
	// PartFaultRate is the share of part PUTs answered 500 (the part is not stored).
	PartFaultRate float64
	// ResetRate is the share of part PUTs whose connection is cut mid-body.
	ResetRate float64
	// DownloadResetRate is the share of original downloads whose connection is cut after
	// half of the answer's bytes (an answer of one byte is never cut).
	DownloadResetRate float64
	// Latency is added to every request (the request's context cuts it short).
	Latency time.Duration
	// URLTTL is the lifetime of part URLs (24h by default; 0 means the default).
	URLTTL time.Duration
	// PartSize is the target part size: a file is split evenly into ceil(size/PartSize) parts,
	// at most maxParts of them (20 MiB by default; 0 means the default).
	PartSize int64
	// MaxAssetPageSize is the largest page_size the asset lists (a folder's children, files,
	// folders and version stacks) accept: the spec's 500 by default (0 means the default).
	// Lowering it models a server that differs from the spec. Not a CLI flag.
	MaxAssetPageSize int
	// NoRetryAfter omits the Retry-After header from 429 answers.
	NoRetryAfter bool
	// TokenTTL is the lifetime of tokens issued through IMS endpoints (1h by default; 0 means
	// the default). The static seed token never expires.
	TokenTTL time.Duration
	// Now is the clock for timestamps, URL expiry, token expiry and rate limits; nil means
	// time.Now.
	Now func() time.Time
	// FaultSeed seeds the fault dice; 0 picks a random seed.
	FaultSeed uint64
	// Token fixes the static bearer token (see ValidToken for its form). "" means a token
	// kept in DataDir's token file when DataDir is set (made on first start, so it survives
	// restarts), and a fresh random token otherwise.
	Token string
}

// Faults are the switches that SetFaults changes while the emulator runs.
type Faults struct {
	APIFaultRate      float64
	PartFaultRate     float64
	ResetRate         float64
	DownloadResetRate float64
	Latency           time.Duration
	NoRetryAfter      bool
	RateLimitScale    float64
}

// Seed names what a new emulator starts with: its static bearer token and the ids of the one
// account, workspace and project ("Sandbox") it creates.
type Seed struct {
	Token        string `json:"token"`
	AccountID    string `json:"account_id"`
	WorkspaceID  string `json:"workspace_id"`
	ProjectID    string `json:"project_id"`
	Project      string `json:"project"`
	RootFolderID string `json:"root_folder_id"`

	// The registered IMS clients (see PublicClientID and ServerClientID).
	IMSPublicClientID string `json:"ims_public_client_id"`
	IMSClientID       string `json:"ims_client_id"`
	IMSClientSecret   string `json:"ims_client_secret"`
}

// Documented defaults and limits.
const (
	defaultURLTTL   = 24 * time.Hour
	defaultPartSize = 20 << 20
	defaultTokenTTL = time.Hour

	// maxParts is S3's limit on parts per upload; larger files get larger parts.
	maxParts = 10000
	// maxLocalSize is the documented 5 TB ceiling for local uploads.
	maxLocalSize = 5_000_000_000_000
	// maxBulkMove is the bulk move's documented ceiling of file ids per call.
	maxBulkMove = 100
	// maxRemoteSize is the documented 50 GB ceiling for remote uploads.
	maxRemoteSize = 50_000_000_000
)

// DefaultOptions returns the documented defaults: rate limits as documented (scale 1), no
// faults, 24 h part URLs, 20 MiB parts and 1 h tokens.
func DefaultOptions() Options {
	return Options{
		RateLimitScale: 1,
		URLTTL:         defaultURLTTL,
		PartSize:       defaultPartSize,
		TokenTTL:       defaultTokenTTL,
	}
}

// Emulator is a local Frame.io V4 server. It is an http.Handler: serve it with
// httptest.NewServer or an http.Server. It is safe for concurrent use.
type Emulator struct {
	opts    Options // fixed options; the fault switches live in faults
	dataDir string
	tempDir bool // dataDir was created by New and is removed by Close
	secret  []byte
	mux     *http.ServeMux
	faults  atomic.Pointer[Faults]
	dice    dice
	limits  limiter
	stats   statsBook
	tokens  tokenTable
	ims     imsState
	fetcher *http.Client

	ctx    context.Context // cancelled by Close; parents the background fetches
	cancel context.CancelFunc
	wg     sync.WaitGroup

	downloads downloadLog

	// mu guards the store below. It is never held during disk or network I/O.
	mu      sync.Mutex
	st      store
	seed    Seed
	closing bool // set by Close; no background fetch starts after it
}

// New returns an emulator seeded with one account, workspace and project. It validates the
// options, creates the data directory and, when DataDir holds a snapshot from an earlier run,
// loads it.
func New(opts Options) (*Emulator, error) {
	if err := validate(&opts); err != nil {
		return nil, err
	}
	e := &Emulator{opts: opts, mux: http.NewServeMux()}
	e.secret = make([]byte, 32)
	_, _ = rand.Read(e.secret)
	seed := opts.FaultSeed
	if seed == 0 {
		seed = mrand.Uint64()
	}
	e.dice.r = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e.faults.Store(&Faults{
		APIFaultRate:      opts.APIFaultRate,
		PartFaultRate:     opts.PartFaultRate,
		ResetRate:         opts.ResetRate,
		DownloadResetRate: opts.DownloadResetRate,
		Latency:           opts.Latency,
		NoRetryAfter:      opts.NoRetryAfter,
		RateLimitScale:    opts.RateLimitScale,
	})
	e.limits.buckets = make(map[bucketKey]*bucket)
	e.stats.requests = make(map[string]map[string]int64)
	e.tokens.tokens = make(map[string]tokenInfo)
	e.fetcher = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	e.ctx, e.cancel = context.WithCancel(context.Background())

	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "fiosync-emulator-")
		if err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		e.dataDir, e.tempDir = dir, true
	} else {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data directory %q: %w", opts.DataDir, err)
		}
		e.dataDir = opts.DataDir
	}

	e.st.init()
	loaded, err := e.loadSnapshot()
	if err != nil {
		e.cleanup()
		return nil, err
	}
	if !loaded {
		e.seedStore()
	}
	token, err := e.staticToken()
	if err != nil {
		e.cleanup()
		return nil, err
	}
	e.seed.Token = token
	e.tokens.add(e.seed.Token, e.userID(), time.Time{})
	e.routes()
	e.startIMS()
	return e, nil
}

func validate(o *Options) error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"api fault rate", o.APIFaultRate}, {"part fault rate", o.PartFaultRate}, {"reset rate", o.ResetRate}, {"download reset rate", o.DownloadResetRate}} {
		if r.v < 0 || r.v > 1 || math.IsNaN(r.v) {
			return fmt.Errorf("check options: %s %v is outside [0, 1]", r.name, r.v)
		}
	}
	if err := ValidToken(o.Token); o.Token != "" && err != nil {
		return fmt.Errorf("check options: %w", err)
	}
	if o.RateLimitScale < 0 || math.IsNaN(o.RateLimitScale) || math.IsInf(o.RateLimitScale, 0) {
		return fmt.Errorf("check options: rate limit scale %v is negative", o.RateLimitScale)
	}
	if o.Latency < 0 || o.URLTTL < 0 || o.TokenTTL < 0 || o.PartSize < 0 || o.MaxAssetPageSize < 0 {
		return errors.New("check options: latency, URL TTL, token TTL, part size and page size must not be negative")
	}
	if o.MaxAssetPageSize == 0 {
		o.MaxAssetPageSize = defaultAssetPageSize
	}
	if o.URLTTL == 0 {
		o.URLTTL = defaultURLTTL
	}
	if o.PartSize == 0 {
		o.PartSize = defaultPartSize
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = defaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// seedStore creates the account, workspace and project a new emulator starts with.
func (e *Emulator) seedStore() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.st.userID = newID()
	e.st.accountID = newID()
	e.st.accountName = "Emulator Account"
	e.st.accountCreatedAt = now
	ws := e.st.addWorkspace("Sandbox", now)
	p := e.st.addProject(ws, "Sandbox", now)
	e.seed = Seed{
		AccountID:    e.st.accountID,
		WorkspaceID:  ws.ID,
		ProjectID:    p.ID,
		Project:      p.Name,
		RootFolderID: p.RootFolderID,
	}
}

// ServeHTTP serves the Frame.io V4 API under /v4/, part uploads on the presigned part URLs and
// the test endpoints under /_emulator/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mux.ServeHTTP(w, r)
}

// Seed returns the static token and the seeded ids.
func (e *Emulator) Seed() Seed {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seed
}

// SetFaults replaces the fault switches and the rate-limit scale while the emulator runs.
// Rates outside [0, 1] are clamped.
func (e *Emulator) SetFaults(f Faults) {
	f.APIFaultRate = clamp01(f.APIFaultRate)
	f.PartFaultRate = clamp01(f.PartFaultRate)
	f.ResetRate = clamp01(f.ResetRate)
	f.DownloadResetRate = clamp01(f.DownloadResetRate)
	f.RateLimitScale = max(0, f.RateLimitScale)
	f.Latency = max(0, f.Latency)
	e.faults.Store(&f)
}

// Faults returns the fault switches in force.
func (e *Emulator) Faults() Faults { return *e.faults.Load() }

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return min(1, max(0, v))
}

// AddWorkspace adds a workspace to the seeded account and returns its id.
func (e *Emulator) AddWorkspace(name string) (id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st.addWorkspace(name, e.now()).ID
}

// AddProject adds a project (with its root folder) to a workspace. It returns empty ids when
// the workspace is unknown.
func (e *Emulator) AddProject(workspaceID, name string) (projectID, rootFolderID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.st.workspaces[workspaceID]
	if ws == nil {
		return "", ""
	}
	p := e.st.addProject(ws, name, e.now())
	return p.ID, p.RootFolderID
}

// closeGrace bounds how long Close waits for remote fetches before cutting them off.
const closeGrace = 10 * time.Second

// Close waits for background fetches (cancelling those still running after 10 s), writes the metadata snapshot when the data
// directory outlives the emulator, and removes a temporary data directory. The handler must not
// be served after Close.
func (e *Emulator) Close() error {
	e.mu.Lock()
	already := e.closing
	e.closing = true
	e.mu.Unlock()
	if already {
		return nil
	}
	// Let background fetches finish; cut them off only when they outlast the grace period.
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(closeGrace)
	select {
	case <-done:
	case <-grace.C:
		e.cancel()
		<-done
	}
	grace.Stop()
	e.cancel()
	e.fetcher.CloseIdleConnections()
	if e.tempDir {
		return e.cleanup()
	}
	return e.saveSnapshot()
}

func (e *Emulator) cleanup() error {
	if !e.tempDir {
		return nil
	}
	if err := os.RemoveAll(e.dataDir); err != nil {
		return fmt.Errorf("remove data directory: %w", err)
	}
	return nil
}

func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }

func (e *Emulator) partDir(fileID string) string { return filepath.Join(e.dataDir, "parts", fileID) }

func (e *Emulator) partPath(fileID string, n int) string {
	return filepath.Join(e.partDir(fileID), fmt.Sprint(n))
}

// newID returns a random RFC 4122 version 4 UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// dice rolls the fault switches; a mutex makes one seeded source safe to share.
type dice struct {
	mu sync.Mutex
	r  *mrand.Rand
}

// roll reports true with probability p; p >= 1 is always true and p <= 0 never, without
// consuming randomness, so rate 1.0 and 0 are deterministic.
func (d *dice) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Float64() < p
}

// pick returns a in half the cases and b in the other half.
func (d *dice) pick(a, b int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.r.IntN(2) == 0 {
		return a
	}
	return b
}
