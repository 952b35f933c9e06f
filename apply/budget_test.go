package apply

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBudgetClampsOversizedRequest(t *testing.T) {
	b := newBudget(100)
	n, err := b.acquire(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(int64(100), n); diff != "" {
		t.Errorf("weight (-want +got):\n%s", diff)
	}
	if b.sem.TryAcquire(1) {
		t.Error("a request of the whole budget left room for another")
	}
	b.release(n)
	if !b.sem.TryAcquire(100) {
		t.Error("the budget is not whole again after release")
	}
}

func TestBudgetCancelledWaiterLeavesLine(t *testing.T) {
	b := newBudget(100)
	bg := context.Background()
	if _, err := b.acquire(bg, 100); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := b.acquire(ctx, 50); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire error = %v, want context.Canceled", err)
	}
	b.release(100)
	if n, err := b.acquire(bg, 100); err != nil || n != 100 {
		t.Fatalf("acquire after cancel = %d, %v; want the whole budget", n, err)
	}
}

func TestBufferPoolBoundsIdleMemory(t *testing.T) {
	p := newBufferPool(100)
	a, b := p.get(60), p.get(60)
	p.put(a)
	p.put(b) // would make 120 idle: dropped
	if p.idle != 60 {
		t.Errorf("idle = %d, want 60", p.idle)
	}
	if got := p.get(50); cap(got) != 60 || len(got) != 50 {
		t.Errorf("reused buffer len %d cap %d, want len 50 cap 60", len(got), cap(got))
	}
	p.put(make([]byte, 10))
	if got := p.get(80); len(got) != 80 || p.idle != 0 {
		t.Errorf("get(80) = len %d, idle %d; want a new buffer and the small one dropped", len(got), p.idle)
	}
}
