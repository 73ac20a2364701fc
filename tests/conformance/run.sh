#!/usr/bin/env bash
# Conformance suite: drives the CheeseCave emulator with the official Azure SDKs for Node.
#   tests/conformance/run.sh [--build] [node --test options or test files]
# Installs the pinned packages (npm ci) when node_modules is missing or stale, starts the emulator on a fresh data
# folder with its HTTPS endpoint on port 443 (the Node device-HTTP and service SDKs cannot reach any other port),
# runs `node --test` over tests/conformance/*.test.js, always stops the emulator, and exits with node's exit code.
# Output is TAP; it ends with node's "# tests/# pass/# fail/# cancelled/# skipped/# todo" summary lines.
# Environment: CHEESECAVE_CONFORMANCE_BIND=127.0.0.x to choose the loopback address (default 127.0.0.1, falling back
# to another 127.0.0.x when port 443 there is taken); CHEESECAVE_CONFORMANCE_KEEP=1 keeps the work folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dll="$repo/src/CheeseCave.Emulator/bin/Debug/net10.0/CheeseCave.Emulator.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "conformance: $*" >&2; exit 1; }

build=0
if [ "${1:-}" = "--build" ]; then build=1; shift; fi

# --- prerequisites -------------------------------------------------------------------------------------------------
command -v node >/dev/null || fail "node (>= 20) is required"
command -v npm >/dev/null || fail "npm is required"
command -v openssl >/dev/null || fail "openssl is required (the suite makes its test certificates with it)"
command -v dotnet >/dev/null || fail "the .NET SDK (dotnet) is required to run the emulator"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "node >= 20 is required (found $(node --version)): the suite uses node --test --test-concurrency/--test-force-exit"

# Port 443: the Node device HTTP transport and the DPS service SDK call https.request({host}) and cannot reach another
# port (see docs/toolchain.md §9), so the emulator must listen on 443, which needs root (or CAP_NET_BIND_SERVICE).
if [ "$(id -u)" -ne 0 ]; then
  unprivileged=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
  if [ "$unprivileged" -gt 443 ]; then
    fail "must run as root: the emulator has to listen on port 443, because the official Node DPS device (HTTP) and service SDKs can only reach port 443 (they pass host:port to https.request as a host name). Run as root, or lower net.ipv4.ip_unprivileged_port_start to 443."
  fi
fi

# --- packages ------------------------------------------------------------------------------------------------------
lock_hash=$(sha256sum "$here/package-lock.json" "$here/package.json" | sha256sum | cut -c1-64)
stamp="$here/node_modules/.cheesecave-lock-sha256"
if [ ! -d "$here/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  echo "conformance: installing the pinned Azure SDK packages (npm ci)"
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
  echo "$lock_hash" >"$stamp"
fi

# --- emulator ------------------------------------------------------------------------------------------------------
if [ "$build" -eq 1 ] || [ ! -f "$dll" ]; then
  echo "conformance: building the emulator"
  dotnet build "$repo/src/CheeseCave.Emulator/CheeseCave.Emulator.csproj" -c Debug -nologo -v quiet >/dev/null || fail "building the emulator failed"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cheesecave-conformance.XXXXXX")
emulator_pid=
cleanup() {
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$emulator_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$emulator_pid" 2>/dev/null
    { wait "$emulator_pid"; } 2>/dev/null
  fi
  if [ "${CHEESECAVE_CONFORMANCE_KEEP:-0}" = 1 ]; then echo "conformance: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start the emulator on $1:443; returns 0 when endpoints.json appeared, 2 when the port is taken, 1 otherwise.
start_emulator() {
  local bind=$1 data="$work/emulator-$1" log="$work/emulator-$1.log"
  mkdir -p "$data"
  (cd "$repo" && exec dotnet "$dll" --data-dir "$data" --https-port 443 --mqtt-port 0 --amqp-port 0 --bind "$bind") >"$log" 2>&1 &
  emulator_pid=$!
  local deadline=$((SECONDS + 30))
  while [ ! -s "$data/endpoints.json" ]; do
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
      { wait "$emulator_pid"; } 2>/dev/null
      emulator_pid=
      if grep -q 'address already in use\|cannot listen' "$log"; then return 2; fi
      echo "conformance: the emulator exited before it was ready; its log ($log):" >&2
      cat "$log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "conformance: the emulator did not write $data/endpoints.json within 30 s; its log ($log):" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  emulator_log=$log
  endpoints="$data/endpoints.json"
  return 0
}

candidates=("${CHEESECAVE_CONFORMANCE_BIND:-127.0.0.1}")
for _ in 1 2 3; do candidates+=("127.0.0.$((RANDOM % 250 + 2))"); done
started=0
port_free() { # can we listen on $1:443 right now?
  node -e 'const s = require("net").createServer(); s.once("error", () => process.exit(1)); s.listen(443, process.argv[1], () => s.close());' "$1"
}
for bind in "${candidates[@]}"; do
  if ! port_free "$bind"; then
    echo "conformance: port 443 on $bind is taken (another emulator?); trying another loopback address" >&2
    continue
  fi
  start_emulator "$bind"
  rc=$?
  if [ "$rc" -eq 0 ]; then started=1; break; fi
  if [ "$rc" -eq 1 ]; then exit 1; fi
  echo "conformance: port 443 on $bind is taken (another emulator?); trying another loopback address" >&2
done
[ "$started" -eq 1 ] || fail "could not listen on port 443 on any of: ${candidates[*]}"

export CHEESECAVE_ENDPOINTS="$endpoints"
export NODE_EXTRA_CA_CERTS
NODE_EXTRA_CA_CERTS=$(node -p 'require(process.env.CHEESECAVE_ENDPOINTS).trustBundle') || fail "cannot read $endpoints"
export CHEESECAVE_CONFORMANCE_WORK="$work/suite"
mkdir -p "$CHEESECAVE_CONFORMANCE_WORK"
echo "conformance: emulator (pid $emulator_pid) ready at $(node -p 'require(process.env.CHEESECAVE_ENDPOINTS).armEndpoint'), MQTT at $(node -p 'require(process.env.CHEESECAVE_ENDPOINTS).mqttHost')"

# --- tests ---------------------------------------------------------------------------------------------------------
if [ "$#" -gt 0 ]; then files=("$@"); else files=("$here"/*.test.js); fi
cd "$here"
# One file at a time (they share the emulator and build on each other's resources); 30 s per test; 5 min in all.
timeout --kill-after=10 "${CHEESECAVE_CONFORMANCE_TIMEOUT:-300}" \
  node --test --test-reporter=tap --test-concurrency=1 --test-force-exit --test-timeout=30000 "${files[@]}"
code=$?
if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
  echo "conformance: node --test did not finish within ${CHEESECAVE_CONFORMANCE_TIMEOUT:-300} s and was stopped" >&2
fi

if [ "$code" -ne 0 ]; then
  echo "conformance: node --test exited with $code; last lines of the emulator log ($emulator_log):" >&2
  tail -n 40 "$emulator_log" >&2
fi
exit "$code"
