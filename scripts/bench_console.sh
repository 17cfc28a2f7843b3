#!/usr/bin/env bash
# The web console on a large office (issue 7): 1,000,000 invoices for 100,000
# customers, imported and planned, then each console page fetched by a signed-in
# browser's requests (curl with the session cookie), five times; the median time
# is printed as a Markdown table for BENCHMARKS.md.
#   bash scripts/bench_console.sh [CUSTOMERS] [INVOICES]
#   STORE=postgres bash scripts/bench_console.sh   # on a PostgreSQL 15 started here (scripts/pg.sh)
# The dispatcher must not send while pages are timed: pilot mode holds everyone
# (a pilot customer that does not exist).
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-100000}
invoices=${2:-1000000}
command -v curl >/dev/null || { echo "needs curl: apt-get install curl" >&2; exit 1; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }
cargo build --release --locked -q
bin=$PWD/target/release/herald
work=$(mktemp -d)
pid=
source scripts/pg.sh
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; pg_stop; rm -rf "$work"; }
trap cleanup EXIT
[ "${STORE:-sqlite}" = postgres ] && pg_start "$work/pg"
cd "$work"
"$bin" init ws >/dev/null
cd ws
"$bin" bench-data --dir data --customers "$customers" --invoices "$invoices" --today 2026-11-22 >/dev/null
for kind in customers contacts invoices payments; do "$bin" import "$kind" "data/$kind.csv" >/dev/null; done
"$bin" plan --now 2026-11-22 >/dev/null
sed -i 's/^customers = \[\]$/customers = ["HOLD-ALL"]/' herald.toml
grep -q '^customers = \["HOLD-ALL"\]' herald.toml || { echo "could not turn pilot mode on" >&2; exit 1; }
echo "bench console password" | "$bin" user create admin --role admin --password-stdin >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen 127.0.0.1:"$port" --now 2026-11-22T12:00:00Z >serve.log 2>&1 & pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
base="http://127.0.0.1:$port"
curl -s -c jar -b jar "$base/console/login" >login.html
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' login.html | head -1)
code=$(curl -s -c jar -b jar -o /dev/null -w '%{http_code}' \
  -d "csrf=$csrf&next=/console&login=admin&password=bench+console+password" "$base/console/login")
[ "$code" = 303 ] || { echo "sign-in answered $code" >&2; exit 1; }
customer=$(sed -n 2p data/customers.csv | cut -d, -f1)
invoice=$(sed -n 2p data/invoices.csv | cut -d, -f1)
pages=(
  "/console"
  "/console/invoices"
  "/console/invoices?page=2000"
  "/console/invoices?q=$customer"
  "/console/invoices?standing=overdue"
  "/console/invoices/$invoice"
  "/console/history"
  "/console/history?customer=$customer"
  "/console/history?state=pending&channel=email"
  "/console/history?page=1000"
  "/console/preview?rule=dunning&customer=$customer"
  "/console/next-run"
  "/console/settings"
  "/console/audit"
)
printf '| page | median ms (5 requests) |\n|---|---:|\n'
for p in "${pages[@]}"; do
  times=()
  for _ in 1 2 3 4 5; do
    out=$(curl -s -b jar -o /dev/null -w '%{http_code} %{time_total}' "$base$p")
    [ "${out%% *}" = 200 ] || { echo "$p answered ${out%% *}" >&2; exit 1; }
    times+=("${out##* }")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  printf '| `%s` | %.0f |\n' "$p" "$(echo "$median * 1000" | bc -l)"
done
