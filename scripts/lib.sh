# Shared by scripts/run and scripts/test: installing what the project needs, once, idempotently.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

# Debian packages: building the desktop app (WebKitGTK), running it headless (Xvfb, D-Bus), the
# OS keychain (gnome-keyring), the WebDriver for end-to-end tests, sqlite3 for the import
# benchmark's baseline, and PostgreSQL for the relay.
APT_PACKAGES=(
  build-essential pkg-config curl file libssl-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth x11-utils imagemagick dbus-x11 at-spi2-core
  gnome-keyring libsecret-tools webkit2gtk-driver
  sqlite3 postgresql openssl nodejs npm
)

say() { printf '\n\033[1;36m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # npm/nodejs may come from elsewhere (nvm, NodeSource): a working binary is enough.
    case "$p" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    say "installing the Rust toolchain (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  fi
  rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt 2>/dev/null || true
}

# npm packages of one folder, from its lockfile; skipped when node_modules is up to date.
ensure_npm() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_cargo_tool() {
  local bin=$1 crate=$2 version=$3
  if ! command -v "$bin" >/dev/null || ! cargo install --list | grep -q "^$crate v$version:"; then
    say "installing $crate $version"
    cargo install "$crate" --version "$version" --locked
  fi
}

ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "starting PostgreSQL on 127.0.0.1:5432"
    local cluster
    cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
    [ -n "$cluster" ] || die "no PostgreSQL cluster found (pg_lsclusters is empty)"
    # shellcheck disable=SC2086
    as_root pg_ctlcluster $cluster start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not come up on 127.0.0.1:5432"
  fi
  # The relay's tests connect over TCP, where this cluster asks for a password (scram-sha-256):
  # give the postgres role the test password, unless it already works.
  if ! PGPASSWORD=postgres psql -qtAc 'SELECT 1' -h 127.0.0.1 -U postgres postgres >/dev/null 2>&1; then
    say "setting the postgres role's password for the tests (loopback only)"
    as_root runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
  fi
}

# One package selection and one feature set for every cargo command of scripts/run and
# scripts/test. Cargo resolves features per command: commands that select other packages or
# features build the shared dependencies (serde, syn, tokio, sqlx, reqwest…) again with other
# features. With this one set, clippy, the tests (the relay binary and the keychain included) and
# the desktop app compile each dependency once.
CARGO_SET=(--workspace --locked --features crmconnect/keychain,crmconnect-desktop/custom-protocol)

# The UI bundle: the desktop binary embeds it (custom-protocol), so it comes before any cargo
# command that compiles the desktop crate.
build_ui() {
  ensure_npm "$ROOT/ui"
  say "building the UI"
  (cd "$ROOT/ui" && npm run --silent build)
}

# The UI bundle and the desktop binary with the bundle embedded (debug profile). Extra cargo
# arguments select more targets (scripts/test adds the tests', so that nothing is built twice).
build_app() {
  build_ui
  say "building the desktop app"
  cargo build "${CARGO_SET[@]}" --bins "$@"
  APP_BIN="$ROOT/target/debug/crmconnect-desktop"
}
