#!/usr/bin/env bash
# Wall time of the newcomer's two commands on a fresh clone of this repository's HEAD.
#   bench/fresh_clone.sh            both
# `make test` is timed to its end; `make run` until http://127.0.0.1:8000/ first answers 200, then stopped.
# Packages come from pip's cache or the configured index as on any machine; the clone has no .venv of its own.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$src" "$work/vigil"
cd "$work/vigil"

start=$(date +%s.%N)
make test >"$work/test.log" 2>&1 || { tail -40 "$work/test.log"; echo "make test FAILED"; exit 1; }
end=$(date +%s.%N)
printf 'make test (fresh clone): %.1f s  (%s)\n' "$(echo "$end - $start" | bc)" "$(grep -E '[0-9]+ passed' "$work/test.log" | tail -1)"

port_busy=$(python3 -c 'import socket; s=socket.socket(); print(s.connect_ex(("127.0.0.1", 8000)) == 0)')
if [ "$port_busy" = "True" ]; then echo "port 8000 is busy: make run not timed"; exit 1; fi
rm -rf .venv   # time the whole set-up, as a newcomer would meet it
start=$(date +%s.%N)
setsid make run >"$work/run.log" 2>&1 &
runner=$!
until curl -fs -o /dev/null http://127.0.0.1:8000/; do
  sleep 0.2
  kill -0 "$runner" 2>/dev/null || { tail -40 "$work/run.log"; echo "make run FAILED"; exit 1; }
done
end=$(date +%s.%N)
printf 'make run until the site answers (fresh clone, new .venv): %.1f s\n' "$(echo "$end - $start" | bc)"
# As Ctrl-C would, then make sure: runserver's reloader must not outlive the measurement.
kill -INT -- "-$runner" 2>/dev/null || true
sleep 3
kill -KILL -- "-$runner" 2>/dev/null || true
wait "$runner" 2>/dev/null || true
