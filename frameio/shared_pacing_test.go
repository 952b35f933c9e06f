package frameio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fiosync/fiosync/emulator"
)

// TestPacingSharesTheUsersBucket runs three clients (three fiosync processes, each with its
// own pacer) on one user's credentials against an emulator that counts all of them in one
// bucket per route, each with four requests in flight for as long as it takes: together they
// must stay within the limit, drawing at most 1% 429s. A pacer that takes 90% of the limit for
// itself, as if alone, draws hundreds: the three send 2.7 times what the bucket drains.
func TestPacingSharesTheUsersBucket(t *testing.T) {
	t.Parallel()
	o := emulator.DefaultOptions()
	o.RateLimitScale = 6 // GET files: 30 a second, shared
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	seed := emu.Seed()

	const clients, inFlight, each = 3, 4, 16
	ctx := context.Background()
	var wg sync.WaitGroup
	for range clients {
		cl, err := New(srv.URL, &http.Client{Transport: staticBearer(seed.Token)})
		if err != nil {
			t.Fatal(err)
		}
		for range inFlight {
			wg.Go(func() {
				for range each {
					for _, err := range cl.Files(ctx, seed.AccountID, seed.RootFolderID) {
						if err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
	}
	wg.Wait()

	var calls, limited int64
	for _, byStatus := range emu.Stats().Requests {
		for status, n := range byStatus {
			calls += n
			if status == "429" {
				limited += n
			}
		}
	}
	t.Logf("%d calls, %d answered 429", calls, limited)
	if calls < clients*inFlight*each {
		t.Fatalf("%d calls, want at least %d", calls, clients*inFlight*each)
	}
	if limited*100 > calls {
		t.Errorf("%d of %d calls answered 429, more than 1%%: the clients do not share the user's bucket", limited, calls)
	}
}
