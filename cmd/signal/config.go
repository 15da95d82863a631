package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/signalhq/signal/internal/gateway"
)

// config is what the environment says, checked.
type config struct {
	DataDir       string
	DatabaseURL   string
	GatewayAddr   string
	AdminAddr     string
	AdminEmail    string
	AdminPassword string
	JWTSecret     string
	EncryptionKey string
	// VendorURLs are the vendors' API base URLs by catalog key
	// (SIGNAL_<KEY>_API_URL, see vendorSpecs).
	VendorURLs   map[string]string
	CORSOrigins  []string
	MaxPayload   int64
	MaxBatch     int
	RateLimitRPS float64
	Proxies      []netip.Prefix
	Retention    time.Duration
	LogFormat    string
	LogLevel     string
	// Role is what serve runs: all, gateway or worker.
	Role         string
	MetricsToken string
}

// setting is one environment variable: its default and meaning. The table
// is what loadConfig reads defaults from and what `signal help` prints.
type setting struct {
	name, def, meaning string
}

var settings = []setting{
	{"SIGNAL_DATA_DIR", "./data", "embedded database and generated secrets"},
	{"DATABASE_URL", "", "postgres://… : use PostgreSQL instead, so several nodes share the work"},
	{"SIGNAL_ROLE", "all", "what serve runs: all, gateway (ingestion) or worker (processor and delivery); gateway and worker need DATABASE_URL"},
	{"SIGNAL_GATEWAY_ADDR", ":8080", "ingestion gateway listen address"},
	{"SIGNAL_ADMIN_ADDR", ":8084", "management API, UI, /metrics, /healthz, /readyz"},
	{"SIGNAL_ADMIN_EMAIL", "admin@localhost", "first admin, created when no user exists"},
	{"SIGNAL_ADMIN_PASSWORD", "(generated, printed once)", "first admin's password; ignored (with a warning) once an admin exists"},
	{"JWT_SECRET", "(generated into the data dir)", "signs admin tokens; required, shared by all nodes, with DATABASE_URL"},
	{"ENCRYPTION_KEY", "(generated into the data dir)", "seals keys and personal data at rest; required, shared by all nodes, with DATABASE_URL"},
	{"SIGNAL_OMNISEND_API_URL", "https://api.omnisend.com", "Omnisend API base URL"},
	{"SIGNAL_KLAVIYO_API_URL", "https://a.klaviyo.com", "Klaviyo API base URL"},
	{"CORS_ORIGINS", "*", "comma-separated origins allowed to send events from a browser"},
	{"MAX_PAYLOAD_SIZE", "524288", "largest request body in bytes, after decompression"},
	{"MAX_BATCH_SIZE", "500", "most messages in one batch"},
	{"RATE_LIMIT_RPS", "1000", "requests per second per pipeline at the gateway (0 off)"},
	{"SIGNAL_TRUSTED_PROXIES", gateway.DefaultTrustedProxies, "peers whose X-Forwarded-For names the client (IPs and CIDRs, or none)"},
	{"SIGNAL_RETENTION_DAYS", "30", "events older than this are deleted (0 keeps them)"},
	{"SIGNAL_METRICS_TOKEN", "", "when set, GET /metrics needs Authorization: Bearer <token>"},
	{"SIGNAL_LOG_FORMAT", "text", "text or json"},
	{"SIGNAL_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SIGNAL_PPROF", "", "1 serves /debug/pprof on the admin listener"},
}

// settingDefault is the table's default of a variable ("" when it has
// none to apply: a generated value is made elsewhere).
func settingDefault(name string) string {
	for _, s := range settings {
		if s.name == name {
			if strings.HasPrefix(s.def, "(") {
				return ""
			}
			return s.def
		}
	}
	panic("config: " + name + " is not in the settings table")
}

// loadConfig reads the environment; every bad value is named in the error.
func loadConfig(getenv func(string) string) (*config, error) {
	get := func(k string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return settingDefault(k)
	}
	getOr := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := &config{
		DataDir:       get("SIGNAL_DATA_DIR"),
		DatabaseURL:   get("DATABASE_URL"),
		GatewayAddr:   get("SIGNAL_GATEWAY_ADDR"),
		AdminAddr:     get("SIGNAL_ADMIN_ADDR"),
		AdminEmail:    get("SIGNAL_ADMIN_EMAIL"),
		AdminPassword: getenv("SIGNAL_ADMIN_PASSWORD"),
		JWTSecret:     getenv("JWT_SECRET"),
		EncryptionKey: getenv("ENCRYPTION_KEY"),
		Role:          get("SIGNAL_ROLE"),
		MetricsToken:  getenv("SIGNAL_METRICS_TOKEN"),
		VendorURLs:    map[string]string{},
		LogFormat:     get("SIGNAL_LOG_FORMAT"),
		LogLevel:      get("SIGNAL_LOG_LEVEL"),
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	for _, a := range []struct{ name, v string }{{"SIGNAL_GATEWAY_ADDR", c.GatewayAddr}, {"SIGNAL_ADMIN_ADDR", c.AdminAddr}} {
		if _, port, err := net.SplitHostPort(a.v); err != nil {
			bad("%s=%q is not a listen address like :8080 or 127.0.0.1:8080", a.name, a.v)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("%s=%q has an invalid port", a.name, a.v)
		}
	}
	if c.GatewayAddr == c.AdminAddr && !strings.HasSuffix(c.GatewayAddr, ":0") {
		bad("SIGNAL_GATEWAY_ADDR and SIGNAL_ADMIN_ADDR are both %q; they must differ", c.GatewayAddr)
	}
	for _, s := range vendorSpecs {
		v := strings.TrimRight(getOr(s.urlEnv(), s.defaultURL), "/")
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s=%q is not an http(s) URL", s.urlEnv(), v)
		}
		c.VendorURLs[s.key] = v
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL must be a postgres:// URL")
		}
		if c.JWTSecret == "" || c.EncryptionKey == "" {
			bad("JWT_SECRET and ENCRYPTION_KEY are required with DATABASE_URL: every node must share them")
		}
	}
	switch c.Role {
	case "all":
	case "gateway", "worker":
		if c.DatabaseURL == "" {
			bad("SIGNAL_ROLE=%s needs DATABASE_URL: the embedded database serves one node, which runs everything (use all)", c.Role)
		}
	default:
		bad("SIGNAL_ROLE must be all, gateway or worker")
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		bad("JWT_SECRET must be at least 32 characters (generate one with: openssl rand -hex 32)")
	}
	origins := get("CORS_ORIGINS")
	for _, o := range strings.Split(origins, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
				bad("CORS_ORIGINS: %q is not an origin like https://shop.example.com", o)
				continue
			}
		}
		c.CORSOrigins = append(c.CORSOrigins, strings.TrimRight(o, "/"))
	}
	var err error
	if c.MaxPayload, err = strconv.ParseInt(get("MAX_PAYLOAD_SIZE"), 10, 64); err != nil || c.MaxPayload < 1024 || c.MaxPayload > 64<<20 {
		bad("MAX_PAYLOAD_SIZE must be a number of bytes from 1024 to 67108864")
	}
	if c.MaxBatch, err = strconv.Atoi(get("MAX_BATCH_SIZE")); err != nil || c.MaxBatch < 1 || c.MaxBatch > 10000 {
		bad("MAX_BATCH_SIZE must be a whole number from 1 to 10000")
	}
	if c.RateLimitRPS, err = strconv.ParseFloat(get("RATE_LIMIT_RPS"), 64); err != nil || c.RateLimitRPS < 0 {
		bad("RATE_LIMIT_RPS must be a number of requests per second per pipeline (0 turns the limit off)")
	}
	if c.Proxies, err = gateway.ParsePrefixes(get("SIGNAL_TRUSTED_PROXIES")); err != nil {
		bad("SIGNAL_TRUSTED_PROXIES must be a comma-separated list of IPs and CIDR prefixes, or none: %v", err)
	}
	if days, err := strconv.Atoi(get("SIGNAL_RETENTION_DAYS")); err != nil || days < 0 || days > 3650 {
		bad("SIGNAL_RETENTION_DAYS must be a whole number of days from 0 (keep forever) to 3650")
	} else {
		c.Retention = time.Duration(days) * 24 * time.Hour
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("SIGNAL_LOG_FORMAT must be text or json")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("SIGNAL_LOG_LEVEL must be debug, info, warn or error")
	}
	if c.DataDir, err = filepath.Abs(c.DataDir); err != nil {
		bad("SIGNAL_DATA_DIR: %v", err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}

// secret returns the configured value, or the one kept in the data dir,
// generating it on first start (mode 0600).
func secret(dir, name, configured string, gen func() (string, error)) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		// A file an older version (or an operator) left readable by others
		// is tightened.
		if err := os.Chmod(path, 0o600); err != nil {
			return "", fmt.Errorf("chmod %s: %w", path, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if !os.IsNotExist(err) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v, err := gen()
	if err != nil {
		return "", err
	}
	if err := writeFileDurably(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

// writeFileDurably writes a file so that after a crash or power loss it is
// either absent or whole: a temporary file, synced, renamed into place, and
// the directory synced. Events are sealed with the key it holds; losing it
// would lose them.
func writeFileDurably(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
