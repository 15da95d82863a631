package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the signal binary built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signal-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "signal")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build signal: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is a running signal process.
type node struct {
	cmd     *exec.Cmd
	gateway string
	admin   string
	stdout  *syncBuffer
	stderr  *syncBuffer
	exited  chan struct{}
	err     error // the exit status, once exited is closed
}

// wait blocks until the process exits and returns its exit error.
func (n *node) wait() error {
	<-n.exited
	return n.err
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t testing.TB, dataDir string, env ...string) *node {
	t.Helper()
	return startBinary(t, binary, dataDir, env...)
}

// startBinary is start with another executable (a wrapper of the binary).
func startBinary(t testing.TB, bin, dataDir string, env ...string) *node {
	t.Helper()
	// Port 0: the kernel picks free ports and signal logs them, so tests
	// running side by side never race for a port.
	n := &node{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(bin, "serve")
	n.cmd.Env = append(os.Environ(), "SIGNAL_DATA_DIR="+dataDir, "SIGNAL_GATEWAY_ADDR=127.0.0.1:0", "SIGNAL_ADMIN_ADDR=127.0.0.1:0",
		"SIGNAL_ADMIN_PASSWORD=e2e-password", "RATE_LIMIT_RPS=0", "SIGNAL_OMNISEND_API_URL=http://127.0.0.1:1",
		"SIGNAL_KLAVIYO_API_URL=http://127.0.0.1:1")
	n.cmd.Env = append(n.cmd.Env, env...)
	n.cmd.Stdout, n.cmd.Stderr = n.stdout, n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n.err = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.cmd.Process.Kill()
		n.wait()
	})
	started := regexp.MustCompile(`msg="signal started".* gateway=(\S+) admin=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := started.FindStringSubmatch(n.stderr.String()); m != nil {
			n.gateway, n.admin = m[1], m[2]
			break
		}
		select {
		case <-n.exited:
			t.Fatalf("signal exited at start: %s", n.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("signal did not start: %s", n.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

func (n *node) call(t *testing.T, method, url, tok, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %q: %v", method, url, raw, err)
		}
	}
	return resp.StatusCode
}

func (n *node) login(t *testing.T) string {
	t.Helper()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/auth/login", "", `{"email":"admin@localhost","password":"e2e-password"}`, &pair); code != 200 {
		t.Fatalf("login: %d", code)
	}
	return pair.AccessToken
}

func (n *node) pipeline(t *testing.T, tok string) string {
	t.Helper()
	var p struct {
		Key string `json:"pipeline_key"`
	}
	if code := n.call(t, "POST", "http://"+n.admin+"/v1/admin/pipelines", tok, `{"name":"e2e"}`, &p); code != 201 {
		t.Fatalf("create pipeline: %d", code)
	}
	return p.Key
}

// messageIDs lists every message id Live Events shows.
func (n *node) messageIDs(t *testing.T, tok string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	cursor := ""
	for {
		var pg struct {
			Data []struct {
				MessageID string `json:"message_id"`
				Status    string `json:"status"`
				Reason    string `json:"reason"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
			HasMore    bool   `json:"has_more"`
		}
		if code := n.call(t, "GET", "http://"+n.admin+"/v1/admin/live-events?limit=100&cursor="+cursor, tok, "", &pg); code != 200 {
			t.Fatalf("live events: %d", code)
		}
		for _, d := range pg.Data {
			ids[d.MessageID] = d.Status + "/" + d.Reason
		}
		if !pg.HasMore {
			return ids
		}
		cursor = pg.NextCursor
	}
}

// TestAcknowledgedEventsSurviveSIGKILL: every event that got a 200 is there
// after the process is killed without warning and started again.
func TestAcknowledgedEventsSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, dir)
	tok := n.login(t)
	key := n.pipeline(t, tok)

	load := startOrderLoad(n, key, "m", 16)
	time.Sleep(1500 * time.Millisecond)
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.wait()
	acked := load.halt()
	if len(acked) < 100 {
		t.Fatalf("only %d events acknowledged before the kill; the test proves nothing", len(acked))
	}

	n2 := start(t, dir)
	tok = n2.login(t)
	got := n2.messageIDs(t, tok)
	for _, id := range acked {
		if _, ok := got[id]; !ok {
			t.Fatalf("event %s was acknowledged but is gone after SIGKILL (%d acknowledged, %d found)", id, len(acked), len(got))
		}
	}
	t.Logf("%d acknowledged events all found after SIGKILL and restart", len(acked))
}

// TestQuickStartFlow: log in, create a pipeline, send an event, see it
// listed as filtered/no_integration.
func TestQuickStartFlow(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	tok := n.login(t)
	key := n.pipeline(t, tok)
	req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/t", strings.NewReader(`{"event":"Signed Up","userId":"u1","messageId":"qs-1"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("send: %v %v", err, resp)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := n.messageIDs(t, tok)["qs-1"]; st == "filtered/no_integration" {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("event shows as %q, want filtered/no_integration", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		if err := n.wait(); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, n.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("signal did not exit within 15 s of SIGTERM")
	}
}

func TestGeneratedAdminPasswordIsPrintedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, dir, "SIGNAL_ADMIN_PASSWORD=")
	n.cmd.Process.Signal(syscall.SIGTERM)
	n.wait()
	var pw string
	sc := bufio.NewScanner(strings.NewReader(n.stdout.String()))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "password:"); ok {
			pw = strings.TrimSpace(v)
		}
	}
	if len(pw) < 16 {
		t.Fatalf("no generated password on stdout: %q", n.stdout)
	}
	if strings.Contains(n.stderr.String(), pw) {
		t.Fatal("the generated password was logged")
	}
	n2 := start(t, dir, "SIGNAL_ADMIN_PASSWORD=")
	if strings.Contains(n2.stdout.String(), "password") {
		t.Fatal("the password was printed again on the second start")
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if code := n2.call(t, "POST", "http://"+n2.admin+"/v1/admin/auth/login", "", `{"email":"admin@localhost","password":"`+pw+`"}`, &pair); code != 200 {
		t.Fatalf("login with the generated password: %d", code)
	}
}

func TestBadConfigurationExitsNonZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  string
		want string
	}{
		{"SIGNAL_GATEWAY_ADDR=nonsense", "SIGNAL_GATEWAY_ADDR"},
		{"MAX_PAYLOAD_SIZE=big", "MAX_PAYLOAD_SIZE"},
		{"MAX_BATCH_SIZE=0", "MAX_BATCH_SIZE"},
		{"CORS_ORIGINS=not a url", "CORS_ORIGINS"},
		{"ENCRYPTION_KEY=too-short", "ENCRYPTION_KEY"},
		{"JWT_SECRET=short", "JWT_SECRET"},
		{"SIGNAL_OMNISEND_API_URL=ftp://x", "SIGNAL_OMNISEND_API_URL"},
		{"SIGNAL_KLAVIYO_API_URL=ftp://x", "SIGNAL_KLAVIYO_API_URL"},
		{"DATABASE_URL=mysql://x", "DATABASE_URL"},
		{"RATE_LIMIT_RPS=-1", "RATE_LIMIT_RPS"},
		{"SIGNAL_TRUSTED_PROXIES=10.0.0.0/33", "SIGNAL_TRUSTED_PROXIES"},
		{"SIGNAL_RETENTION_DAYS=forever", "SIGNAL_RETENTION_DAYS"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			env := map[string]string{"SIGNAL_DATA_DIR": t.TempDir(), "SIGNAL_GATEWAY_ADDR": "127.0.0.1:0", "SIGNAL_ADMIN_ADDR": "127.0.0.1:1"}
			k, v, _ := strings.Cut(tt.env, "=")
			env[k] = v
			code := run([]string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want non-zero naming %s", code, stderr.String(), tt.want)
			}
		})
	}
}

// TestWrongEncryptionKeyIsRefused: a data dir written with one key does not
// start with another; the message names ENCRYPTION_KEY.
func TestWrongEncryptionKeyIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, dir)
	n.cmd.Process.Signal(syscall.SIGTERM)
	n.wait()
	var stdout, stderr bytes.Buffer
	env := map[string]string{"SIGNAL_DATA_DIR": dir, "SIGNAL_GATEWAY_ADDR": "127.0.0.1:0", "SIGNAL_ADMIN_ADDR": "127.0.0.1:0",
		"ENCRYPTION_KEY": strings.Repeat("cd", 32)}
	code := run([]string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "ENCRYPTION_KEY is not the key this database was written with") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"version"}, 0, "signal "},
		{[]string{"help"}, 0, "Usage"},
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"serve", "extra"}, 2, "no arguments"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, func(string) string { return "" }, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.out) {
			t.Errorf("signal %v: exit %d, output %q", tt.args, code, stdout.String()+stderr.String())
		}
	}
}

// orderLoad posts Order Completed events from several goroutines until
// halted, and keeps the message ids the gateway acknowledged with 200.
type orderLoad struct {
	mu    sync.Mutex
	acked []string
	wg    sync.WaitGroup
	stop  chan struct{}
}

func startOrderLoad(n *node, key, prefix string, workers int) *orderLoad {
	l := &orderLoad{stop: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				id := fmt.Sprintf("%s-%d-%d", prefix, w, i)
				req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/t", strings.NewReader(`{"event":"Order Completed","userId":"u`+id+`","messageId":"`+id+`"}`))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone (killed)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					l.mu.Lock()
					l.acked = append(l.acked, id)
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

// ackedIDs is a copy of the ids acknowledged so far.
func (l *orderLoad) ackedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

// halt stops the load and returns every acknowledged id.
func (l *orderLoad) halt() []string {
	close(l.stop)
	l.wg.Wait()
	return l.ackedIDs()
}
