package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestConnCaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		nofile             uint64
		gateway, admin     int
		fitsUnderTheLimit  bool
		adminBelowGateway  bool
		descriptorsUnknown bool
	}{
		{nofile: 0, gateway: gatewayMaxConns, admin: adminMaxConns},
		{nofile: 1 << 20, gateway: gatewayMaxConns, admin: adminMaxConns},
		{nofile: 20000, gateway: gatewayMaxConns, admin: adminMaxConns},
		{nofile: 1024, gateway: 1024 - reservedFDs - (1024-reservedFDs)/8, admin: (1024 - reservedFDs) / 8},
		{nofile: 512, gateway: 512 - reservedFDs - (512-reservedFDs)/8, admin: (512 - reservedFDs) / 8},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.nofile), func(t *testing.T) {
			t.Parallel()
			gw, admin := connCaps(tt.nofile)
			if gw != tt.gateway || admin != tt.admin {
				t.Fatalf("connCaps(%d) = %d, %d; want %d, %d", tt.nofile, gw, admin, tt.gateway, tt.admin)
			}
			if tt.nofile > 0 && uint64(gw+admin+reservedFDs) > tt.nofile {
				t.Fatalf("caps %d + %d + %d reserved exceed the limit %d", gw, admin, reservedFDs, tt.nofile)
			}
		})
	}
}

func TestLimitListener(t *testing.T) {
	t.Parallel()
	tests := []struct{ limit, dial int }{{limit: 1, dial: 3}, {limit: 3, dial: 5}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			t.Parallel()
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := limitListener(raw, tt.limit)
			defer ln.Close()
			accepted := make(chan net.Conn, tt.dial)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			for range tt.dial {
				c, err := net.Dial("tcp", raw.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
			}
			var open []net.Conn
			for range tt.limit {
				select {
				case c := <-accepted:
					open = append(open, c)
				case <-time.After(5 * time.Second):
					t.Fatalf("accepted %d connections, want %d", len(open), tt.limit)
				}
			}
			select {
			case <-accepted:
				t.Fatalf("accepted more than %d connections", tt.limit)
			case <-time.After(100 * time.Millisecond):
			}
			open[0].Close()
			select {
			case c := <-accepted:
				c.Close()
			case <-time.After(5 * time.Second):
				t.Fatal("a closed connection did not free its place")
			}
			for _, c := range open[1:] {
				c.Close()
			}
		})
	}
}

// TestAdminServerReadDeadline: a request body that trickles in is cut at
// the read deadline; the Live Events stream outlives it.
func TestAdminServerReadDeadline(t *testing.T) {
	t.Parallel()
	const deadline = 300 * time.Millisecond
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/admin/auth/login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body not read in time", http.StatusRequestTimeout)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET "+liveEventsStream, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 10; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(deadline / 3):
			}
			fmt.Fprintf(w, "data: %d\n\n", i)
			http.NewResponseController(w).Flush()
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := adminServer(mux, deadline)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	tests := []struct {
		name  string
		run   func(t *testing.T, c net.Conn) string
		want  string
		atMax time.Duration
	}{
		{name: "a trickling body is cut", atMax: 3 * deadline, want: "", run: func(t *testing.T, c net.Conn) string {
			io.WriteString(c, "POST /v1/admin/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
						if _, err := c.Write([]byte("a")); err != nil {
							return
						}
					}
				}
			}()
			b, _ := io.ReadAll(c) // the server answers or closes
			return string(b)
		}},
		{name: "the stream lasts past the deadline", atMax: 3 * deadline * 3, want: "data: 9", run: func(t *testing.T, c net.Conn) string {
			io.WriteString(c, "GET "+liveEventsStream+" HTTP/1.1\r\nHost: x\r\n\r\n")
			var got []string
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					got = append(got, sc.Text())
					if sc.Text() == "data: 9" {
						break
					}
				}
			}
			return strings.Join(got, ",")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			start := time.Now()
			got := tt.run(t, c)
			took := time.Since(start)
			if tt.want == "" && strings.Contains(got, "200 OK") {
				t.Fatalf("the trickling body was read to the end (%s): %q", took, got)
			}
			if tt.want != "" && !strings.HasSuffix(got, tt.want) {
				t.Fatalf("stream gave %q after %s, want it to reach %q", got, took, tt.want)
			}
			if took > tt.atMax {
				t.Fatalf("took %s, want at most %s", took, tt.atMax)
			}
		})
	}
}
