#!/usr/bin/env bash
# Runs every test of the repository and ends with one line: "N passed, N failed, N skipped".
# Installs what the suites need when it is missing (openssl, Debian's chromium for the browser tests, Debian's nginx
# for the reverse-proxy tests, Debian's nodejs and npm for the conformance suite, Debian's postgresql for the
# PostgreSQL runs). Starts a throwaway PostgreSQL on loopback (tests/postgres.sh) for the whole run and runs the
# persistence, approval, audit and authorization tests a second time on it.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "tests/run.sh: need root (or sudo) to install: $*" >&2; return 1; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq || return 1; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

summary() { # passed failed skipped
  echo
  echo "$1 passed, $2 failed, $3 skipped"
}

log "Checking prerequisites"
command -v dotnet >/dev/null || { echo "tests/run.sh: the .NET 10 SDK (dotnet) is required" >&2; summary 0 1 0; exit 1; }
command -v openssl >/dev/null || apt_install openssl || { summary 0 1 0; exit 1; }
if [ ! -x /usr/bin/chromium ]; then
  log "Installing Debian's chromium for the browser tests"
  apt_install chromium fonts-dejavu-core || { echo "tests/run.sh: could not install chromium" >&2; summary 0 1 0; exit 1; }
fi
if [ ! -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null; then
  log "Installing Debian's nginx for the reverse-proxy tests"
  apt_install nginx-light || apt_install nginx || echo "tests/run.sh: could not install nginx; the reverse-proxy tests will be skipped" >&2
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "Installing Debian's nodejs and npm for the conformance suite"
  apt_install nodejs npm || echo "tests/run.sh: could not install nodejs/npm; the conformance suite will fail" >&2
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  log "Installing Debian's postgresql for the PostgreSQL runs"
  apt_install postgresql || echo "tests/run.sh: could not install postgresql; the PostgreSQL tests will fail" >&2
fi
openssl version
dotnet --version
command -v node >/dev/null && echo "node $(node --version)"

log "Building"
if ! dotnet build CheeseCavePortal.sln -c Debug -nologo -v quiet; then
  echo "tests/run.sh: the build failed" >&2
  summary 0 1 0
  exit 1
fi

# Portal.Tests drives the official Node device SDK with the portal's files (Setups/Revocation/PortalFilesNodeSdkTests):
# install the conformance suite's pinned packages now, before the .NET suites (the same npm ci and stamp as
# tests/conformance/run.sh). If this fails, that test fails and says so; it never skips.
log "Installing the conformance suite's Node packages"
lock_hash=$(sha256sum tests/conformance/package-lock.json tests/conformance/package.json | sha256sum | cut -c1-64)
if [ "$(cat tests/conformance/node_modules/.cheesecave-lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  (cd tests/conformance && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
    && echo "$lock_hash" >tests/conformance/node_modules/.cheesecave-lock-sha256 \
    || echo "tests/run.sh: npm ci in tests/conformance failed; the Node SDK tests will fail" >&2
fi

results=$(mktemp -d)
# The server's folder sits directly in /tmp: as root the server runs as `postgres`, which cannot enter $results.
postgres_dir=$(mktemp -u -d "${TMPDIR:-/tmp}/cheesecave-postgres-XXXXXXXX")
trap 'CHEESECAVE_POSTGRES_DIR="$postgres_dir" tests/postgres.sh stop; rm -rf "$results"' EXIT
status=0
passed=0 failed=0 skipped=0

# The PostgreSQL cases never skip here: without a server they fail, saying why (CHEESECAVE_TEST_REQUIRE_POSTGRES).
log "Starting PostgreSQL on loopback"
export CHEESECAVE_TEST_REQUIRE_POSTGRES=1
if postgres_env=$(CHEESECAVE_POSTGRES_DIR="$postgres_dir" tests/postgres.sh start); then
  eval "$postgres_env"
else
  echo "tests/run.sh: PostgreSQL did not start (see above); the PostgreSQL tests and the PostgreSQL run will fail" >&2
fi

# Runs one test project (optionally filtered) and adds its counts; a run without a summary counts as one failure.
run_tests() { # label project [filter]
  local label=$1 project=$2 filter=${3:-} out code line f p s
  log "Testing $label"
  out="$results/${label//[^A-Za-z0-9.]/_}.log"
  dotnet test "$project" --no-build -nologo --blame-hang-timeout 10m ${filter:+--filter "$filter"} 2>&1 | tee "$out"
  code=${PIPESTATUS[0]}
  line=$(grep -E '^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$out" | tail -1)
  if [ -z "$line" ]; then
    echo "tests/run.sh: $label produced no test summary (exit $code)" >&2
    failed=$((failed + 1)); status=1
    return
  fi
  f=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: +([0-9]+),.*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$code" -ne 0 ] || [ "$f" -ne 0 ]; then status=1; fi
}

# The house rules a compiler does not check (file sizes, classes split over files): one check, counted like a test.
log "Checking the source structure"
if bash tests/check-structure.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

for project in $(ls -d tests/*/ | sort); do
  name=$(basename "$project")
  [ -f "$project/$name.csproj" ] || continue
  grep -q 'Microsoft.NET.Test.Sdk' "$project/$name.csproj" || continue  # only test projects (not benchmarks)
  run_tests "$name" "$project/$name.csproj"
done

# The same portal tests whose outcome depends on the database, again with every portal on PostgreSQL (a database
# per test class). Persistence/ runs its PostgreSQL cases in the first run already.
CHEESECAVE_TEST_DATABASE=PostgreSQL run_tests "CheeseCave.Portal.Tests on PostgreSQL" tests/CheeseCave.Portal.Tests/CheeseCave.Portal.Tests.csproj \
  "FullyQualifiedName~CheeseCave.Portal.Tests.Approvals.|FullyQualifiedName~CheeseCave.Portal.Tests.Security.AuthorizationMatrix.|FullyQualifiedName~CheeseCave.Portal.Tests.Audit.|FullyQualifiedName~CheeseCave.Portal.Tests.Setups.Inventory.|FullyQualifiedName~CheeseCave.Portal.Tests.Hosting.HealthProbeTests|FullyQualifiedName~CheeseCave.Portal.Tests.Automation.|FullyQualifiedName~CheeseCave.Portal.Tests.Setups.Expiry."

# Conformance: the official Azure SDKs for Node against the emulator (tests/conformance/run.sh starts it on port 443).
# Its counts come from node's TAP summary ("# pass N", "# fail N", "# cancelled N", "# skipped N", "# todo N").
log "Testing conformance (official Azure SDKs for Node against the emulator)"
out="$results/conformance.log"
tests/conformance/run.sh 2>&1 | tee "$out"
code=${PIPESTATUS[0]}
count() { sed -nE "s/^# $1 ([0-9]+)\$/\1/p" "$out" | tail -1; }
p=$(count pass) f=$(count fail) c=$(count cancelled) s=$(count skipped) t=$(count todo)
if [ -z "$p" ] || [ -z "$f" ]; then
  echo "tests/run.sh: the conformance suite produced no test summary (exit $code)" >&2
  failed=$((failed + 1)); status=1
else
  passed=$((passed + p)); failed=$((failed + f + ${c:-0})); skipped=$((skipped + ${s:-0} + ${t:-0}))
  if [ "$code" -ne 0 ] || [ "$f" -ne 0 ] || [ "${c:-0}" -ne 0 ]; then status=1; fi
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ] && [ "${c:-0}" -eq 0 ]; then
    echo "tests/run.sh: the conformance suite exited with $code although no test failed" >&2
    failed=$((failed + 1))
  fi
fi

summary "$passed" "$failed" "$skipped"
exit $status
