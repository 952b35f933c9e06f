package auth

import (
	"slices"
	"strings"
)

// credentialEnv are environment variables that hold credentials, or say where one is, though
// their names carry none of the words credentialWords lists.
var credentialEnv = []string{
	"FRAMEIO_TOKEN", "FRAMEIO_CLIENT_SECRET", // what Resolve reads
	"DATABASE_URL",                                                           // a connection string, with its password
	"PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGSSLKEY", "PGSSLPASSWORD", // libpq's (pgx reads them)
	"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
	"CI_JOB_TOKEN", "CI_JOB_JWT", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "SSH_AUTH_SOCK", "NETRC",
}

// credentialWords are the words that make a variable's name say it holds a credential, when
// they are a whole "_"-separated word of it: API_KEY and DB_PASSWORD do, KEYFRAME_DIR does not.
var credentialWords = []string{
	"TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASSPHRASE",
	"CREDENTIAL", "CREDENTIALS", "KEY", "APIKEY", "JWT",
}

// IsCredentialEnv reports whether the environment variable name holds a credential: one of
// the variables fiosync and its libraries read secrets from (FRAMEIO_TOKEN,
// FRAMEIO_CLIENT_SECRET, PGPASSWORD, ...), a CI system's token (GITHUB_TOKEN, ...), or any
// name with a whole "_"-separated word such as TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL(S)
// or KEY, in any case. FRAMEIO_ACCOUNT_ID and FRAMEIO_CLIENT_ID are not credentials. This is
// the one list of them: the CLI refuses to expand these variables in a manifest and scrubs
// their values from everything it writes.
func IsCredentialEnv(name string) bool {
	upper := strings.ToUpper(name)
	if slices.Contains(credentialEnv, upper) {
		return true
	}
	for _, w := range strings.Split(upper, "_") {
		if slices.Contains(credentialWords, w) {
			return true
		}
	}
	return false
}
