package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAdminFloodKeepsGatewayAlive runs the binary with 512 file
// descriptors and opens 600 slow connections to the admin listener (each
// sends its headers, then trickles a body that never ends): the gateway
// still answers promptly, and the admin listener recovers once the flood
// stops (issue 8, item 2: 19,990 such connections used up the process's
// descriptors and stopped ingestion).
func TestAdminFloodKeepsGatewayAlive(t *testing.T) {
	t.Parallel()
	const (
		nofile = 512
		flood  = 600
	)
	tests := []struct {
		name       string
		request    string
		maxLatency time.Duration
	}{
		{name: "slow bodies", request: "POST /v1/admin/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"email\":", maxLatency: 2 * time.Second},
		{name: "slow headers", request: "GET /v1/admin/me HTTP/1.1\r\nHost: x\r\n", maxLatency: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wrapper := filepath.Join(dir, "signal-limited")
			script := fmt.Sprintf("#!/bin/sh\nulimit -n %d || exit 1\nexec %q \"$@\"\n", nofile, binary)
			if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			n := startBinary(t, wrapper, filepath.Join(dir, "data"))

			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for i := 0; i < flood; i++ {
				c, err := net.DialTimeout("tcp", n.admin, time.Second)
				if err != nil {
					break // the kernel's queue is full: the flood is as big as it gets
				}
				conns = append(conns, c)
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write([]byte(tt.request))
			}
			if len(conns) < nofile {
				t.Fatalf("only %d flood connections opened", len(conns))
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() { // one more byte every 500 ms on each
				for {
					select {
					case <-stop:
						return
					case <-time.After(500 * time.Millisecond):
					}
					for _, c := range conns {
						c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
						c.Write([]byte(" "))
					}
				}
			}()

			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			var worst time.Duration
			for i := 0; i < 20; i++ {
				start := time.Now()
				resp, err := client.Get("http://" + n.gateway + "/healthz")
				took := time.Since(start)
				if err != nil {
					t.Fatalf("gateway request %d during the admin flood (%d connections): %v after %s", i, len(conns), err, took)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("gateway request %d: %d", i, resp.StatusCode)
				}
				worst = max(worst, took)
				time.Sleep(50 * time.Millisecond)
			}
			if worst > tt.maxLatency {
				t.Fatalf("slowest gateway answer during the flood took %s, want at most %s", worst, tt.maxLatency)
			}
			t.Logf("%d admin connections; slowest of 20 gateway answers: %s", len(conns), worst)

			for _, c := range conns {
				c.Close()
			}
			conns = nil
			deadline := time.Now().Add(15 * time.Second)
			for {
				resp, err := client.Get("http://" + n.admin + "/healthz")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("the admin listener did not recover after the flood: %v", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
