package pgstate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
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
	conn *pgx.Conn // for Load, Save, Replace and ForceUnlock; nil until used
	// known is the SHA-256 of the document this Backend last loaded or
	// stored. Save trusts the row's lineage and serial columns without
	// decoding the document when the database's copy still hashes to it.
	known    [sha256.Size]byte
	hasKnown bool
}

var _ store.Backend = (*Backend)(nil)

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

// Load reads the state's document and decodes it like a state file: nothing
// stored gives store.ErrNoState, a damaged document *statefile.CorruptError.
func (b *Backend) Load(ctx context.Context) (*state.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, err)
	}
	var doc []byte
	err = conn.QueryRow(ctx, `SELECT document FROM fiosync_states WHERE name = $1`, b.name).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("load state %q: %w", b.display, store.ErrNoState)
	}
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, err)
	}
	s, err := b.decode(doc)
	if err != nil {
		return nil, err
	}
	b.known, b.hasKnown = sha256.Sum256(doc), true
	return s, nil
}

// decode decodes a stored document, naming this state in errors.
func (b *Backend) decode(doc []byte) (*state.State, error) {
	s, err := statefile.Decode(doc)
	var ce *statefile.CorruptError
	if errors.As(err, &ce) {
		ce.Path = b.display
		return nil, ce
	}
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, err)
	}
	return s, nil
}

// Save stores s with its serial bumped, if the stored state still has
// s.Lineage and s.Serial (or nothing is stored and s.Serial is 0); otherwise
// it fails with store.ErrLineage or store.ErrStale and changes nothing.
func (b *Backend) Save(ctx context.Context, s *state.State) error {
	next := *s // shallow: Encode copies what it changes
	next.Serial = s.Serial + 1
	doc, err := statefile.Encode(&next)
	if err != nil {
		return fmt.Errorf("save state %q: %w", b.display, err)
	}
	if err := b.write(ctx, s.Lineage, s.Serial, doc, &next); err != nil {
		return fmt.Errorf("save state %q: %w", b.display, err)
	}
	s.Serial = next.Serial
	return nil
}

// Replace stores s exactly as it is, its serial included, if the stored
// state is still old (same lineage and serial), or, when old is nil, if
// nothing is stored. Otherwise it fails with store.ErrLineage or
// store.ErrStale and changes nothing. It is how `fiosync state push` brings in
// a state file without renumbering it; the caller decides which serial s may
// have.
func (b *Backend) Replace(ctx context.Context, old, s *state.State) error {
	doc, err := statefile.Encode(s)
	if err != nil {
		return fmt.Errorf("replace state %q: %w", b.display, err)
	}
	lineage, serial := s.Lineage, uint64(0)
	if old != nil {
		lineage, serial = old.Lineage, old.Serial
	}
	if err := b.write(ctx, lineage, serial, doc, s); err != nil {
		return fmt.Errorf("replace state %q: %w", b.display, err)
	}
	return nil
}

// write stores doc, the encoding of next, in one transaction, if the stored
// state has lineage and serial (serial 0 also matches nothing stored).
func (b *Backend) write(ctx context.Context, lineage string, serial uint64, doc []byte, next *state.State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	var (
		storedSerial  int64
		storedLineage string
		digest        []byte
	)
	err = tx.QueryRow(ctx, `SELECT serial, lineage, sha256(document) FROM fiosync_states WHERE name = $1 FOR UPDATE`,
		b.name).Scan(&storedSerial, &storedLineage, &digest)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if serial != 0 {
			return fmt.Errorf("the stored state is gone, but this one was loaded from it at serial %d: %w", serial, store.ErrStale)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO fiosync_states (name, lineage, serial, document, updated_at)
			VALUES ($1, $2, $3, $4, now()) ON CONFLICT (name) DO NOTHING`,
			b.name, next.Lineage, int64(next.Serial), doc)
		if err != nil {
			return fmt.Errorf("insert state: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("another fiosync stored the first state at the same time: %w", store.ErrStale)
		}
	case err != nil:
		return fmt.Errorf("read stored state: %w", err)
	default:
		if !b.hasKnown || string(digest) != string(b.known[:]) {
			// Not the document this Backend last saw: it must decode before
			// it is replaced, and its own lineage and serial count.
			var stored []byte
			if err := tx.QueryRow(ctx, `SELECT document FROM fiosync_states WHERE name = $1`, b.name).Scan(&stored); err != nil {
				return fmt.Errorf("read stored state: %w", err)
			}
			s, err := b.decode(stored)
			if err != nil {
				return fmt.Errorf("refuse to replace a state that cannot be loaded: %w", err)
			}
			storedLineage, storedSerial = s.Lineage, int64(s.Serial)
		}
		if storedLineage != lineage {
			return fmt.Errorf("stored lineage %q, this state's %q: %w", storedLineage, lineage, store.ErrLineage)
		}
		if uint64(storedSerial) != serial {
			return fmt.Errorf("stored serial %d, this state was loaded at %d: %w", storedSerial, serial, store.ErrStale)
		}
		tag, err := tx.Exec(ctx, `UPDATE fiosync_states
			SET lineage = $4, serial = $5, document = $6, updated_at = now()
			WHERE name = $1 AND serial = $2 AND lineage = $3`,
			b.name, int64(serial), lineage, next.Lineage, int64(next.Serial), doc)
		if err != nil {
			return fmt.Errorf("update state: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("the row's lineage and serial columns disagree with its document (edited by hand?): %w", store.ErrStale)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	b.known, b.hasKnown = sha256.Sum256(doc), true
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
