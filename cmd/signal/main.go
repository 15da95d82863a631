// Command signal runs Signal: the ingestion gateway, the event processor, the
// delivery engine and the Management API, in one process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "signal serve takes no arguments (configure it with environment variables); got %q\n", args[1:])
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := serve(ctx, getenv, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "signal: %v\n", err)
			return 1
		}
		return 0
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "signal %s\n", version)
		return 0
	case "help", "--help", "-h":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "signal: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: signal <command>

Commands:
  serve     run the gateway (:8080) and the management API (:8084)
  version   print the version

Configuration is by environment variable (see README.md): SIGNAL_DATA_DIR,
DATABASE_URL, SIGNAL_GATEWAY_ADDR, SIGNAL_ADMIN_ADDR, SIGNAL_ADMIN_EMAIL,
SIGNAL_ADMIN_PASSWORD, JWT_SECRET, ENCRYPTION_KEY, SIGNAL_OMNISEND_API_URL,
CORS_ORIGINS, MAX_PAYLOAD_SIZE, MAX_BATCH_SIZE, RATE_LIMIT_RPS,
SIGNAL_TRUSTED_PROXIES.
`)
}
