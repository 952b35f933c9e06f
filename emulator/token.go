package emulator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tokenName is the file in DataDir that keeps the static token across restarts. It is
// apart from the snapshot, which holds no secrets, and readable by its owner only.
const tokenName = "token"

// ValidToken reports whether t can be the emulator's static bearer token: 8 to 512
// characters from the base64url and base64 alphabets plus '.', '_' and '~', so that it
// travels unchanged in an Authorization header, an environment variable and a shell file.
func ValidToken(t string) error {
	if len(t) < 8 || len(t) > 512 {
		return fmt.Errorf("token must be 8 to 512 characters long, got %d", len(t))
	}
	for _, r := range t {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/=", r)
		if !ok {
			return errors.New("token may hold only letters, digits and - . _ ~ + / =")
		}
	}
	return nil
}

// staticToken returns the token the emulator answers to: Options.Token, else the one kept
// in DataDir (made and kept on first start), else a fresh one for a temporary emulator.
func (e *Emulator) staticToken() (string, error) {
	path := filepath.Join(e.dataDir, tokenName)
	if e.opts.Token != "" {
		if e.tempDir {
			return e.opts.Token, nil
		}
		return e.opts.Token, writeToken(path, e.opts.Token)
	}
	fresh := "emu_" + newID()
	if e.tempDir {
		return fresh, nil
	}
	data, err := os.ReadFile(path)
	if err == nil {
		t := strings.TrimSpace(string(data))
		if err := ValidToken(t); err != nil {
			return "", fmt.Errorf("read token %q: %w; delete the file to get a new token", path, err)
		}
		return t, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read token: %w", err)
	}
	return fresh, writeToken(path, fresh)
}

// writeToken keeps t in path, readable by its owner only, replacing what was there.
func writeToken(path, t string) error {
	if err := writePrivate(path, []byte(t+"\n")); err != nil {
		return fmt.Errorf("keep token: %w", err)
	}
	return nil
}
