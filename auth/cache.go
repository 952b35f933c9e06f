package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/oauth2"
)

// cacheVersion is the version of the cache file format this package writes and reads.
const cacheVersion = 1

// Cache is the content of the token cache: one login, the IMS and client it belongs to, and
// its tokens. Its String and GoString show no token, so printing one leaks nothing.
type Cache struct {
	Version      int       `json:"version"`
	IMSURL       string    `json:"ims_url"`
	ClientID     string    `json:"client_id"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// String describes the cache without its tokens.
func (c *Cache) String() string {
	return fmt.Sprintf("login of client %q at %s (access token expires %s)", c.ClientID, c.IMSURL, c.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the tokens.
func (c *Cache) GoString() string { return "auth.Cache{" + c.String() + "}" }

func (c *Cache) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: c.TokenType, RefreshToken: c.RefreshToken, Expiry: c.Expiry}
}

// newCache records tok as the login of clientID at ims.
func newCache(ims, clientID string, tok *oauth2.Token) *Cache {
	return &Cache{
		Version:      cacheVersion,
		IMSURL:       ims,
		ClientID:     clientID,
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	}
}

// DefaultCachePath returns os.UserConfigDir()/fiosync/token.json.
func DefaultCachePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the token cache: %w", err)
	}
	return filepath.Join(dir, "fiosync", "token.json"), nil
}

// ReadCache reads the token cache at path. A missing file is an error that matches
// fs.ErrNotExist.
func ReadCache(path string) (*Cache, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read token cache: %w", err)
	}
	var c Cache
	if err := json.Unmarshal(b, &c); err != nil {
		// The decoder's message may quote the file; the file holds tokens.
		return nil, fmt.Errorf("read token cache %q: not a fiosync token cache (invalid JSON); remove it with fiosync auth logout", path)
	}
	switch {
	case c.Version != cacheVersion:
		return nil, fmt.Errorf("read token cache %q: version %d, want %d", path, c.Version, cacheVersion)
	case c.IMSURL == "" || c.ClientID == "" || c.RefreshToken == "":
		return nil, fmt.Errorf("read token cache %q: ims_url, client_id or refresh_token is missing", path)
	}
	return &c, nil
}

// WriteCache writes c to path atomically: a temporary file of mode 0600 in the same directory,
// fsync, rename over path, fsync of the directory. The directory is created with mode 0700
// when missing.
func WriteCache(path string, c *Cache) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".token-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// The rename is durable only once the directory is; some systems cannot sync one.
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// RemoveCache deletes the token cache at path. It reports whether there was one.
func RemoveCache(path string) (removed bool, err error) {
	err = os.Remove(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remove token cache: %w", err)
	}
	return true, nil
}
