package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// rssMB reads a process's resident set size from /proc.
func rssMB(t *testing.T, pid int) float64 {
	t.Helper()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/status", pid)); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	mb, err := procStatusMB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// refusedUnread counts a request whose connection the server closed while
// the client was still sending its body.
const refusedUnread = -1

// TestLoginFloodMemoryBounded sends 600 logins with 1 MB made-up emails to
// the running binary (what took RSS to 900 MB, issue 8 item 3): each is
// refused before any work, and the process stays under 200 MB.
func TestLoginFloodMemoryBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		logins   int
		emailLen int
		want     int
	}{
		{name: "1 MB emails", logins: 600, emailLen: 1<<20 - 100, want: http.StatusRequestEntityTooLarge},
		{name: "300-byte emails", logins: 2000, emailLen: 300, want: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := start(t, filepath.Join(t.TempDir(), "data"))
			before := rssMB(t, n.cmd.Process.Pid)
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				codes = map[int]int{}
			)
			work := make(chan int)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						email := strconv.Itoa(i) + strings.Repeat("a", tt.emailLen) + "@example.com"
						body := `{"email":"` + email + `","password":"wrong"}`
						resp, err := http.Post("http://"+n.admin+"/v1/admin/auth/login", "application/json", bytes.NewReader([]byte(body)))
						code := 0
						switch {
						case err == nil:
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							code = resp.StatusCode
						case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
							// The server answered 413 and closed the
							// connection while the client was still
							// sending the megabyte; the client saw the
							// close before the answer (a race a loaded
							// machine wins now and then). Refused
							// unread all the same.
							code = refusedUnread
						}
						mu.Lock()
						codes[code]++
						mu.Unlock()
					}
				}()
			}
			start := time.Now()
			for i := range tt.logins {
				work <- i
			}
			close(work)
			wg.Wait()
			after := rssMB(t, n.cmd.Process.Pid)
			t.Logf("%d logins in %s: answers %v; RSS %.0f MB before, %.0f MB after", tt.logins, time.Since(start).Round(time.Millisecond), codes, before, after)
			if codes[tt.want]+codes[refusedUnread] != tt.logins || codes[refusedUnread] > tt.logins/10 {
				t.Fatalf("answers %v, want %d × %d", codes, tt.logins, tt.want)
			}
			if after > 200 {
				t.Fatalf("RSS %.0f MB after the flood, want under 200 MB", after)
			}
		})
	}
}

// TestPhoneFloodMemoryBounded sends identify calls with distinct 31 KB
// phones (what took RSS to 1.46 GB, issue 8 item 4) to the running binary
// with an integration installed, waits until they are processed, and checks
// the process's RSS: implausible phones are refused before parsing and never
// cached.
func TestPhoneFloodMemoryBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		events, perPost int
		phoneLen        int
		maxRSS          float64
	}{
		{name: "3,000 phones of 31 KB", events: 3000, perPost: 15, phoneLen: 31 << 10, maxRSS: 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := start(t, filepath.Join(t.TempDir(), "data"))
			tok := n.login(t)
			key := n.pipeline(t, tok)
			n.install(t, tok, `{"name":"Omnisend","variant":"default","config":{"api_key":"test-key-0123456789"},"delivery_mode":"server_side"}`)
			before := rssMB(t, n.cmd.Process.Pid)
			start := time.Now()
			for i := 0; i < tt.events; i += tt.perPost {
				var b strings.Builder
				b.WriteString(`{"batch":[`)
				for j := i; j < i+tt.perPost; j++ {
					if j > i {
						b.WriteByte(',')
					}
					phone := strconv.Itoa(j) + strings.Repeat("5", tt.phoneLen-len(strconv.Itoa(j)))
					fmt.Fprintf(&b, `{"type":"identify","userId":"u%d","traits":{"email":"u%d@example.com","phone":"+%s"}}`, j, j, phone)
				}
				b.WriteString(`]}`)
				req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/batch", strings.NewReader(b.String()))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("batch at %d: %d", i, resp.StatusCode)
				}
			}
			eventually(t, "every identify processed", func() bool {
				var out struct {
					Data []map[string]any `json:"data"`
				}
				n.call(t, "GET", "http://"+n.admin+"/v1/admin/live-events?limit=1", tok, "", &out)
				return len(out.Data) == 1 && out.Data[0]["integration_id"] != ""
			})
			peak := rssMB(t, n.cmd.Process.Pid)
			t.Logf("%d identify calls with %d-byte phones in %s: RSS %.0f MB before, %.0f MB after processing", tt.events, tt.phoneLen, time.Since(start).Round(time.Millisecond), before, peak)
			if peak > tt.maxRSS {
				t.Fatalf("RSS %.0f MB, want under %.0f MB", peak, tt.maxRSS)
			}
		})
	}
}

// TestLoginFloodKeepsGatewayFast floods the binary with wrong passwords for
// ever new emails (each costs a bcrypt comparison) from 16 clients while
// the gateway is asked for /healthz: every login is answered 401 (or 503
// with Retry-After once the hashing slots are all busy, never a 5xx of
// another kind) and the gateway answers every request. Password hashing is
// capped at half the CPUs (pinned in internal/admin: TestLoginHashingCapped's
// "every slot busy"), which is what keeps the gateway fast; its latency
// here is logged, not asserted (a timed check fails on a loaded CI machine:
// p50 67 ms once while other tests ran, 1-3 ms on a quiet one). Issue 8
// item 3 measured 362 failed logins in 12 s taking it from 2 ms to 135 ms,
// and without the cap p50 244 ms, max 955 ms.
func TestLoginFloodKeepsGatewayFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		clients int
		measure time.Duration
	}{
		{name: "16 clients", clients: 16, measure: 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := start(t, filepath.Join(t.TempDir(), "data"))
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				next  int
				codes = map[int]int{}
			)
			stop := make(chan struct{})
			for range tt.clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						next++
						email := "x" + strconv.Itoa(next) + "@example.com"
						mu.Unlock()
						resp, err := http.Post("http://"+n.admin+"/v1/admin/auth/login", "application/json",
							strings.NewReader(`{"email":"`+email+`","password":"wrong-password"}`))
						if err != nil {
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						mu.Lock()
						codes[resp.StatusCode]++
						mu.Unlock()
					}
				}()
			}
			defer func() { close(stop); wg.Wait() }()
			time.Sleep(300 * time.Millisecond)
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			var lat []time.Duration
			for end := time.Now().Add(tt.measure); time.Now().Before(end); {
				s := time.Now()
				resp, err := client.Get("http://" + n.gateway + "/healthz")
				if err != nil {
					t.Fatalf("gateway during the login flood: %v", err)
				}
				resp.Body.Close()
				lat = append(lat, time.Since(s))
				time.Sleep(20 * time.Millisecond)
			}
			slices.Sort(lat)
			p50, p90, worst := lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1]
			mu.Lock()
			t.Logf("logins answered %v; gateway /healthz n=%d p50=%s p90=%s max=%s", codes, len(lat), p50, p90, worst)
			mu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			for code := range codes {
				if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable {
					t.Fatalf("logins during the flood answered %v, want only 401 (and 503 when every hashing slot is busy)", codes)
				}
			}
			if codes[http.StatusUnauthorized] == 0 {
				t.Fatalf("no wrong password was answered 401 during the flood: %v", codes)
			}
		})
	}
}
