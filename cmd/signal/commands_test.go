package main

import (
	"bytes"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runBinary runs the signal binary with the data dir and env, and returns
// its exit code and output.
func runBinary(t *testing.T, dataDir, stdin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "SIGNAL_DATA_DIR="+dataDir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestBackupUnderLoadThenRestore: a backup taken while events pour in,
// restored into a fresh data dir, holds every event acknowledged before
// the backup began; restore refuses a running server's data dir, an
// existing database, another key and a file that is not Signal's.
func TestBackupUnderLoadThenRestore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, dir)
	tok := n.login(t)
	key := n.pipeline(t, tok)

	load := startOrderLoad(n, key, "b", 8)
	time.Sleep(700 * time.Millisecond)
	before := load.ackedIDs()
	backup := filepath.Join(t.TempDir(), "signal-backup.db")
	code, out := runBinary(t, dir, "", nil, "backup", backup)
	during := len(load.ackedIDs()) - len(before)
	load.halt()
	if code != 0 {
		t.Fatalf("signal backup: exit %d: %s", code, out)
	}
	if len(before) < 50 || during == 0 {
		t.Fatalf("%d events acknowledged before the backup, %d during it: the test proves nothing", len(before), during)
	}
	if code, out := runBinary(t, dir, "", nil, "backup", backup); code == 0 || !strings.Contains(out, "already exists") {
		t.Errorf("a second backup to the same file: exit %d: %s", code, out)
	}
	if code, out := runBinary(t, dir, "", nil, "restore", "--force", backup); code == 0 || !strings.Contains(out, "running signal server holds") {
		t.Errorf("restore into a served data dir: exit %d: %s", code, out)
	}

	fresh := t.TempDir()
	keyFile, _ := os.ReadFile(filepath.Join(dir, "encryption.key"))
	encKey := "ENCRYPTION_KEY=" + strings.TrimSpace(string(keyFile))
	if code, out := runBinary(t, fresh, "", []string{"ENCRYPTION_KEY=" + strings.Repeat("ab", 32)}, "restore", backup); code == 0 || !strings.Contains(out, "another ENCRYPTION_KEY") {
		t.Errorf("restore with another key: exit %d: %s", code, out)
	}
	notSignal := filepath.Join(t.TempDir(), "other.db")
	os.WriteFile(notSignal, []byte("not a database"), 0o600)
	if code, out := runBinary(t, fresh, "", []string{encKey}, "restore", notSignal); code == 0 || !strings.Contains(out, "not a Signal database") {
		t.Errorf("restore of a file that is not Signal's: exit %d: %s", code, out)
	}
	// A copy of signal.db alone lacks the event log beside it.
	mainOnly := filepath.Join(t.TempDir(), "main-only.db")
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "signal.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`VACUUM INTO ?`, mainOnly); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if code, out := runBinary(t, fresh, "", []string{encKey}, "restore", mainOnly); code == 0 || !strings.Contains(out, "holds no event log") {
		t.Errorf("restore of signal.db without its event log: exit %d: %s", code, out)
	}
	if code, out := runBinary(t, fresh, "", []string{encKey}, "restore", backup); code != 0 {
		t.Fatalf("signal restore: exit %d: %s", code, out)
	}
	if code, out := runBinary(t, fresh, "", []string{encKey}, "restore", backup); code == 0 || !strings.Contains(out, "already holds a database") {
		t.Errorf("restore over a database without --force: exit %d: %s", code, out)
	}
	if code, out := runBinary(t, fresh, "", []string{encKey}, "restore", "--force", backup); code != 0 {
		t.Fatalf("signal restore --force: exit %d: %s", code, out)
	}
	for _, f := range []string{"signal.db", "signal.events.db"} {
		if aside, _ := filepath.Glob(filepath.Join(fresh, f+".before-restore-*")); len(aside) == 0 {
			t.Errorf("restore --force kept no %s aside", f)
		}
	}

	n2 := start(t, fresh, encKey)
	got := n2.messageIDs(t, n2.login(t))
	for _, id := range before {
		if _, ok := got[id]; !ok {
			t.Fatalf("event %s was acknowledged before the backup but the restore lacks it (%d acknowledged, %d found)", id, len(before), len(got))
		}
	}
	t.Logf("%d events acknowledged before the backup (%d more during it), all restored; the restore holds %d", len(before), during, len(got))
}

// TestOperatorCommands: migrate and check exit 0 on a good setup and
// non-zero with a clear message on a bad one; user create and
// reset-password refuse weak passwords and let the user log in; roles other
// than all are refused on the embedded database; a SIGNAL_ADMIN_PASSWORD
// given when an admin exists is said at start, without the password.
func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	steps := []struct {
		name  string
		stdin string
		env   []string
		args  []string
		code  int
		out   string
	}{
		{"migrate", "", nil, []string{"migrate"}, 0, "migrations applied"},
		{"check", "", nil, []string{"check"}, 0, "ok: configuration valid"},
		{"check bad config", "", []string{"MAX_BATCH_SIZE=0"}, []string{"check"}, 1, "MAX_BATCH_SIZE"},
		{"check unreachable postgres", "", []string{"DATABASE_URL=postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "JWT_SECRET=" + strings.Repeat("j", 32), "ENCRYPTION_KEY=" + strings.Repeat("ab", 32)}, []string{"check"}, 1, "DATABASE_URL"},
		{"weak password", "short1\n", nil, []string{"user", "create", "--email", "ops@example.com", "--password-stdin"}, 1, "at least 12"},
		{"one kind of character", "abcdefghijklmnop\n", nil, []string{"user", "create", "--email", "ops@example.com", "--password-stdin"}, 1, "two kinds"},
		{"common word", "Password-2026!\n", nil, []string{"user", "create", "--email", "ops@example.com", "--password-stdin"}, 1, "first words guessed"},
		{"create", "Tr0ub4dor&3-horse\n", nil, []string{"user", "create", "--email", "ops@example.com", "--password-stdin"}, 0, "created user ops@example.com"},
		{"create twice", "Tr0ub4dor&3-horse\n", nil, []string{"user", "create", "--email", "ops@example.com", "--password-stdin"}, 1, "already exists"},
		{"reset unknown", "Tr0ub4dor&3-horse\n", nil, []string{"user", "reset-password", "--email", "nobody@example.com", "--password-stdin"}, 1, "no user"},
		{"reset", "", nil, []string{"user", "reset-password", "--email", "ops@example.com", "--password", "Correct-Battery-9"}, 0, "reset"},
		{"worker role on sqlite", "", nil, []string{"serve", "--role=worker"}, 1, "SIGNAL_ROLE=worker needs DATABASE_URL"},
		{"bad role", "", []string{"SIGNAL_ROLE=everything"}, []string{"check"}, 1, "SIGNAL_ROLE must be all, gateway or worker"},
		{"backup on postgres", "", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x", "JWT_SECRET=" + strings.Repeat("j", 32), "ENCRYPTION_KEY=" + strings.Repeat("ab", 32)}, []string{"backup", "x.db"}, 1, "pg_dump"},
	}
	for _, s := range steps {
		code, out := runBinary(t, dir, s.stdin, s.env, s.args...)
		if code != s.code || !strings.Contains(out, s.out) {
			t.Errorf("%s: signal %v: exit %d, want %d with %q: %s", s.name, s.args, code, s.code, s.out, out)
		}
	}

	n := start(t, dir)
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/auth/login", "", `{"email":"ops@example.com","password":"Correct-Battery-9"}`, nil); code != 200 {
		t.Errorf("login with the reset password: %d", code)
	}
	// start sets SIGNAL_ADMIN_PASSWORD; the first start created the admin
	// with it, this one is told it is ignored.
	n2 := start(t, t.TempDir())
	n2.cmd.Process.Kill()
	n2.wait()
	if !strings.Contains(n.stderr.String(), "SIGNAL_ADMIN_PASSWORD is ignored") || strings.Contains(n.stderr.String(), "e2e-password") {
		t.Errorf("start with SIGNAL_ADMIN_PASSWORD and an existing admin: %s", n.stderr)
	}
	if strings.Contains(n2.stderr.String(), "SIGNAL_ADMIN_PASSWORD is ignored") {
		t.Errorf("the first start warned that SIGNAL_ADMIN_PASSWORD is ignored: %s", n2.stderr)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if code := run([]string{"version"}, func(string) string { return "" }, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "commit ") {
		t.Errorf("signal version: %d %q", code, out.String())
	}
	out.Reset()
	run([]string{"help"}, func(string) string { return "" }, &out, io.Discard)
	for _, s := range settings {
		if !strings.Contains(out.String(), s.name) {
			t.Errorf("signal help does not list %s", s.name)
		}
	}
	// Every variable the configuration reads is in the table help prints.
	read := map[string]bool{}
	loadConfig(func(k string) string { read[k] = true; return "" })
	for k := range read {
		if !strings.Contains(out.String(), k) {
			t.Errorf("loadConfig reads %s, which signal help does not list", k)
		}
	}
	for _, v := range vendorSpecs {
		if settingDefault(v.urlEnv()) != v.defaultURL {
			t.Errorf("help says %s defaults to %q, the vendor to %q", v.urlEnv(), settingDefault(v.urlEnv()), v.defaultURL)
		}
	}
}
