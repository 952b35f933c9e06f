package pgstate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/state/store"
)

// Backend is a store.Backend over one state name in a PostgreSQL database.
// See the package documentation for the tables, the compare-and-swap and the
// locking. A Backend is safe for concurrent use; its database calls are
// serialised on one connection.
type Backend struct {
	cfg     *pgx.ConnConfig
	name    string
	display string

	// Hooks for tests; zero values mean the defaults.
	pollInterval time.Duration    // how often Lock retries and ForceUnlock checks
	now          func() time.Time // clock for LockInfo.Created

	// setup: the schema is migrated and the lock key computed once per
	// Backend, by whichever connection comes first.
	setupMu sync.Mutex
	ready   bool
	lockKey int64

	mu   sync.Mutex
	conn *pgx.Conn // for Load, Save, Replace, Append, claims and ForceUnlock; nil until used
}

var (
	_ store.Appender = (*Backend)(nil)
	_ store.Claimer  = (*Backend)(nil)
)

// IsURL reports whether s selects this backend: a postgres:// or
// postgresql:// URL.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// New returns the backend for the state called name in the database at
// connString, a PostgreSQL URL as pgx reads it (PGPASSWORD, ~/.pgpass and the
// other PG* variables fill in what it leaves out). It only parses connString;
// nothing connects until the Backend is used.
func New(connString, name string) (*Backend, error) {
	if name == "" {
		return nil, errors.New("open PostgreSQL state: the state name is empty")
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL state %q: %s", Redact(connString), parseReason(err))
	}
	return &Backend{cfg: cfg, name: name, display: Redact(connString) + "#" + name}, nil
}

// parseReason says why pgx refused a connection string without quoting it:
// pgx's own message masks passwords only on a best-effort basis, and a
// net/url error quotes the whole URL.
func parseReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return "not a valid URL: " + ue.Err.Error()
	}
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "`: "); ok {
		return after
	}
	return "not a valid PostgreSQL connection string"
}

// Redact returns connString without secrets, for messages: the password of
// the user info and the password and sslpassword query parameters are
// dropped. A string that does not parse as a URL gives a placeholder.
func Redact(connString string) string {
	u, err := url.Parse(connString)
	if err != nil || u.Scheme == "" {
		return "(a URL that does not parse)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	dropped := false
	for k := range q {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			q.Del(k)
			dropped = true
		}
	}
	if dropped {
		u.RawQuery = q.Encode()
	}
	u.Fragment = ""
	return u.String()
}

// Name returns the state name.
func (b *Backend) Name() string { return b.name }

// String returns the database URL without its password, then "#" and the
// state name.
func (b *Backend) String() string { return b.display }

// Close closes the connection Load and Save use. Locks taken with Lock keep
// their own connections until unlocked. The Backend can still be used; it
// reconnects.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close(context.Background())
	b.conn = nil
	if err != nil {
		return fmt.Errorf("close connection to %q: %w", b.display, err)
	}
	return nil
}

// connect returns the shared connection, opening it (again) when needed. The
// caller holds b.mu.
func (b *Backend) connect(ctx context.Context) (*pgx.Conn, error) {
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn, nil
	}
	b.conn = nil
	c, err := b.dial(ctx)
	if err != nil {
		return nil, err
	}
	b.conn = c
	return c, nil
}

// dial opens a new connection and makes sure the schema is in place.
func (b *Backend) dial(ctx context.Context) (*pgx.Conn, error) {
	c, err := pgx.ConnectConfig(ctx, b.cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := b.setup(ctx, c); err != nil {
		c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

func (b *Backend) poll() time.Duration {
	if b.pollInterval > 0 {
		return b.pollInterval
	}
	return 250 * time.Millisecond
}

func (b *Backend) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}
