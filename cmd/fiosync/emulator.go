package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sourcegraph/conc"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/atomicfile"
)

type emulatorCmd struct {
	Addr           string        `default:"127.0.0.1:0" help:"Address to listen on."`
	Data           string        `type:"path" help:"Directory for uploaded bytes (a temporary directory when omitted)."`
	RateLimitScale float64       `default:"1" help:"Multiply the documented rate limits; 0 turns them off."`
	APIFaultRate   float64       `name:"api-fault-rate" help:"Answer this share of API calls with 500 or 503."`
	PartFaultRate  float64       `help:"Answer this share of part PUTs with 500."`
	ResetRate      float64       `help:"Cut this share of part PUTs mid-body."`
	DownloadReset  float64       `name:"download-reset-rate" help:"Cut this share of original downloads after half of their bytes (for verify tests)."`
	Corrupt        []string      `name:"corrupt" placeholder:"FILE_ID" help:"Before serving, flip one byte of this stored file's content (from --data), as bit rot would, so that fiosync verify must fail; repeatable. A running emulator does the same on POST /_emulator/files/FILE_ID/corrupt."`
	Latency        time.Duration `help:"Add this delay to every request."`
	URLTTL         time.Duration `name:"url-ttl" default:"24h" help:"Lifetime of part upload URLs."`
	PartSize       int64         `default:"20971520" help:"Target part size in bytes (even split)."`
	NoRetryAfter   bool          `help:"Send 429 without Retry-After."`
	TokenTTL       time.Duration `default:"1h" help:"Lifetime of the tokens its IMS endpoints issue."`
	Token          string        `placeholder:"TOKEN" help:"Answer to this bearer token (8 to 512 letters, digits or - . _ ~ + / =). With --data it is kept for later starts; without --token a started --data emulator keeps the token it made first."`
	EnvFile        string        `type:"path" placeholder:"PATH" help:"When ready, write FRAMEIO_API_URL and FRAMEIO_TOKEN exports to PATH (mode 0600) for the shell to source; removed when the emulator stops."`
}

func (c *emulatorCmd) Help() string {
	return `Serves a local Frame.io V4 API for tests, demos and trying fiosync without an account.
When ready it prints one JSON line with api_url, token and the seeded ids; point fiosync at it
with FRAMEIO_API_URL and FRAMEIO_TOKEN, or let it write them for you:

  fiosync emulator --data .emulator --env-file .emulator/env &
  sleep 1; . .emulator/env

It serves until interrupted.`
}

// Validate checks the switches before anything starts.
func (c *emulatorCmd) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"--api-fault-rate", c.APIFaultRate}, {"--part-fault-rate", c.PartFaultRate}, {"--reset-rate", c.ResetRate}, {"--download-reset-rate", c.DownloadReset}} {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("%s must be between 0 and 1, got %g", r.name, r.v)
		}
	}
	if len(c.Corrupt) > 0 && c.Data == "" {
		return errors.New("--corrupt changes a file stored by an earlier run: pass that run's --data directory too")
	}
	if c.RateLimitScale < 0 {
		return fmt.Errorf("--rate-limit-scale must be 0 or more, got %g", c.RateLimitScale)
	}
	if c.PartSize < 1 {
		return fmt.Errorf("--part-size must be at least 1 byte, got %d", c.PartSize)
	}
	if c.URLTTL <= 0 || c.TokenTTL <= 0 {
		return errors.New("--url-ttl and --token-ttl must be positive durations such as 24h")
	}
	if c.Token != "" {
		if err := emulator.ValidToken(c.Token); err != nil {
			return fmt.Errorf("--token: %w", err)
		}
	}
	return nil
}

func (c *emulatorCmd) Run(ctx context.Context, io *stdio) error {
	opts := emulator.DefaultOptions()
	opts.DataDir = c.Data
	opts.RateLimitScale = c.RateLimitScale
	opts.APIFaultRate = c.APIFaultRate
	opts.PartFaultRate = c.PartFaultRate
	opts.ResetRate = c.ResetRate
	opts.DownloadResetRate = c.DownloadReset
	opts.Latency = c.Latency
	opts.URLTTL = c.URLTTL
	opts.PartSize = c.PartSize
	opts.NoRetryAfter = c.NoRetryAfter
	opts.TokenTTL = c.TokenTTL
	opts.Token = c.Token
	emu, err := emulator.New(opts)
	if err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	defer emu.Close()
	for _, id := range c.Corrupt {
		off, err := emu.Corrupt(id)
		if err != nil {
			return fmt.Errorf("emulator --corrupt: %w", err)
		}
		fmt.Fprintf(io.Err, "emulator: flipped the byte at offset %d of file %s\n", off, id)
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 30 * time.Second}
	var wg conc.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- srv.Serve(ln) })

	ready := struct {
		APIURL string `json:"api_url"`
		emulator.Seed
	}{APIURL: "http://" + ln.Addr().String(), Seed: emu.Seed()}
	readyOut := io.raw // the ready line hands out the emulator's token: it is not scrubbed
	if readyOut == nil {
		readyOut = io.Out
	}
	if c.EnvFile != "" {
		if err := writeEnvFile(c.EnvFile, ready.APIURL, ready.Token); err != nil {
			srv.Close()
			wg.Wait()
			return err
		}
		defer os.Remove(c.EnvFile)
	}
	if err := json.NewEncoder(readyOut).Encode(ready); err != nil {
		srv.Close()
		wg.Wait()
		return fmt.Errorf("print ready line: %w", err)
	}

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		srv.Close()
	}
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// writeEnvFile writes the shell exports that point fiosync at the emulator to path, atomically
// (a shell that sources it sees all of it or nothing) and readable by its owner only, as it
// holds the token. The values need no escaping inside single quotes: the URL is made here and
// the token's alphabet (emulator.ValidToken) has no quote.
func writeEnvFile(path, apiURL, token string) error {
	content := fmt.Sprintf("# Written by fiosync emulator when ready; removed when it stops.\nexport FRAMEIO_API_URL='%s'\nexport FRAMEIO_TOKEN='%s'\n", apiURL, token)
	if err := atomicfile.Write(path, []byte(content), 0o600); err != nil { // it holds a token
		return fmt.Errorf("write env file %s: %w", path, err)
	}
	return nil
}
