package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/signalhq/signal/internal/admin"
	"github.com/signalhq/signal/internal/alert"
	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/gateway"
	"github.com/signalhq/signal/internal/metrics"
	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/web"
)

// serve wires every component and runs until ctx is done, then drains:
// the gateway stops taking requests and finishes those in flight, the
// processor and delivery stop, requests to vendors in flight are recorded.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if err := prepareDataDir(cfg); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		// restore refuses a data dir a server holds.
		unlock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	box, signer, err := loadSecrets(cfg)
	if err != nil {
		return err
	}

	var proc *pipeline.Processor
	m := metrics.New()
	// The disk failing under the embedded database stops the server: its
	// writer refuses every write from then on, and a restart recovers from
	// what the disk holds (store/sqlite/diskfail.go).
	diskFailed := make(chan error, 1)
	onDiskFailure := func(err error) {
		select {
		case diskFailed <- err:
		default:
		}
	}
	db, err := openStore(ctx, cfg, box, storeHooks{onAppend: func() { proc.Wake() }, onCommit: m.GroupCommit, onDiskFailure: onDiskFailure})
	if err != nil {
		return err
	}
	defer db.Close()

	if n, err := db.CountUsers(ctx); err == nil && n > 0 && cfg.AdminPassword != "" {
		log.Warn("SIGNAL_ADMIN_PASSWORD is ignored: an admin already exists (change a password with: signal user reset-password --email <email>)")
	}
	generated, err := admin.Bootstrap(ctx, db, admin.BootstrapParams{Email: cfg.AdminEmail, Password: cfg.AdminPassword})
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(stdout, "Created the first admin user.\n  email:    %s\n  password: %s\nThis password is shown once; keep it somewhere safe.\n", cfg.AdminEmail, generated)
	}

	// The processor, the delivery engine and the gateway work through the
	// instrumented store; the API reads the store itself.
	work := m.WrapStore(db, log)
	vendors := newRegistry(cfg.VendorURLs, version)

	dcfg := delivery.DefaultConfig()
	deps := delivery.Deps{Store: work, Vendors: vendors, Hasher: box, Log: log,
		Client: vendorClient(m.Transport(vendorTransport(dcfg), cfg.VendorURLs)), LimiterWaitFunc: m.LimiterWait}
	if cfg.DatabaseURL != "" {
		// Nodes sharing PostgreSQL spend each API key's rate budget
		// together, through the database; one node paces alone.
		deps.Budgets = db
	}
	engine := delivery.New(dcfg, deps)
	pcfg, pdeps := pipeline.Config{}, pipeline.Deps{Store: work, Hasher: box, Vendors: vendors, Notifier: engine, Log: log}
	var appender gateway.EventAppender = work
	if cfg.DatabaseURL == "" {
		// The processor yields to the gateway's appends (see ingest.go).
		ingest := newIngestActivity()
		appender = markingAppender{EventAppender: work, activity: ingest}
		pcfg.Batch, pcfg.BusyBatch, pdeps.Ingest = sqliteBatch, sqliteBusyBatch, ingest
	}
	proc = pipeline.New(pcfg, pdeps)
	// Backfills run on worker nodes; one node at a time holds each.
	bcfg := delivery.DefaultBackfillConfig()
	bcfg.Holder = nodeName()
	backfills := engine.NewBackfills(work, bcfg, proc.Wake)
	if cfg.Role == "all" || cfg.Role == "worker" {
		// Once, before the processor, the engine and the backfills start:
		// a call racing them would free rows one of them already claimed.
		if err := releaseLeasesAtStart(ctx, cfg, db); err != nil {
			return err
		}
	}

	gwCfg := gateway.DefaultConfig()
	gwCfg.MaxPayloadSize, gwCfg.MaxBatchSize, gwCfg.CORSOrigins, gwCfg.RateLimitRPS = cfg.MaxPayload, cfg.MaxBatch, cfg.CORSOrigins, cfg.RateLimitRPS
	gwCfg.TrustedProxies = cfg.Proxies
	gwCfg.ReceivedFunc = m.Received
	gw := gateway.New(gwCfg, appender, db, log, nil)
	api := admin.New(admin.Config{}, admin.Deps{
		Store: db, Signer: signer, Catalog: vendors, Tester: tester{engine: engine, vendors: vendors}, Notifier: engine, Keys: gw, Log: log,
		Hasher: box, RateLimits: engine,
	})

	// A worker takes no events: it does not listen on the gateway's port.
	runsGateway := cfg.Role != "worker"
	var gwLn net.Listener
	gwAddr := "off"
	if runsGateway {
		if gwLn, err = net.Listen("tcp", cfg.GatewayAddr); err != nil {
			return fmt.Errorf("SIGNAL_GATEWAY_ADDR: %w", err)
		}
		gwAddr = gwLn.Addr().String()
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		if gwLn != nil {
			gwLn.Close()
		}
		return fmt.Errorf("SIGNAL_ADMIN_ADDR: %w", err)
	}
	// Separate connection caps: a flood on the admin listener cannot use
	// the descriptors the gateway needs (see listen.go).
	gwConns, adminConns := connCaps(fileLimit())
	adminLn = limitListener(adminLn, adminConns)
	if runsGateway {
		gwLn = limitListener(gwLn, gwConns)
	}
	gwSrv := &http.Server{Handler: opsHandler(m.Gateway(gw, log), db, nil), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	var gwURL, gwPort string
	if gwLn != nil {
		gwURL, gwPort = gatewayURL(gwLn.Addr(), cfg.GatewayAddr), portOf(gwLn.Addr())
	}
	ui := web.New(web.Config{GatewayURL: gwURL, GatewayPort: gwPort}, web.Deps{API: api, Log: log})
	adminH := adminHandler(api, ui)
	if getenv("SIGNAL_PPROF") == "1" {
		adminH = withPprof(adminH)
		log.Warn("profiling endpoints enabled on the admin listener (SIGNAL_PPROF=1)")
	}
	adminSrv := adminServer(opsHandler(adminH, db, m.Handler(cfg.MetricsToken)), adminReadTimeout)

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	goRun := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	if runsGateway {
		goRun("gateway", func() error { return gwSrv.Serve(gwLn) })
	}
	goRun("management API", func() error { return adminSrv.Serve(adminLn) })
	if cfg.Role == "all" || cfg.Role == "worker" {
		goRun("processor", func() error { return proc.Run(workCtx) })
		goRun("delivery", func() error { return engine.Run(workCtx) })
		goRun("backfills", func() error { return backfills.Run(workCtx) })
		goRun("retention", func() error { return retain(workCtx, db, cfg.Retention, time.Minute, 10*time.Minute, log) })
		goRun("alerts", func() error { return alert.New(alert.Config{}, alert.Deps{Store: db, Log: log}).Run(workCtx) })
	}
	goRun("metrics", func() error { return m.RunRefresher(workCtx, db, metrics.RefreshEvery, log) })
	log.Info("signal started", "version", buildVersion(), "role", cfg.Role, "gateway", gwAddr, "admin", adminLn.Addr().String(), "data_dir", cfg.DataDir)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("signal stopping: draining requests in flight")
	case runErr = <-errc:
		log.Error("signal stopping after a failure", "err", runErr)
	case runErr = <-diskFailed:
		log.Error("signal stopping: the disk failed under the database", "err", runErr)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Everything drains at once, so the whole stop stays within 15 s: the
	// delivery engine stops claiming and lets requests in flight finish
	// (at most its drain timeout), while the gateway stops taking events
	// and answers the requests already in flight (each answered only once
	// stored). The store closes last, after every writer has returned.
	stopWork()
	if err := gwSrv.Shutdown(shutCtx); err != nil {
		log.Error("gateway shutdown", "err", err)
	}
	if err := adminSrv.Shutdown(shutCtx); err != nil {
		adminSrv.Close() // live-event streams do not end by themselves
	}
	wg.Wait()
	if runErr == nil {
		// A last pass or claim during the stop may have met the disk's
		// failure: the exit status still says so, for the supervisor.
		select {
		case runErr = <-diskFailed:
			log.Error("signal stopping: the disk failed under the database", "err", runErr)
		default:
		}
	}
	log.Info("signal stopped")
	return runErr
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// vendorTransport is the delivery engine's own transport settings.
func vendorTransport(dcfg delivery.Config) *http.Transport {
	return &http.Transport{
		MaxIdleConnsPerHost: dcfg.MaxInFlight * dcfg.Rounds, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
}

// vendorClient never follows a redirect, as the engine's default client:
// Go would carry the API key (and on 307/308 the contact's data) to
// whatever host it names. No client-wide timeout: each request carries its
// vendor's.
func vendorClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// adminHandler serves the Management API under /v1/admin/ and /healthz on
// the admin listener, and the Management UI at every other path.
func adminHandler(api, ui http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/admin/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/", ui)
	return mux
}

// gatewayURL is the gateway's base URL for the UI's snippets when its listen
// address names a host; empty when it listens on every interface, so the UI
// uses the host the browser asked for instead.
func gatewayURL(addr net.Addr, configured string) string {
	host, _, err := net.SplitHostPort(configured)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return ""
	}
	return "http://" + net.JoinHostPort(host, portOf(addr))
}

func portOf(addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}

// nodeName names this process in backfill leases: host, pid and a random
// part, so two nodes (or a restart under the same pid) never share one.
func nodeName() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// leaseReleaser is the store's ReleaseLeases.
type leaseReleaser interface {
	ReleaseLeases(ctx context.Context) error
}

// releaseLeasesAtStart frees the delivery and backfill leases a crash left,
// once, before the processor, the delivery engine and the backfills start:
// one node owns every lease of the embedded database, so they are freed at
// once; nodes sharing PostgreSQL never call it (it would free rows other
// nodes are sending) and let leases expire instead.
func releaseLeasesAtStart(ctx context.Context, cfg *config, st leaseReleaser) error {
	if cfg.DatabaseURL != "" {
		return nil
	}
	if err := st.ReleaseLeases(ctx); err != nil {
		return fmt.Errorf("release leases at start: %w", err)
	}
	return nil
}
