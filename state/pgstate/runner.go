package pgstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// Join makes this process a runner of the state (store.Claimer): it takes the state's
// advisory lock shared, on a connection of its own, waiting up to timeout for an exclusive
// holder, records itself in fiosync_runners, and renews its claims every lease/3 until
// Unlock.
func (b *Backend) Join(ctx context.Context, info store.LockInfo, opts store.JoinOptions, timeout time.Duration) (store.Runner, error) {
	info = info.Complete(b.display, b.clock())
	lease := opts.Lease
	if lease <= 0 {
		lease = store.DefaultLease
	}
	c, err := b.acquire(ctx, "join", "pg_try_advisory_lock_shared", timeout, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO fiosync_runners (name, id, operation, who, pid, created, backend_pid)
			VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())`,
			b.name, info.ID, info.Operation, info.Who, info.PID, info.Created.Truncate(time.Microsecond))
		if err != nil {
			return fmt.Errorf("record runner: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	host := info.Who
	if _, h, ok := strings.Cut(info.Who, "@"); ok {
		host = h
	}
	r := &runner{b: b, conn: c, id: info.ID, who: store.RunnerID{Host: host, PID: info.PID}, lease: lease,
		stop: make(chan struct{}), stopped: make(chan struct{})}
	go r.renewLoop()
	return r, nil
}

// Claims lists the claims in force, oldest first.
func (b *Backend) Claims(ctx context.Context) ([]store.ClaimInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("list claims of %q: %w", b.display, err)
	}
	rows, err := conn.Query(ctx, `SELECT key, host, pid, claimed, expires FROM fiosync_claims
		WHERE name = $1 AND expires > now() ORDER BY claimed, key`, b.name)
	if err != nil {
		return nil, fmt.Errorf("list claims of %q: %w", b.display, err)
	}
	claims, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ClaimInfo, error) {
		var c store.ClaimInfo
		err := row.Scan(&c.Key, &c.Runner.Host, &c.Runner.PID, &c.Claimed, &c.Expires)
		c.Claimed, c.Expires = c.Claimed.UTC(), c.Expires.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list claims of %q: %w", b.display, err)
	}
	return claims, nil
}

// runner is one process's part in a cooperative apply. Its claims and appends go through the
// Backend's connection; conn holds the shared lock.
type runner struct {
	b     *Backend
	id    string
	who   store.RunnerID
	lease time.Duration

	mu   sync.Mutex
	conn *pgx.Conn // nil once left

	stop, stopped chan struct{}
}

var _ store.Runner = (*runner)(nil)

// Load reads the whole state.
func (r *runner) Load(ctx context.Context) (*state.State, error) { return r.b.Load(ctx) }

// Save stores nothing: a runner's changes are in their rows once Append returns, and the
// serial moves on when the last runner leaves (Unlock). It leaves s alone.
func (r *runner) Save(context.Context, *state.State) error { return nil }

// Append is the Backend's Append, fenced by claims: it fails with store.ErrClaimed when
// another live runner claims something the changes touch.
func (r *runner) Append(ctx context.Context, base *state.State, changes []state.Change) error {
	if err := r.b.append(ctx, base, changes, r); err != nil {
		return fmt.Errorf("append to state %q: %w", r.b.display, err)
	}
	return nil
}

// Lock is the Backend's exclusive Lock.
func (r *runner) Lock(ctx context.Context, info store.LockInfo, timeout time.Duration) (store.Unlocker, error) {
	return r.b.Lock(ctx, info, timeout)
}

// ForceUnlock is the Backend's.
func (r *runner) ForceUnlock(ctx context.Context) error { return r.b.ForceUnlock(ctx) }

// String names the state.
func (r *runner) String() string { return r.b.String() }

// Who names the runner.
func (r *runner) Who() store.RunnerID { return r.who }

// fence fails with store.ErrClaimed when another runner's live claim covers one of keys. It
// takes every claim row of keys shared until tx ends, this runner's own too, so no claim
// changes hands while the runner writes: a Claim skips a row locked so, and one that took a
// claim over before is seen here.
func (r *runner) fence(ctx context.Context, tx pgx.Tx, keys []string) error {
	rows, err := tx.Query(ctx, fenceQuery, r.b.name, keys, r.id)
	if err != nil {
		return fmt.Errorf("check claims: %w", err)
	}
	return r.fenceRows(rows)
}

// fenceQuery selects, and locks shared, the claim rows of the keys $2 of state $1, with
// whether each is another live runner's ($3 is this runner).
const fenceQuery = `SELECT key, host, pid, runner <> $3 AND expires > now() FROM fiosync_claims
	WHERE name = $1 AND key = ANY($2) FOR SHARE`

// fenceRows reads fenceQuery's rows: store.ErrClaimed when one is another live runner's.
func (r *runner) fenceRows(rows pgx.Rows) error {
	var (
		key, host string
		pid       int
		theirs    bool
		taken     error
	)
	_, err := pgx.ForEachRow(rows, []any{&key, &host, &pid, &theirs}, func() error {
		if theirs && taken == nil {
			taken = fmt.Errorf("%s is %w (%s pid %d): this runner's claim ran out", key, store.ErrClaimed, host, pid)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check claims: %w", err)
	}
	return taken
}

// Claim takes key, or renews it, unless another live runner holds it or is taking it.
func (r *runner) Claim(ctx context.Context, key string) (bool, store.ClaimInfo, error) {
	ok, info, err := r.claim(ctx, key)
	if err != nil {
		return false, store.ClaimInfo{}, fmt.Errorf("claim %q: %w", key, err)
	}
	return ok, info, nil
}

func (r *runner) claim(ctx context.Context, key string) (bool, store.ClaimInfo, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return false, store.ClaimInfo{}, err
	}
	// The usual case, a key nobody claims, is one statement.
	secs := r.lease.Seconds()
	tag, err := conn.Exec(ctx, `INSERT INTO fiosync_claims (name, key, runner, host, pid, claimed, expires)
		VALUES ($1, $2, $3, $4, $5, now(), now() + make_interval(secs => $6)) ON CONFLICT (name, key) DO NOTHING`,
		b.name, key, r.id, r.who.Host, r.who.PID, secs)
	if err != nil {
		return false, store.ClaimInfo{}, err
	}
	if tag.RowsAffected() == 1 {
		return true, store.ClaimInfo{Key: key, Runner: r.who}, nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, store.ClaimInfo{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var (
		holder  string
		info    = store.ClaimInfo{Key: key}
		expired bool
	)
	err = tx.QueryRow(ctx, `SELECT runner, host, pid, claimed, expires, expires <= now() FROM fiosync_claims
		WHERE name = $1 AND key = $2 FOR UPDATE SKIP LOCKED`, b.name, key).
		Scan(&holder, &info.Runner.Host, &info.Runner.PID, &info.Claimed, &info.Expires, &expired)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, info, nil // another runner is taking or fencing it right now
	}
	if err != nil {
		return false, store.ClaimInfo{}, err
	}
	if holder != r.id && !expired {
		return false, info, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE fiosync_claims SET runner = $3, host = $4, pid = $5,
		claimed = CASE WHEN runner = $3 THEN claimed ELSE now() END, expires = now() + make_interval(secs => $6)
		WHERE name = $1 AND key = $2`, b.name, key, r.id, r.who.Host, r.who.PID, secs); err != nil {
		return false, store.ClaimInfo{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, store.ClaimInfo{}, err
	}
	return true, store.ClaimInfo{Key: key, Runner: r.who}, nil
}

// Release gives key up.
func (r *runner) Release(ctx context.Context, key string) error {
	if err := r.exec(ctx, `DELETE FROM fiosync_claims WHERE name = $1 AND key = $2 AND runner = $3`, r.b.name, key, r.id); err != nil {
		return fmt.Errorf("release %q: %w", key, err)
	}
	return nil
}

// Renew extends every claim of this runner by a lease.
func (r *runner) Renew(ctx context.Context) error {
	if err := r.exec(ctx, `UPDATE fiosync_claims SET expires = now() + make_interval(secs => $3)
		WHERE name = $1 AND runner = $2`, r.b.name, r.id, r.lease.Seconds()); err != nil {
		return fmt.Errorf("renew claims of %q: %w", r.b.display, err)
	}
	return nil
}

// exec runs one statement on the Backend's connection.
func (r *runner) exec(ctx context.Context, sql string, args ...any) error {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// renewLoop renews the claims every lease/3 until Unlock. A failed renewal is retried at the
// next tick; a claim that lapses meanwhile is fenced (Append fails), never silently shared.
func (r *runner) renewLoop() {
	defer close(r.stopped)
	t := time.NewTicker(r.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.lease/3)
			_ = r.Renew(ctx)
			cancel()
		}
	}
}

// Entry reads the stored entry at address.
func (r *runner) Entry(ctx context.Context, address string) (*state.Entry, error) {
	m, err := r.Entries(ctx, []string{address})
	if err != nil {
		return nil, fmt.Errorf("read entry %q: %w", address, err)
	}
	return m[address], nil
}

// Entries reads the stored entries of addresses in one query.
func (r *runner) Entries(ctx context.Context, addresses []string) (map[string]*state.Entry, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("read entries: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT address, entry FROM fiosync_entries WHERE name = $1 AND address = ANY($2)`, b.name, addresses)
	if err != nil {
		return nil, fmt.Errorf("read entries: %w", err)
	}
	m := make(map[string]*state.Entry, len(addresses))
	var (
		addr string
		data []byte
	)
	if _, err := pgx.ForEachRow(rows, []any{&addr, &data}, func() error {
		e, err := statefile.DecodeEntry(addr, data)
		if err != nil {
			return b.named(err)
		}
		m[addr] = e
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read entries: %w", err)
	}
	return m, nil
}

// Folder reads the stored id of the folder at path.
func (r *runner) Folder(ctx context.Context, path string) (string, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return "", fmt.Errorf("read folder %q: %w", path, err)
	}
	var id string
	err = conn.QueryRow(ctx, `SELECT folder_id FROM fiosync_folders WHERE name = $1 AND path = $2`, b.name, path).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read folder %q: %w", path, err)
	}
	return id, nil
}

// Unlock leaves: it stops renewing, releases every claim and the shared lock, and, when no
// other runner holds the lock any more and some runner appended since the last save, moves
// the serial on by one (store.Claimer). Calling it again does nothing.
func (r *runner) Unlock() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == nil {
		return nil
	}
	close(r.stop)
	<-r.stopped
	c := r.conn
	r.conn = nil
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	defer c.Close(ctx)
	_, err := c.Exec(ctx, `DELETE FROM fiosync_claims WHERE name = $1 AND runner = $2`, r.b.name, r.id)
	if err == nil {
		_, err = c.Exec(ctx, `DELETE FROM fiosync_runners WHERE name = $1 AND id = $2`, r.b.name, r.id)
	}
	if err == nil {
		_, err = c.Exec(ctx, `SELECT pg_advisory_unlock_shared($1)`, r.b.lockKey)
	}
	var last bool
	if err == nil {
		err = c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, r.b.lockKey).Scan(&last)
	}
	if err == nil && last {
		err = r.b.endRun(ctx, c)
		if _, uerr := c.Exec(ctx, `SELECT pg_advisory_unlock($1)`, r.b.lockKey); err == nil {
			err = uerr
		}
	}
	if err != nil && !c.IsClosed() {
		return fmt.Errorf("leave state %q: %w", r.b.display, err)
	}
	return nil
}

// endRun moves the serial on by one if anything was appended since the last save: the end of
// a cooperative apply. The caller holds the lock exclusively on c.
func (b *Backend) endRun(ctx context.Context, c *pgx.Conn) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, `DELETE FROM fiosync_unsaved WHERE name = $1`, b.name)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	h, err := b.readHeader(ctx, tx, "FOR UPDATE")
	if err != nil || h == nil {
		return err
	}
	s, err := b.decodeHeader(h)
	if err != nil {
		return err
	}
	s.Serial++
	doc, err := encodeHeader(s)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE fiosync_states SET serial = $2, document = $3, updated_at = now() WHERE name = $1`,
		b.name, int64(s.Serial), doc); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
