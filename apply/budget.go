package apply

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// budget bounds the bytes of part buffers in flight, shared by every file of a run. It is a
// weighted semaphore, whose waiters are served first come, first served, so a big part is not
// starved by a stream of small ones, and a file's parts (acquired in order by one goroutine)
// keep their order. A request larger than the whole budget is clamped to it: it runs, alone.
type budget struct {
	sem  *semaphore.Weighted
	size int64
}

func newBudget(size int64) *budget { return &budget{sem: semaphore.NewWeighted(size), size: size} }

// clamp returns the weight actually taken for a request of n bytes.
func (b *budget) clamp(n int64) int64 {
	return min(max(n, 1), b.size)
}

// acquire takes n bytes of budget (clamped), waiting in line until they are free or ctx ends.
// It returns the weight taken, which the caller gives back to release.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = b.clamp(n)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return 0, err
	}
	return n, nil
}

// release gives back n bytes taken by acquire.
func (b *budget) release(n int64) { b.sem.Release(n) }

// bufferPool recycles part buffers. It keeps at most limit bytes of idle buffers, and drops an
// idle buffer that is too small for a request instead of keeping it beside a new one, so idle
// plus in-use memory stays near the budget when part sizes vary between files.
type bufferPool struct {
	mu    sync.Mutex
	limit int64
	idle  int64
	free  [][]byte
}

func newBufferPool(limit int64) *bufferPool { return &bufferPool{limit: limit} }

// get returns a buffer of length n.
func (p *bufferPool) get(n int64) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.free) > 0 {
		last := len(p.free) - 1
		buf := p.free[last]
		p.free[last] = nil
		p.free = p.free[:last]
		p.idle -= int64(cap(buf))
		if int64(cap(buf)) >= n {
			return buf[:n]
		}
		// Too small: let the garbage collector have it.
	}
	return make([]byte, n)
}

// put returns buf for reuse.
func (p *bufferPool) put(buf []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle+int64(cap(buf)) > p.limit {
		return
	}
	p.idle += int64(cap(buf))
	p.free = append(p.free, buf[:cap(buf)])
}
