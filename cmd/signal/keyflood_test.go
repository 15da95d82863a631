package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMadeUpKeyFloodKeepsMemoryBounded floods the running binary with
// requests carrying large made-up pipeline keys (Bearer, Basic user name,
// writeKey in the body) and checks that its resident memory stays under
// 200 MB: a key that cannot be a pipeline key is refused before any lookup
// or caching, so none of them is kept.
func TestMadeUpKeyFloodKeepsMemoryBounded(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	huge := func(i, size int) string {
		// Distinct keys, so that a cache keyed by them would keep each.
		return "dk_live_" + strconv.Itoa(i) + strings.Repeat("k", size)
	}
	tests := []struct {
		name string
		req  func(i int) *http.Request
	}{
		{"bearer", func(i int) *http.Request {
			req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/t", strings.NewReader(`{"event":"A","userId":"u"}`))
			req.Header.Set("Authorization", "Bearer "+huge(i, 1000<<10))
			return req
		}},
		{"basic", func(i int) *http.Request {
			req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/track", strings.NewReader(`{"event":"A","userId":"u"}`))
			// Base64 grows the credentials by 4/3: stay under the 1 MB header limit.
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(huge(i, 700<<10)+":")))
			return req
		}},
		{"writeKey", func(i int) *http.Request {
			body := `{"writeKey":"` + huge(i, 500<<10) + `","batch":[{"type":"track","event":"A","userId":"u"}]}`
			req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/batch", strings.NewReader(body))
			return req
		}},
	}
	const perKind, workers = 150, 8
	client := &http.Client{Timeout: 20 * time.Second}
	for _, tc := range tests {
		jobs := make(chan int)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			status = map[int]int{}
		)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					resp, err := client.Do(tc.req(i))
					if err != nil {
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					status[resp.StatusCode]++
					mu.Unlock()
				}
			}()
		}
		for i := 0; i < perKind; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		if status[http.StatusUnauthorized] != perKind {
			t.Errorf("%s: answers %v, want %d × 401", tc.name, status, perKind)
		}
	}
	if rss := residentMB(t, n.cmd.Process.Pid); rss > 200 {
		t.Fatalf("after %d requests with made-up keys of up to 1 MB, RSS is %.0f MB; want under 200 MB", 3*perKind, rss)
	} else {
		t.Logf("RSS after the flood: %.0f MB", rss)
	}
}

// residentMB reads a process's resident set (VmRSS) in MB.
func residentMB(t *testing.T, pid int) float64 {
	t.Helper()
	mb, err := procStatusMB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// TestAbortedBodiesLogNoErrors: clients that send half a body and hang up
// cause no error-level log line, however many they are.
func TestAbortedBodiesLogNoErrors(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	key := n.pipeline(t, n.login(t))
	for i := 0; i < 100; i++ {
		conn, err := net.Dial("tcp", n.gateway)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1/t HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n{\"event\":\"A\",", key)
		conn.Close()
	}
	// A complete request afterwards: the aborted ones have been handled.
	req, _ := http.NewRequest("POST", "http://"+n.gateway+"/v1/t", strings.NewReader(`{"event":"A","userId":"u"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("request after the aborted ones: %v %v", resp, err)
	}
	resp.Body.Close()
	time.Sleep(200 * time.Millisecond)
	logs := n.stderr.String()
	if strings.Contains(logs, "level=ERROR") {
		t.Fatalf("aborted bodies logged at error level:\n%s", logs)
	}
	if c := strings.Count(logs, "incomplete request bodies"); c > 2 {
		t.Fatalf("100 aborted bodies logged %d lines; want them rate-limited", c)
	}
}
