#!/usr/bin/env bash
# Runs every test of herald on a fresh machine (Debian, Rust 1.95).
# Installs what the tests need when it is missing, then: format check, clippy, the
# whole test suite. Exits non-zero on the first failure, saying what failed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# Real parts the tests use. SQLite is compiled in. E-mail tests talk to postfix's
# smtp-sink (the postfix package; its daemon is never started). Store tests start
# their own PostgreSQL 15 cluster in a temp dir (initdb, pg_ctl; Debian's cluster
# is never used). The web console's tests drive Debian's Chromium through
# ChromeDriver.
[ -x /usr/sbin/smtp-sink ] || need_apt+=(postfix)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)
# DKIM signatures are checked by an independent verifier: Debian's dkimpy, with a
# key made by openssl.
[ -x /usr/bin/openssl ] || need_apt+=(openssl)
# kill(1), for the service test's SIGTERM.
[ -x /usr/bin/kill ] || [ -x /bin/kill ] || need_apt+=(procps)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dkim' 2>/dev/null || need_apt+=(python3-dkim)
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust 1.95 (rustup) and run this script again" >&2
  exit 1
fi
if ((${#need_apt[@]})); then
  echo "installing: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (whole workspace, SQLite)"
cargo test --workspace --locked 2>&1 | tee /tmp/herald-test.log
grep -E '^test result:' /tmp/herald-test.log | awk '{p+=$4; f+=$6} END {printf "\nall test binaries on SQLite: %d passed, %d failed\n", p, f}'

# The store's and herald's integration suites again, every store a PostgreSQL
# database (a PostgreSQL 15 started by the tests themselves, see
# herald_store::testing): the same behaviour on both backends.
step "cargo test (store and integration suites, PostgreSQL)"
HERALD_TEST_BACKEND=postgres cargo test --locked -p herald-store -p herald --test it 2>&1 | tee /tmp/herald-test-pg.log
grep -E '^test result:' /tmp/herald-test-pg.log | awk '{p+=$4; f+=$6} END {printf "\nintegration suites on PostgreSQL: %d passed, %d failed\n", p, f}'
