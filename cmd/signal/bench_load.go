package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load side of signal bench: the generator, the no-op baseline and the
// process measurements.

// loadResult is one load phase: requests answered, wall time and the CPU
// time the server process used meanwhile.
type loadResult struct {
	n    int64
	wall time.Duration
	cpu  float64
}

func (r loadResult) rate() float64   { return float64(r.n) / r.wall.Seconds() }
func (r loadResult) perCPU() float64 { return float64(r.n) / max(r.cpu, 0.001) }

// startNoop runs `signal bench-noop` (this executable) and reads its
// address: a separate process, so its CPU time is its own, as the server's.
func startNoop(ctx context.Context) (string, int, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench-noop")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("no-op server: %w", err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid, stop, nil
}

// benchNoop is `signal bench-noop`: the no-op handler signal bench measures
// beside the server. It prints its address and serves until killed.
func benchNoop(stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "signal bench-noop: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, ln.Addr().String())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success":true}`))
	}))
	fmt.Fprintf(stderr, "signal bench-noop: %v\n", err)
	return 1
}

// cpuSeconds is the user + system CPU time of process pid so far, from
// /proc (0 where there is none).
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which ends at the last ')': state is
	// field 3, utime 14 and stime 15, in clock ticks (100 a second).
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// peakMB is a process's peak resident set (VmHWM) in MB, 0 if unknown.
func peakMB(pid int) float64 {
	mb, _ := procStatusMB(pid, "VmHWM")
	return mb
}

// procStatusMB reads a memory field ("VmRSS", "VmHWM") of a process's
// /proc status, in MB.
func procStatusMB(pid int, field string) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// load posts bodies from b.clients goroutines for b.dur and returns the
// rate and count of answered requests; any answer but 200 stops the run.
// With a profile directory it also takes a CPU profile of the server named
// after the phase.
func (b *bench) load(ctx context.Context, target string, body func([]byte) []byte, phase string, pid int) (loadResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		n        atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	if b.profDir != "" && phase != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.profile(ctx, phase); err != nil {
				fail(err)
			}
		}()
	}
	cpu0 := cpuSeconds(pid)
	start := time.Now()
	end := start.Add(b.dur)
	for range b.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for time.Now().Before(end) && ctx.Err() == nil {
				buf = body(buf[:0])
				req, _ := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(buf))
				req.Header.Set("Authorization", "Bearer "+b.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := b.client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("POST %s: %d", target, resp.StatusCode))
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	return loadResult{n: n.Load(), wall: time.Since(start), cpu: cpuSeconds(pid) - cpu0}, nil
}

func (b *bench) profile(ctx context.Context, phase string) error {
	secs := max(1, int(b.dur.Seconds())-1)
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.admin, secs), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("profile: %d (is SIGNAL_PPROF supported by %s?)", resp.StatusCode, b.bin)
	}
	f, err := os.Create(filepath.Join(b.profDir, "cpu-"+phase+".pprof"))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadAvg is /proc/loadavg's first three fields ("?" where there is none).
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
