// Command signal runs Signal: the ingestion gateway, the event processor, the
// delivery engine and the Management API, in one process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	ossignal "os/signal"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		tuneGC(os.Getenv)
	}
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runWithInput(args, getenv, os.Stdin, stdout, stderr)
}

func runWithInput(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("signal serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		role := fs.String("role", "", "all, gateway or worker (overrides SIGNAL_ROLE)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "signal serve takes no arguments but --role (configure it with environment variables); got %q\n", fs.Args())
			return 2
		}
		if *role != "" {
			getenv = withEnv(getenv, "SIGNAL_ROLE", *role)
		}
		ctx, stop := ossignal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := serve(ctx, getenv, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "signal: %v\n", err)
			return 1
		}
		return 0
	case "migrate", "check", "user", "backup", "restore", "healthcheck":
		ctx, stop := ossignal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		var err error
		switch args[0] {
		case "migrate":
			err = migrateCommand(ctx, getenv, stdout)
		case "check":
			err = checkCommand(ctx, getenv, stdout)
		case "user":
			err = userCommand(ctx, args[1:], getenv, stdin, stdout)
		case "backup":
			err = backupCommand(ctx, args[1:], getenv, stdout)
		case "restore":
			err = restoreCommand(ctx, args[1:], getenv, stdout)
		case "healthcheck":
			err = healthcheckCommand(ctx, getenv)
		}
		if err != nil {
			fmt.Fprintf(stderr, "signal %s: %v\n", args[0], err)
			return 1
		}
		return 0
	case "bench":
		return benchCommand(args[1:], stdout, stderr)
	case "bench-noop": // signal bench's baseline, run as its own process
		return benchNoop(stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprint(stdout, versionText())
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
  serve [--role=all|gateway|worker]
              run the gateway (:8080) and/or the processor and delivery, with
              the management API, /metrics, /healthz and /readyz (:8084)
  migrate     apply the database migrations and exit
  check       check the configuration and that the store answers, then exit
  user create|reset-password --email <email> [--role admin] --password-stdin
              add a user or set a password (a way back in for a locked-out admin)
  backup <file>
              copy the embedded database while it serves (PostgreSQL: pg_dump)
  restore [--force] <file>
              put a backup in place (the server stopped; same ENCRYPTION_KEY)
  healthcheck exit 0 when this machine's admin listener says /readyz
              (the container's health check)
  bench       measure this binary under load next to a no-op handler
              (docs/benchmarks.md; signal bench -h for its flags)
  version     print the version and the commit it was built from
  help        this text

Configuration is by environment variable:

`)
	printSettings(w)
}

// withEnv overrides one variable of getenv.
func withEnv(getenv func(string) string, name, value string) func(string) string {
	return func(k string) string {
		if k == name {
			return value
		}
		return getenv(k)
	}
}
