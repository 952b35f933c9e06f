package apply

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBudgetFIFO(t *testing.T) {
	b := newBudget(100)
	b.queued = make(chan struct{})
	ctx := context.Background()
	if _, err := b.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	// A big request waits; a small one that would fit must queue behind it, not overtake.
	order := make(chan string, 2)
	bigDone := make(chan int64)
	go func() {
		n, _ := b.acquire(ctx, 80)
		order <- "big"
		bigDone <- n
	}()
	<-b.queued
	go func() {
		b.acquire(ctx, 30)
		order <- "small"
	}()
	<-b.queued
	select {
	case who := <-order:
		t.Fatalf("%s acquired while 60 of 100 were held and a bigger request was first in line", who)
	default:
	}
	b.release(60)
	if got := <-order; got != "big" {
		t.Fatalf("first granted = %s, want big", got)
	}
	b.release(80)
	if got := <-order; got != "small" {
		t.Fatalf("second granted = %s, want small", got)
	}
	if got := <-bigDone; got != 80 {
		t.Errorf("weight = %d, want 80", got)
	}
}

func TestBudgetClampsOversizedRequest(t *testing.T) {
	b := newBudget(100)
	n, err := b.acquire(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(int64(100), n); diff != "" {
		t.Errorf("weight (-want +got):\n%s", diff)
	}
	b.release(n)
	if b.used != 0 {
		t.Errorf("used = %d after release, want 0", b.used)
	}
}

func TestBudgetCancelledWaiterLeavesLine(t *testing.T) {
	b := newBudget(100)
	b.queued = make(chan struct{})
	bg := context.Background()
	if _, err := b.acquire(bg, 100); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error)
	go func() {
		_, err := b.acquire(ctx, 50)
		errc <- err
	}()
	<-b.queued
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
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
