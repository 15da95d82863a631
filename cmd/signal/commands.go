package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/signalhq/signal/internal/admin"
	"github.com/signalhq/signal/internal/signal"
	"github.com/signalhq/signal/internal/store"
)

// buildVersion is the version set at build time, else the module's
// version from the build info ("dev" for a plain go build).
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// versionText is `signal version`: the version, the commit it was built
// from (with "-dirty" for uncommitted changes) and the Go version.
func versionText() string {
	commit, when, dirty := "unknown", "", false
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if dirty {
		commit += "-dirty"
	}
	out := fmt.Sprintf("signal %s\ncommit %s\n", buildVersion(), commit)
	if when != "" {
		out += "built from a commit of " + when + "\n"
	}
	return out + "go " + goVersion + "\n"
}

// printSettings writes the settings table (`signal help`).
func printSettings(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.name, def, s.meaning)
	}
	tw.Flush()
}

// migrateCommand applies the migrations and exits.
func migrateCommand(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, db, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", storeName(cfg))
	return nil
}

// checkCommand checks the configuration and that the store answers.
func checkCommand(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, db, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Cursor(ctx, store.CursorParams{Name: store.ProcessorCursor}); err != nil {
		return fmt.Errorf("the store does not answer: %w", err)
	}
	n, err := db.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("the store does not answer: %w", err)
	}
	fmt.Fprintf(stdout, "ok: configuration valid, %s reachable and migrated, %d user(s), role %s\n", storeName(cfg), n, cfg.Role)
	return nil
}

func storeName(cfg *config) string {
	if cfg.DatabaseURL != "" {
		return "PostgreSQL"
	}
	return "the embedded database in " + cfg.DataDir
}

// openForCommand loads the configuration and opens the store (applying
// migrations) for a one-shot command.
func openForCommand(ctx context.Context, getenv func(string) string) (*config, store.Store, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, nil, err
	}
	if err := prepareDataDir(cfg); err != nil {
		return nil, nil, err
	}
	box, _, err := loadSecrets(cfg)
	if err != nil {
		return nil, nil, err
	}
	db, err := openStore(ctx, cfg, box, storeHooks{})
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

// userCommand is `signal user create|reset-password`: a way back in for a
// locked-out admin, on the machine that holds the data.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "reset-password") {
		return fmt.Errorf("usage: signal user create|reset-password --email <email> [--role admin|editor|viewer] [--password <p> | --password-stdin]")
	}
	fs := flag.NewFlagSet("signal user "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "the user's email")
	role := fs.String("role", signal.RoleAdmin, "admin, editor or viewer (create)")
	password := fs.String("password", "", "the new password (visible in the process list: prefer --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("signal user %s: %w", args[0], err)
	}
	*email = strings.ToLower(strings.TrimSpace(*email))
	if !strings.Contains(*email, "@") {
		return fmt.Errorf("--email: %q is not an email address", *email)
	}
	switch *role {
	case signal.RoleAdmin, signal.RoleEditor, signal.RoleViewer:
	default:
		return fmt.Errorf("--role must be admin, editor or viewer")
	}
	pw := *password
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("--password-stdin: no password on stdin")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return fmt.Errorf("give the password with --password-stdin (or --password)")
	}
	if err := strongPassword(pw, *email); err != nil {
		return err
	}
	hash, err := admin.HashPassword(pw, 0)
	if err != nil {
		return err
	}
	_, db, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	existing, err := db.GetUser(ctx, store.GetUserParams{Email: *email})
	if err != nil && signal.ErrorCode(err) != signal.ENOTFOUND {
		return err
	}
	if args[0] == "create" {
		if existing != nil {
			return fmt.Errorf("a user %s already exists: use signal user reset-password", *email)
		}
		u := &signal.User{ID: newUserID(), Email: *email, PasswordHash: hash, Role: *role, CreatedAt: time.Now().UTC()}
		if err := db.CreateUser(ctx, store.CreateUserParams{User: u}); err != nil {
			return fmt.Errorf("create the user: %w", err)
		}
		fmt.Fprintf(stdout, "created user %s (%s, role %s)\n", u.Email, u.ID, u.Role)
		return nil
	}
	if existing == nil {
		return fmt.Errorf("no user %s (signal user create adds one)", *email)
	}
	if _, err := db.UpdateUser(ctx, store.UpdateUserParams{ID: existing.ID, PasswordHash: &hash}); err != nil {
		return fmt.Errorf("set the password: %w", err)
	}
	fmt.Fprintf(stdout, "password of %s reset\n", existing.Email)
	return nil
}

// strongPassword refuses passwords a guesser would try early: short ones,
// ones of a single kind of character, and ones built on the email.
func strongPassword(pw, email string) error {
	if len(pw) < 12 {
		return fmt.Errorf("password refused: use at least 12 characters")
	}
	if len(pw) > 72 {
		return fmt.Errorf("password refused: at most 72 bytes")
	}
	var kinds [4]bool
	distinct := map[rune]bool{}
	for _, c := range pw {
		distinct[c] = true
		switch {
		case unicode.IsLower(c):
			kinds[0] = true
		case unicode.IsUpper(c):
			kinds[1] = true
		case unicode.IsDigit(c):
			kinds[2] = true
		default:
			kinds[3] = true
		}
	}
	n := 0
	for _, k := range kinds {
		if k {
			n++
		}
	}
	if n < 2 || len(distinct) < 6 {
		return fmt.Errorf("password refused: mix at least two kinds of characters (letters, digits, symbols) with few repeats")
	}
	lower := strings.ToLower(pw)
	if local, _, _ := strings.Cut(email, "@"); len(local) >= 3 && strings.Contains(lower, local) {
		return fmt.Errorf("password refused: it contains the email's name")
	}
	for _, common := range []string{"password", "123456", "qwerty", "letmein", "signal", "admin"} {
		if strings.Contains(lower, common) {
			return fmt.Errorf("password refused: it contains %q, among the first words guessed", common)
		}
	}
	return nil
}

func newUserID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return "usr_" + string(b)
}

// healthcheckCommand asks this machine's admin listener for /readyz: the
// container's HEALTHCHECK (the image has no curl).
func healthcheckCommand(ctx context.Context, getenv func(string) string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.AdminAddr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening on every address
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: /readyz answered %d", resp.StatusCode)
	}
	return nil
}
