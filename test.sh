#!/usr/bin/env bash
# Runs every test of Signal, setting up what the tests need first:
# PostgreSQL on 127.0.0.1:5432 (started, or installed from Debian's packages
# when missing) for the PostgreSQL store tests.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '==> %s\n' "$*"; }

ensure_postgres() {
  if [ -n "${SIGNAL_TEST_POSTGRES_URL:-}" ]; then
    return
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    return
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      say "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)."
      say "Install it, or set SIGNAL_TEST_POSTGRES_URL to a server the tests may create databases on."
      exit 1
    fi
    say "installing PostgreSQL"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    say "PostgreSQL is installed but has no cluster; create one with pg_createcluster."
    exit 1
  fi
  # Trust local TCP connections for the test user, as the tests expect.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if [ -w "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  say "PostgreSQL did not become ready on 127.0.0.1:5432"
  exit 1
}

ensure_chromium() {
  # The browser tests of the Management UI (cmd/signal/ui_*_test.go) drive
  # Debian's chromium; only Debian's package is installed, never a browser
  # build downloaded by a tool.
  if [ -x /usr/bin/chromium ]; then
    return
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "/usr/bin/chromium is missing and cannot be installed here (needs root and apt-get)."
    say "Install Debian's chromium package; the Management UI browser tests need it."
    exit 1
  fi
  say "installing chromium"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

ensure_postgres
ensure_chromium

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
say "go vet"
go vet ./...
say "go test -race"
go test -race -count=1 -timeout 15m ./...

# Fuzz: every Fuzz target in the module (decoders of outside input: gateway
# messages and bodies, gzip, JSON scans, blueprints, emails, phones…) runs
# for a short budget, FUZZTIME each (default 5s): ~1-2 min in all.
say "fuzz (${FUZZTIME:-5s} per target)"
# fuzz_one runs one target. A failure with a failing input (written to the
# package's testdata/fuzz/<target>/) fails the run at once. A failure without
# one is the fuzzing engine's own: Go's fuzzer sometimes ends a run with
# "context deadline exceeded" when -fuzztime runs out while a worker is busy
# (seen here about one run in six for FuzzElements); it is shown and the
# target tried again, up to three runs.
fuzz_one() {
  local target=$1 pkg=$2 out corpus="$2/testdata/fuzz/$1"
  out=$(mktemp)
  for attempt in 1 2 3; do
    local before=0
    [ -d "$corpus" ] && before=$(ls "$corpus" | wc -l)
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-5s}" "$pkg" >"$out" 2>&1; then
      rm -f "$out"; return 0
    fi
    tail -n 30 "$out"
    local after=0
    [ -d "$corpus" ] && after=$(ls "$corpus" | wc -l)
    if [ "$after" != "$before" ] || [ "$attempt" = 3 ]; then
      echo "fuzz target $target in $pkg failed: rerun with go test -run '^$' -fuzz '^${target}\$' $pkg"
      rm -f "$out"; exit 1
    fi
    echo "fuzz target $target stopped without a failing input (the engine's own stop); trying it again"
  done
}

fuzzed=0
while read -r file; do
  pkg="./$(dirname "${file#./}")"
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    fuzz_one "$target" "$pkg"
    fuzzed=$((fuzzed + 1))
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
echo "fuzz: ${fuzzed} passed, 0 failed"
