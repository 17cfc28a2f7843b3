# Sourced by the benchmarks: `pg_start DIR` starts a PostgreSQL 15 cluster in DIR on
# a free loopback port (as the `postgres` user when run as root: the server refuses
# root) and exports HERALD_STORE__URL, which every herald command then uses instead
# of herald.toml's [store] url; `pg_stop` stops it. Settings: see pg_start.
pg_bin=/usr/lib/postgresql/15/bin
pg_dir=
pg_start() {
  [ -x "$pg_bin/initdb" ] || { echo "needs PostgreSQL 15: apt-get install postgresql-15" >&2; exit 1; }
  pg_dir=$1
  mkdir -p "$pg_dir"
  local as=()
  if [ "$(id -u)" = 0 ]; then chmod o+x "$(dirname "$pg_dir")"; chown -R postgres "$pg_dir"; as=(runuser -u postgres --); fi
  "${as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U herald --auth=trust --encoding=UTF8 --no-locale >/dev/null
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # synchronous_commit=off: a commit returns before its WAL reaches the disk, as
  # SQLite's WAL mode with synchronous=NORMAL (herald's setting) does; a crash
  # loses the last few commits, never consistency. pg_stat_statements counts the
  # statements a run sends.
  "${as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories='' -c synchronous_commit=off \
     -c shared_buffers=512MB -c max_connections=200 -c shared_preload_libraries=pg_stat_statements \
     -c pg_stat_statements.track=top -c pg_stat_statements.max=10000" >/dev/null
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U herald herald
  "$pg_bin/psql" -qAt -h 127.0.0.1 -p "$pg_port" -U herald herald -c "CREATE EXTENSION pg_stat_statements" >/dev/null
  export HERALD_STORE__URL="postgres://herald@127.0.0.1:$pg_port/herald"
}
pg_stop() {
  [ -n "$pg_dir" ] || return 0
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
  pg_dir=
}
# `pg_sql QUERY`: one value from the benchmark's database.
pg_sql() {
  "$pg_bin/psql" -qAt -h 127.0.0.1 -p "$pg_port" -U herald herald -c "$1"
}
