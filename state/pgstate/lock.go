package pgstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/state/store"
)

// unlockTimeout bounds the statements Unlock runs: it has no context, and the
// lock goes with the connection anyway.
const unlockTimeout = 30 * time.Second

// forceUnlockWait bounds how long ForceUnlock waits for a terminated holder's
// lock to go.
const forceUnlockWait = 30 * time.Second

// holderPIDQuery finds the server process id of the session holding the
// advisory lock with the key whose halves are $1 (high) and $2 (low), in the
// current database.
const holderPIDQuery = `SELECT pid FROM pg_locks
	WHERE locktype = 'advisory' AND granted AND objsubid = 1
	  AND classid = $1::bigint::oid AND objid = $2::bigint::oid
	  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	LIMIT 1`

// Lock takes the state's advisory lock on a connection of its own, retrying
// every poll interval until timeout (0: once), and records info as the
// holder. When the time is up it fails with *store.LockedError naming the
// holder.
func (b *Backend) Lock(ctx context.Context, info store.LockInfo, timeout time.Duration) (store.Unlocker, error) {
	info = info.Complete(b.display, b.clock())
	c, err := b.acquire(ctx, "lock", "pg_try_advisory_lock", timeout, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO fiosync_locks (name, id, operation, who, pid, created, backend_pid)
			VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())
			ON CONFLICT (name) DO UPDATE SET id = EXCLUDED.id, operation = EXCLUDED.operation,
				who = EXCLUDED.who, pid = EXCLUDED.pid, created = EXCLUDED.created, backend_pid = EXCLUDED.backend_pid`,
			b.name, info.ID, info.Operation, info.Who, info.PID, info.Created.Truncate(time.Microsecond))
		if err != nil {
			return fmt.Errorf("record lock holder: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &lock{b: b, conn: c, id: info.ID}, nil
}

// acquire opens a session, takes the state's advisory lock with fn (pg_try_advisory_lock,
// or pg_try_advisory_lock_shared) within timeout, and records the holder with record. A lock
// held by another fails with *store.LockedError naming the holder; any failure closes the
// session, which ends the lock with it. verb names the step in errors ("lock", "join").
func (b *Backend) acquire(ctx context.Context, verb, fn string, timeout time.Duration, record func(*pgx.Conn) error) (*pgx.Conn, error) {
	c, err := b.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s state %q: %w", verb, b.display, err)
	}
	ok, err := b.tryLock(ctx, c, fn, timeout)
	if err == nil && !ok {
		var holder store.LockInfo
		holder, err = b.holder(ctx, c)
		if err == nil {
			err = &store.LockedError{State: b.display, Holder: holder}
		}
	}
	if err == nil {
		err = record(c)
	}
	if err != nil {
		c.Close(context.WithoutCancel(ctx))
		var le *store.LockedError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("%s state %q: %w", verb, b.display, err)
	}
	return c, nil
}

// tryLock polls fn (pg_try_advisory_lock, or pg_try_advisory_lock_shared) until it succeeds
// or timeout passes.
func (b *Backend) tryLock(ctx context.Context, c *pgx.Conn, fn string, timeout time.Duration) (bool, error) {
	try := func() (bool, error) {
		var ok bool
		if err := c.QueryRow(ctx, `SELECT `+fn+`($1)`, b.lockKey).Scan(&ok); err != nil {
			return false, fmt.Errorf("take advisory lock: %w", err)
		}
		return ok, nil
	}
	ok, err := try()
	if ok || err != nil || timeout <= 0 {
		return ok, err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(b.poll())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-tick.C:
			if ok, err := try(); ok || err != nil {
				return ok, err
			}
		}
	}
}

// holder reads the lock holder's details: the exclusive holder's, or one runner's
// (store.Claimer) when runners hold it shared. It trusts a row only when it was
// written by a session that holds the advisory lock now; a row left by a dead
// holder gives the zero LockInfo.
func (b *Backend) holder(ctx context.Context, c *pgx.Conn) (store.LockInfo, error) {
	var h store.LockInfo
	err := c.QueryRow(ctx, `SELECT id, operation, who, pid, created FROM fiosync_locks
		WHERE backend_pid = (`+holderPIDQuery+`) AND name = $3
		UNION ALL
		SELECT id, operation, who, pid, created FROM fiosync_runners
		WHERE backend_pid IN (`+strings.Replace(holderPIDQuery, "LIMIT 1", "", 1)+`) AND name = $3
		LIMIT 1`,
		b.lockKey>>32&0xffffffff, b.lockKey&0xffffffff, b.name).Scan(&h.ID, &h.Operation, &h.Who, &h.PID, &h.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.LockInfo{}, nil
	}
	if err != nil {
		return store.LockInfo{}, fmt.Errorf("read lock holder: %w", err)
	}
	h.Created = h.Created.UTC()
	h.Path = b.display
	return h, nil
}

// holderPID returns the server process id of the session holding the lock.
func (b *Backend) holderPID(ctx context.Context, c *pgx.Conn) (pid int32, held bool, err error) {
	err = c.QueryRow(ctx, holderPIDQuery, b.lockKey>>32&0xffffffff, b.lockKey&0xffffffff).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find lock holder: %w", err)
	}
	return pid, true, nil
}

// ForceUnlock ends the lock whoever holds it: it terminates the database
// session holding the advisory lock (pg_terminate_backend; the role needs to
// be the holder's or a member of pg_signal_backend), waits until the server
// has released the lock, and deletes the holder's row. The fiosync that held
// the lock fails at its next statement.
func (b *Backend) ForceUnlock(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.connect(ctx)
	if err != nil {
		return fmt.Errorf("force-unlock state %q: %w", b.display, err)
	}
	pid, held, err := b.holderPID(ctx, c)
	if err != nil {
		return fmt.Errorf("force-unlock state %q: %w", b.display, err)
	}
	if held {
		var ok bool
		if err := c.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil {
			return fmt.Errorf("force-unlock state %q: terminate the holding session (server pid %d; needs the holder's role or pg_signal_backend): %w", b.display, pid, err)
		}
		if err := b.awaitRelease(ctx, c); err != nil {
			return fmt.Errorf("force-unlock state %q: %w", b.display, err)
		}
	}
	if _, err := c.Exec(ctx, `DELETE FROM fiosync_locks WHERE name = $1`, b.name); err != nil {
		return fmt.Errorf("force-unlock state %q: delete holder: %w", b.display, err)
	}
	return nil
}

// awaitRelease polls until no session holds the lock: a terminated session
// releases it when its server process exits, a moment after the signal.
func (b *Backend) awaitRelease(ctx context.Context, c *pgx.Conn) error {
	deadline := time.NewTimer(forceUnlockWait)
	defer deadline.Stop()
	tick := time.NewTicker(min(b.poll(), 50*time.Millisecond))
	defer tick.Stop()
	for {
		_, held, err := b.holderPID(ctx, c)
		if err != nil || !held {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("the lock is still held %s after terminating its session", forceUnlockWait)
		case <-tick.C:
		}
	}
}

// lock is a held advisory lock and the connection whose session holds it.
type lock struct {
	b  *Backend
	id string

	mu   sync.Mutex
	conn *pgx.Conn // nil once unlocked
}

// Unlock deletes the holder's row, releases the advisory lock and closes the
// connection. When the session is already gone (ForceUnlock terminated it,
// or the network dropped) the server has released the lock, and Unlock
// returns nil.
func (l *lock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	c := l.conn
	l.conn = nil
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	_, err := c.Exec(ctx, `DELETE FROM fiosync_locks WHERE name = $1 AND id = $2`, l.b.name, l.id)
	if err == nil {
		// Explicitly, not by closing: the server ends a closed session
		// asynchronously, and the next Lock must not find it still there.
		_, err = c.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.b.lockKey)
	}
	closed := c.IsClosed()
	c.Close(ctx)
	if err != nil && !closed {
		return fmt.Errorf("unlock state %q: %w", l.b.display, err)
	}
	return nil
}
