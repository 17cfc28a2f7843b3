#!/usr/bin/env bash
# The foundation benchmark (issue 2): 1,000,000 invoices for 100,000 customers.
# Measures import rows/s, then the time and peak RSS of a full planning pass and of a
# second pass with nothing new. Prints a Markdown table for BENCHMARKS.md.
#   bash scripts/bench.sh [CUSTOMERS] [INVOICES]
#   STORE=postgres bash scripts/bench.sh   # the same on a PostgreSQL 15 started here (scripts/pg.sh)
#   STORE=postgres NODES=3 bash scripts/bench.sh   # the first pass by three planners at once
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-100000}
invoices=${2:-1000000}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
cargo build --release --locked -q
bin=$PWD/target/release/herald
work=$(mktemp -d)
source scripts/pg.sh
trap 'pg_stop; rm -rf "$work"' EXIT
[ "${STORE:-sqlite}" = postgres ] && pg_start "$work/pg"
cd "$work"
"$bin" init ws >/dev/null
cd ws
"$bin" bench-data --dir data --customers "$customers" --invoices "$invoices" --today 2026-11-22 >/dev/null

measure() { # label, then the command; prints "label seconds maxrss_kb"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o time.out "$@" >out.log 2>&1 || { cat out.log >&2; exit 1; }
  read -r secs rss <time.out
  echo "$label $secs $rss"
}
rows() { echo $(( $(wc -l <"$1") - 1 )); }

printf '| step | rows | seconds | rows/s | peak RSS (MB) |\n|---|---:|---:|---:|---:|\n'
for kind in customers contacts invoices payments; do
  read -r _ secs rss < <(measure "$kind" "$bin" import "$kind" "data/$kind.csv")
  n=$(rows "data/$kind.csv")
  printf '| import %s | %d | %s | %.0f | %d |\n' "$kind" "$n" "$secs" "$(echo "$n / $secs" | bc -l)" $((rss / 1024))
done
if [ "${NODES:-1}" -gt 1 ]; then
  # NODES planners at once (nodes of one store): one plans, the others wait for
  # it and find everything planned.
  start=$(date +%s.%N)
  for n in $(seq 1 "$NODES"); do "$bin" plan --now 2026-11-22 >"plan$n.out" 2>&1 & done
  ok=1; for n in $(seq 1 "$NODES"); do wait -n || ok=0; done
  [ "$ok" = 1 ] || { cat plan*.out >&2; exit 1; }
  secs=$(echo "$(date +%s.%N) - $start" | bc -l)
  new=$(cat plan*.out | sed -n 's/.*looked at, \([0-9]*\) new notification.*/\1/p' | paste -sd+ | bc)
  printf '| planning pass 1, %d planners at once (%s new in all) | %d invoices | %.2f | | |\n' "$NODES" "$new" "$invoices" "$secs"
else
  read -r _ secs rss < <(measure plan1 "$bin" plan --now 2026-11-22)
  printf '| planning pass 1 (%s) | %d invoices | %s | | %d |\n' "$(tail -1 out.log | cut -c1-60)" "$invoices" "$secs" $((rss / 1024))
fi
read -r _ secs rss < <(measure plan2 "$bin" plan --now 2026-11-22)
printf '| planning pass 2, nothing new | %d invoices | %s | | %d |\n' "$invoices" "$secs" $((rss / 1024))
read -r _ secs rss < <(measure plan3 "$bin" plan --now 2026-11-23)
printf '| planning pass 3, next day | %d invoices | %s | | %d |\n' "$invoices" "$secs" $((rss / 1024))
