package main

import (
	"context"
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
	"github.com/signalhq/signal/internal/crypt"
	"github.com/signalhq/signal/internal/delivery"
	"github.com/signalhq/signal/internal/gateway"
	"github.com/signalhq/signal/internal/pipeline"
	"github.com/signalhq/signal/internal/store"
	"github.com/signalhq/signal/internal/store/postgres"
	"github.com/signalhq/signal/internal/store/sqlite"
	"github.com/signalhq/signal/internal/token"
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("SIGNAL_DATA_DIR: %w", err)
	}
	// MkdirAll leaves an existing dir as it was: tighten it, it holds the
	// keys and personal data.
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("SIGNAL_DATA_DIR: %w", err)
	}
	encKey, err := secret(cfg.DataDir, "encryption.key", cfg.EncryptionKey, crypt.NewKey)
	if err != nil {
		return err
	}
	key, err := crypt.ParseKey(encKey)
	if err != nil {
		return fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	box, err := crypt.NewBox(key)
	if err != nil {
		return err
	}
	jwtSecret, err := secret(cfg.DataDir, "jwt.secret", cfg.JWTSecret, crypt.NewKey)
	if err != nil {
		return err
	}
	signer, err := token.NewSigner([]byte(jwtSecret), nil)
	if err != nil {
		return fmt.Errorf("JWT_SECRET: %w", err)
	}

	var proc *pipeline.Processor
	onAppend := func() { proc.Wake() }
	var db store.Store
	if cfg.DatabaseURL != "" {
		db, err = postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, Cipher: box, OnAppend: onAppend})
		if err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err)
		}
	} else {
		db, err = sqlite.Open(ctx, sqlite.Options{Path: cfg.DataDir + "/signal.db", Cipher: box, OnAppend: onAppend})
		if err != nil {
			return fmt.Errorf("open the database in %s: %w", cfg.DataDir, err)
		}
	}
	defer db.Close()

	generated, err := admin.Bootstrap(ctx, db, admin.BootstrapParams{Email: cfg.AdminEmail, Password: cfg.AdminPassword})
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(stdout, "Created the first admin user.\n  email:    %s\n  password: %s\nThis password is shown once; keep it somewhere safe.\n", cfg.AdminEmail, generated)
	}

	vendors := newRegistry(cfg.VendorURLs, version)

	dcfg := delivery.DefaultConfig()
	// One node owns every lease of the embedded database, so leases left by
	// a crash are freed at once; nodes sharing PostgreSQL let them expire.
	dcfg.ReleaseLeasesAtStart = cfg.DatabaseURL == ""
	engine := delivery.New(dcfg, delivery.Deps{Store: db, Vendors: vendors, Hasher: box, Log: log})
	proc = pipeline.New(pipeline.Config{}, pipeline.Deps{Store: db, Hasher: box, Vendors: vendors, Notifier: engine, Log: log})

	gwCfg := gateway.DefaultConfig()
	gwCfg.MaxPayloadSize, gwCfg.MaxBatchSize, gwCfg.CORSOrigins, gwCfg.RateLimitRPS = cfg.MaxPayload, cfg.MaxBatch, cfg.CORSOrigins, cfg.RateLimitRPS
	gwCfg.TrustedProxies = cfg.Proxies
	gw := gateway.New(gwCfg, db, db, log, nil)
	api := admin.New(admin.Config{}, admin.Deps{
		Store: db, Signer: signer, Catalog: vendors, Tester: tester{engine: engine, vendors: vendors}, Notifier: engine, Keys: gw, Log: log,
		Hasher: box, RateLimits: engine,
	})

	gwLn, err := net.Listen("tcp", cfg.GatewayAddr)
	if err != nil {
		return fmt.Errorf("SIGNAL_GATEWAY_ADDR: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		gwLn.Close()
		return fmt.Errorf("SIGNAL_ADMIN_ADDR: %w", err)
	}
	// Separate connection caps: a flood on the admin listener cannot use
	// the descriptors the gateway needs (see listen.go).
	gwConns, adminConns := connCaps(fileLimit())
	gwLn, adminLn = limitListener(gwLn, gwConns), limitListener(adminLn, adminConns)
	gwSrv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	ui := web.New(web.Config{GatewayURL: gatewayURL(gwLn.Addr(), cfg.GatewayAddr), GatewayPort: portOf(gwLn.Addr())}, web.Deps{API: api, Log: log})
	adminH := adminHandler(api, ui)
	if getenv("SIGNAL_PPROF") == "1" {
		adminH = withPprof(adminH)
		log.Warn("profiling endpoints enabled on the admin listener (SIGNAL_PPROF=1)")
	}
	adminSrv := adminServer(adminH, adminReadTimeout)

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	goRun := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goRun("gateway", func() error { return gwSrv.Serve(gwLn) })
	goRun("management API", func() error { return adminSrv.Serve(adminLn) })
	goRun("processor", func() error { return proc.Run(workCtx) })
	goRun("delivery", func() error { return engine.Run(workCtx) })
	goRun("retention", func() error { return retain(workCtx, db, cfg.Retention, time.Minute, 10*time.Minute, log) })
	goRun("alerts", func() error { return alert.New(alert.Config{}, alert.Deps{Store: db, Log: log}).Run(workCtx) })
	log.Info("signal started", "version", version, "gateway", gwLn.Addr().String(), "admin", adminLn.Addr().String(), "data_dir", cfg.DataDir)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("signal stopping: draining requests in flight")
	case runErr = <-errc:
		log.Error("signal stopping after a failure", "err", runErr)
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
