#!/usr/bin/env bash
# The load benchmark of SPEC §7, in one command from the project root (after `make install`):
#   benchmarks/run.sh            # 1,000,000 notes
#   benchmarks/run.sh --quick    # 100,000 notes, short runs: under 3 minutes on a quiet machine
# Settings: BENCH_DB, BENCH_NOTES, BENCH_DURATION, BENCH_WARMUP, BENCH_PGBENCH_CLIENTS, KEEP_DB=1,
# REUSE_DB=1, PROFILE=1, PGBOUNCER_DIR (see benchmarks/run.py). Traffic goes only to 127.0.0.1; the PostgreSQL at 127.0.0.1:5432 must
# accept user postgres without a password.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
    echo "benchmarks/run.sh: no .venv here; run \`make install\` first" >&2
    exit 1
fi

# wrk drives the load, pgbench measures PostgreSQL's own ceiling, PgBouncer fronts the
# two-worker run.
if ! command -v wrk >/dev/null 2>&1 || ! command -v pgbench >/dev/null 2>&1 \
    || [[ ! -x /usr/sbin/pgbouncer ]]; then
    echo "benchmarks/run.sh: installing wrk, pgbench and PgBouncer (Debian packages)" >&2
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq wrk postgresql-client pgbouncer >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "benchmarks/run.sh: no PostgreSQL accepting connections on 127.0.0.1:5432" >&2
    exit 1
fi

# The driver stops both servers and drops the database itself (try/finally); the trap makes sure
# an interrupted run reaches that cleanup, and that nothing it started outlives this script.
driver=""
cleanup() {
    if [[ -n "$driver" ]] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null || true
        wait "$driver" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/python -m benchmarks.run "$@" &
driver=$!
status=0
wait "$driver" || status=$?
driver=""
exit "$status"
