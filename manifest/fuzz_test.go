package manifest

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the parser. Its seed corpus in
// testdata/fuzz/FuzzLoad (the shapes the table tests use, the examples and
// hostile YAML) runs with every `go test`; `go test -fuzz=FuzzLoad
// ./manifest` explores further. Parse must never panic, and what it returns
// must keep the promises the rest of fiosync relies on.
func FuzzLoad(f *testing.F) {
	f.Add(Starter())
	vars := env(map[string]string{"FRAMEIO_ACCOUNT_ID": "acc", "EMPTY": "", "DAY": "day01"})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fiosync.yaml", data, vars)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, not ErrorList: %v", err, err)
			}
			if len(list) == 0 {
				t.Fatal("empty ErrorList returned as an error")
			}
			for i, e := range list {
				if e.Pos.Line < 1 || e.Pos.Column < 1 || e.Msg == "" {
					t.Errorf("problem without a position or message: %#v", e)
				}
				if i > 0 && (e.Pos.Line < list[i-1].Pos.Line || e.Pos.Line == list[i-1].Pos.Line && e.Pos.Column < list[i-1].Pos.Column) {
					t.Errorf("problems out of order: %v before %v", list[i-1].Pos, e.Pos)
				}
			}
			text := list.Error()
			if n := strings.Count(text, "\n"); n != len(list)-1 {
				t.Errorf("%d problems printed on %d lines:\n%s", len(list), n+1, text)
			}
			if strings.Contains(text, "yaml.Node") || strings.Contains(text, "manifest.") {
				t.Errorf("message mentions Go types:\n%s", text)
			}
			return
		}
		if m.Version != 1 || m.Target.Project == "" {
			t.Errorf("accepted manifest with version %d, project %q", m.Version, m.Target.Project)
		}
		for _, u := range m.Uploads {
			if (u.Local == "") == (u.Remote == "") {
				t.Errorf("uploads[%d] has local %q and remote %q", u.Index, u.Local, u.Remote)
			}
			if !strings.HasPrefix(u.To, "/") || (u.To != "/" && strings.HasSuffix(u.To, "/")) {
				t.Errorf("uploads[%d].to = %q", u.Index, u.To)
			}
			if u.Remote != "" && (u.Name == "" || strings.Contains(u.Name, "/")) {
				t.Errorf("uploads[%d].name = %q", u.Index, u.Name)
			}
		}
	})
}
