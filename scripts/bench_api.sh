#!/usr/bin/env bash
# The API benchmark (issue 5): batch ingest of the bench invoices through
# `POST /api/v1/invoices` (requests of 10,000), then read latency under a steady
# load of 200 requests/s from a second process on loopback.
#   bash scripts/bench_api.sh [CUSTOMERS] [INVOICES] [READ_RATE] [READ_SECONDS]
# INGEST_ONLY=1 stops after the ingest (when working on its speed).
# The customers and their contacts are imported with the CLI first (the invoices
# name them). The load generator is a Python script (standard library only): an
# open loop, so a slow answer does not slow the requests that follow it.
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-100000}
invoices=${2:-1000000}
rate=${3:-200}
seconds=${4:-20}
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }
cargo build --release --locked -q
bin=$PWD/target/release/herald
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
"$bin" init ws >/dev/null
cd ws
"$bin" bench-data --dir data --customers "$customers" --invoices "$invoices" --today 2026-11-22 >/dev/null
"$bin" import customers data/customers.csv >/dev/null
"$bin" import contacts data/contacts.csv >/dev/null
token=$("$bin" token create --name bench --scope admin 2>/dev/null)
# The planner's own first run at start is not what is measured: plan once a year.
sed -i 's/^plan = "\* \* \* \* \*"/plan = "0 0 1 1 *"/' herald.toml
# The load generator is one token at 200 requests/s: above the default limit.
sed -i 's/^rate_limit = 100 /rate_limit = 100000 /' herald.toml
grep -q '^rate_limit = 100000 ' herald.toml || { echo "could not raise [service] rate_limit" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen 127.0.0.1:"$port" --now 2026-11-22T23:00:00Z >serve.log 2>&1 & pid=$!
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done

python3 - "$port" "$token" "$rate" "$seconds" "$customers" <<'PY'
import csv, http.client, json, os, statistics, sys, threading, time
port, token, rate, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

# Ingest: every invoice, 10,000 per request, encoded before the clock starts.
with open("data/invoices.csv", newline="") as f:
    rows = [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(f)]
bodies = [json.dumps(rows[i:i + 10000]).encode() for i in range(0, len(rows), 10000)]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
start = time.perf_counter()
for b in bodies:
    conn.request("POST", "/api/v1/invoices", body=b, headers=headers)
    r = conn.getresponse()
    answer = r.read()
    if r.status != 200:
        sys.exit(f"ingest answered {r.status}: {answer[:500]!r}")
took = time.perf_counter() - start
print("| step | records | requests | seconds | records/s |")
print("|---|---:|---:|---:|---:|")
print(f"| ingest invoices (POST /api/v1/invoices, 10,000 a request) | {len(rows)} | {len(bodies)} | {took:.2f} | {len(rows) / took:.0f} |")
if os.environ.get("INGEST_ONLY"):
    sys.exit(0)

# Plan the ingested invoices (through the API, in the background), so the reads
# below page through real notifications.
conn.request("POST", "/api/v1/plan", body=json.dumps({"now": "2026-11-22T23:00:00Z"}), headers=headers)
r = conn.getresponse(); job = json.loads(r.read())
start = time.perf_counter()
while True:
    conn.request("GET", job["poll"], headers=headers)
    r = conn.getresponse(); state = json.loads(r.read())
    if state["state"] != "running":
        break
    time.sleep(0.2)
if state["state"] != "done":
    sys.exit(f"the planning job failed: {state}")
print(f"| plan them (POST /api/v1/plan, polled) | {state['result']['inserted']} notifications | 1 | {time.perf_counter() - start:.2f} | |")

# The dispatcher sends what was planned (to the file outbox); the reads are
# measured once it is done, against the store at rest.
start = time.perf_counter()
while True:
    conn.request("GET", "/api/v1/status", headers=headers)
    r = conn.getresponse(); st = json.loads(r.read())["by_state"]
    if st.get("pending", 0) + st.get("sending", 0) == 0:
        break
    time.sleep(0.5)
print(f"| send them (dispatcher, file outbox) | {st.get('sent', 0)} deliveries | | {time.perf_counter() - start:.2f} | |")

# Reads: `rate` requests a second for `seconds`, each on a kept connection of a
# pool of 8 threads, sent at its scheduled time whatever the others do.
import random
random.seed(7)
customers = int(sys.argv[5])
notes = state["result"]["inserted"]
# A page of 50 anywhere in the notifications, or one customer's: what a CRM or
# the console asks. (`/api/v1/status` counts the whole store and is left out: its
# cost grows with it.)
paths = [
    f"/api/v1/notifications?limit=50&after={random.randrange(max(1, notes))}" if i % 2 == 0
    else f"/api/v1/notifications?customer=c{random.randrange(customers):07d}&limit=20"
    for i in range(rate * seconds)
]
lat, errors, lock = [], [], threading.Lock()
total = rate * seconds
t0 = time.perf_counter() + 0.2
def worker(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(k, total, 8):
        due = t0 + i / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        s = time.perf_counter()
        c.request("GET", paths[i], headers=headers)
        r = c.getresponse(); r.read()
        # From when it was due: a request sent late counts its wait.
        d = time.perf_counter() - due
        with lock:
            (lat if r.status == 200 else errors).append(d if r.status == 200 else r.status)
threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print()
print("| reads | rate (req/s) | requests | errors | p50 (ms) | p99 (ms) | max (ms) |")
print("|---|---:|---:|---:|---:|---:|---:|")
print(f"| a page of 50 notifications, or a customer's (alternating) | {rate} | {len(lat)} | {len(errors)} | {q(0.5):.2f} | {q(0.99):.2f} | {lat[-1]*1000:.2f} |")
PY
