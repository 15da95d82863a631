package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signalhq/signal/internal/crypt"
)

// benchCommand is `signal bench`: the whole binary under load, as users see
// it. It starts `signal serve` (this executable, or -bin) on a fresh data
// dir with a pipeline and an Omnisend integration in dry-run mode (built,
// never sent), drives it over loopback with a Go load generator (-clients
// keep-alive connections, a distinct anonymous visitor per event), and
// measures a no-op Go handler with the same generator in the same run. Lag
// is measured with a sentinel event sent after the load: the log is
// processed in order, so when the sentinel's Live Events row stops being
// pending, everything before it was processed.
func benchCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "", "signal binary to measure (default: this executable)")
	dur := fs.Duration("duration", 10*time.Second, "length of each load phase")
	clients := fs.Int("clients", 64, "concurrent keep-alive connections")
	drain := fs.Duration("drain-timeout", 3*time.Minute, "longest wait for the processor to reach a sentinel")
	profDir := fs.String("pprof", "", "directory for CPU profiles of the server during each phase (sets SIGNAL_PPROF=1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "signal bench: %v\n", err)
			return 1
		}
		*bin = exe
	}
	b := &bench{bin: *bin, dur: *dur, clients: *clients, drain: *drain, profDir: *profDir, out: stdout}
	if err := b.run(context.Background()); err != nil {
		fmt.Fprintf(stderr, "signal bench: %v\n", err)
		return 1
	}
	return 0
}

type bench struct {
	bin       string
	dur       time.Duration
	clients   int
	drain     time.Duration
	profDir   string
	out       io.Writer
	gateway   string // host:port
	admin     string
	token     string
	key       string // pipeline key
	client    *http.Client
	pid       int // the server's
	visitor   atomic.Int64
	sentinels int
}

// productViewed is the event the gateway benchmark posts (a Datafly.js
// Product Viewed, 560 bytes) with its ids cut out: each request names a new
// anonymous visitor and no user, as page views from a busy store do.
const productViewed = `"event":"Product Viewed","properties":{"product_id":"SKU-1","name":"Wool Scarf","price":39.95,"currency":"GBP",` +
	`"url":"https://shop.example.com/p/sku-1"},"context":{"page":{"url":"https://shop.example.com/p/sku-1","title":"Wool Scarf"},` +
	`"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","locale":"en-GB","consent":{"canonical":{"marketing":true}}}}`

func (b *bench) event(buf []byte, typed bool) []byte {
	buf = append(buf, `{`...)
	if typed {
		buf = append(buf, `"type":"track",`...)
	}
	buf = append(buf, `"anonymousId":"bench-visitor-`...)
	buf = strconv.AppendInt(buf, b.visitor.Add(1), 10)
	buf = append(buf, `",`...)
	return append(buf, productViewed...)
}

func (b *bench) single(buf []byte) []byte { return b.event(buf, false) }

func (b *bench) batch(buf []byte) []byte {
	buf = append(buf, `{"batch":[`...)
	for i := range 20 {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = b.event(buf, true)
	}
	return append(buf, `]}`...)
}

func (b *bench) run(ctx context.Context) error {
	b.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: b.clients, MaxConnsPerHost: b.clients}, Timeout: 30 * time.Second}
	fmt.Fprintf(b.out, "signal bench: %s, %d clients, %s a phase; load average at start: %s\n", b.bin, b.clients, b.dur, loadAvg())

	noopAddr, noopPID, stopNoop, err := startNoop(ctx)
	if err != nil {
		return err
	}
	defer stopNoop()
	stop, err := b.start(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := b.setup(ctx); err != nil {
		return err
	}

	// The no-op is measured before and after the server's phases: on a
	// shared machine the load changes within a run, and the two bracket it.
	noop1, err := b.load(ctx, "http://"+noopAddr+"/v1/t", b.single, "", noopPID)
	if err != nil {
		return err
	}
	single, err := b.load(ctx, "http://"+b.gateway+"/v1/t", b.single, "single", b.pid)
	if err != nil {
		return err
	}
	lag, err := b.sentinel(ctx)
	if err != nil {
		return err
	}
	before, err := b.processed(ctx)
	if err != nil {
		return err
	}
	batchStart := time.Now()
	batch, err := b.load(ctx, "http://"+b.gateway+"/v1/batch", b.batch, "batch", b.pid)
	if err != nil {
		return err
	}
	during, err := b.processed(ctx)
	if err != nil {
		return err
	}
	drainCPU := cpuSeconds(b.pid)
	// The drain's profile covers its first phase's length (the processor
	// alone), or less if the drain ends first.
	drainProf := make(chan error, 1)
	if b.profDir != "" {
		go func() { drainProf <- b.profile(ctx, "drain") }()
	} else {
		drainProf <- nil
	}
	batchLag, err := b.sentinel(ctx)
	if err != nil {
		return err
	}
	total := time.Since(batchStart)
	drainCPU = cpuSeconds(b.pid) - drainCPU
	if err := <-drainProf; err != nil {
		return err
	}
	noop2, err := b.load(ctx, "http://"+noopAddr+"/v1/t", b.single, "", noopPID)
	if err != nil {
		return err
	}

	noopRate, noopPerCPU := (noop1.rate()+noop2.rate())/2, (noop1.perCPU()+noop2.perCPU())/2
	batchEvents := 20 * batch.n
	w := b.out
	fmt.Fprintf(w, "\nno-op handler: %.0f then %.0f req/s (%.0f, %.0f per CPU-second of its process)\n\n",
		noop1.rate(), noop2.rate(), noop1.perCPU(), noop2.perCPU())
	fmt.Fprintf(w, "| measure | result | against the no-op | per server CPU-second, against the no-op's | target |\n|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| single `POST /v1/t` | %.0f req/s | %.2f | %.0f, %.2f | ≥ 0.25 |\n",
		single.rate(), single.rate()/noopRate, single.perCPU(), single.perCPU()/noopPerCPU)
	fmt.Fprintf(w, "| processor lag after the single run | %.2f s | | | < 5 s |\n", lag.Seconds())
	fmt.Fprintf(w, "| batches of 20, `POST /v1/batch` | %.0f events/s | %.2f | %.0f, %.2f | ≥ 100,000 events/s |\n",
		20*batch.rate(), 20*batch.rate()/noopRate, 20*batch.perCPU(), 20*batch.perCPU()/noopPerCPU)
	fmt.Fprintf(w, "| processing over the batch run + drain | %.0f events/s (%d events in %.1f s, drain %.1f s) | | | ≥ 25,000 events/s |\n",
		float64(batchEvents)/total.Seconds(), batchEvents, total.Seconds(), batchLag.Seconds())
	// The drain alone is the processor's own rate: the gateway is idle.
	backlog := batchEvents - (during - before)
	fmt.Fprintf(w, "| processing during the drain alone | %.0f events/s (%d left when the load stopped) | | %.0f | |\n",
		float64(backlog)/batchLag.Seconds(), backlog, float64(backlog)/max(drainCPU, 0.001))
	fmt.Fprintf(w, "\nserver's peak resident memory: %.0f MB\n", peakMB(b.pid))
	fmt.Fprintf(w, "load average at end: %s\n", loadAvg())
	return nil
}

// start runs the server and waits for its "signal started" line.
func (b *bench) start(ctx context.Context) (func(), error) {
	dir, err := os.MkdirTemp("", "signal-bench-")
	if err != nil {
		return nil, err
	}
	key, err := crypt.NewKey()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, b.bin, "serve")
	cmd.Env = append(os.Environ(), "SIGNAL_DATA_DIR="+dir, "SIGNAL_GATEWAY_ADDR=127.0.0.1:0", "SIGNAL_ADMIN_ADDR=127.0.0.1:0",
		"SIGNAL_ADMIN_EMAIL=bench@localhost", "SIGNAL_ADMIN_PASSWORD=bench-password", "JWT_SECRET="+strings.Repeat("b", 40),
		"ENCRYPTION_KEY="+key, "RATE_LIMIT_RPS=0", "SIGNAL_OMNISEND_API_URL=http://127.0.0.1:1")
	if b.profDir != "" {
		cmd.Env = append(cmd.Env, "SIGNAL_PPROF=1")
	}
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b.pid = cmd.Process.Pid
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	}
	started := regexp.MustCompile(`"?msg"?[=:]"signal started".*?gateway"?[=:]"?([0-9.:]+)"?.*?admin"?[=:]"?([0-9.:]+)`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := started.FindStringSubmatch(logs.String()); m != nil {
			b.gateway, b.admin = m[1], m[2]
			return stop, nil
		}
		if cmd.ProcessState != nil {
			break
		}
	}
	stop()
	return nil, fmt.Errorf("signal serve did not start: %s", logs.String())
}

// setup logs in, creates a pipeline and installs Omnisend in dry-run mode.
func (b *bench) setup(ctx context.Context) error {
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := b.adminCall(ctx, "POST", "/v1/admin/auth/login", `{"email":"bench@localhost","password":"bench-password"}`, &pair); err != nil {
		return err
	}
	b.token = pair.AccessToken
	var p struct {
		Key string `json:"pipeline_key"`
	}
	if err := b.adminCall(ctx, "POST", "/v1/admin/pipelines", `{"name":"bench"}`, &p); err != nil {
		return err
	}
	b.key = p.Key
	return b.adminCall(ctx, "POST", "/v1/admin/integration-catalog/omnisend/install",
		`{"name":"Omnisend","variant":"default","config":{"api_key":"bench-dry-run-key","dry_run":true},"delivery_mode":"server_side"}`, nil)
}

func (b *bench) adminCall(ctx context.Context, method, path, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+b.admin+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// processed is how far the processor has read the event log: the
// signal_processor_cursor gauge of GET /metrics, which each pass sets (the
// log's seqs count its events one by one, so two readings' difference is
// the events processed between them). Live Events' counts, read here
// before, cover only the newest 10,000 rows.
func (b *bench) processed(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+b.admin+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "signal_processor_cursor "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("GET /metrics: signal_processor_cursor %q: %w", v, err)
			}
			return int64(f), nil
		}
	}
	return 0, errors.New("GET /metrics: no signal_processor_cursor")
}

// sentinel sends one event after the load and returns how long its Live
// Events row took to leave pending.
func (b *bench) sentinel(ctx context.Context) (time.Duration, error) {
	b.sentinels++
	user := fmt.Sprintf("bench-sentinel-%d-%d", time.Now().UnixNano(), b.sentinels)
	body := `{"userId":"` + user + `",` + productViewed
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+b.gateway+"/v1/t", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sentinel: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("sentinel: %d", resp.StatusCode)
	}
	sent := time.Now()
	for time.Since(sent) < b.drain {
		var page struct {
			Data []struct {
				Status string `json:"status"`
			} `json:"data"`
		}
		if err := b.adminCall(ctx, "GET", "/v1/admin/live-events?q="+url.QueryEscape(user), "", &page); err != nil {
			return 0, err
		}
		for _, r := range page.Data {
			if r.Status != "pending" {
				return time.Since(sent), nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return 0, fmt.Errorf("sentinel not processed within %s", b.drain)
}
