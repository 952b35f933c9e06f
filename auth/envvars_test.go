package auth_test

import (
	"testing"

	"github.com/fiosync/fiosync/auth"
)

func TestIsCredentialEnv(t *testing.T) {
	for name, want := range map[string]bool{
		"FRAMEIO_TOKEN":         true,
		"FRAMEIO_CLIENT_SECRET": true,
		"PGPASSWORD":            true,
		"PGPASSFILE":            true,
		"GITHUB_TOKEN":          true,
		"FIOSYNC_STATE":         false, // its password is a credential: the CLI holds that
		"DATABASE_URL":          true,
		"API_KEY":               true,
		"api_key":               true,
		"MY_SECRET_THING":       true,
		"DB_PASSWD":             true,
		"GOOGLE_CREDENTIALS":    true,
		"SIGNING_KEY":           true,
		"TOKEN":                 true,
		"FRAMEIO_ACCOUNT_ID":    false,
		"FRAMEIO_CLIENT_ID":     false,
		"FRAMEIO_API_URL":       false,
		"KEYFRAME_DIR":          false,
		"MONKEY":                false,
		"TOKENIZER_MODEL":       false,
		"SHOOT_DAY":             false,
		"HOME":                  false,
	} {
		if got := auth.IsCredentialEnv(name); got != want {
			t.Errorf("IsCredentialEnv(%q) = %v, want %v", name, got, want)
		}
	}
}
