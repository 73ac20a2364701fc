#!/usr/bin/env bash
# Measured CLI batch: `cheesecave create_device_certificate_from_intermediate dev --count N` (encrypted keys and PFX
# files written to disk, 5 files per device), RUNS times, each in a fresh copy of one CA folder, each beside `openssl speed ecdsap256` taken
# just before it (CPU time and -elapsed, so a busy machine shows), with the command's own phase timings.
# Usage: tests/CheeseCave.Benchmarks/cli-batch.sh [N=2000] [RUNS=3] [PARENT=/tmp]   (PARENT=/dev/shm leaves the disk out)
set -euo pipefail
count="${1:-2000}"
runs="${2:-3}"
parent="${3:-/tmp}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dotnet build "$repo/src/CheeseCave.Cli" -c Release -v q -nologo >/dev/null
cli="$repo/src/CheeseCave.Cli/bin/Release/net10.0/cheesecave.dll"
work="$(mktemp -d "$parent/cheesecave-cli-batch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
dotnet "$cli" create_root_and_intermediate --dir "$work/ca" >/dev/null
# Each run gets its own copy of the CA folder and nothing is deleted until the end: on an ext4 file system without a
# journal (this machine's), the kernel skips inodes freed in the last 30 seconds when it allocates new ones, one by
# one, so deleting the previous run's 10,000 files just before a run made file creation 5-15 times slower.
echo "cheesecave batch of $count devices in $parent on $(nproc) cores, $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
  cpu="$(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $7}')"
  elapsed="$(openssl speed -elapsed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $7}')"
  folder="$work/run$run"
  cp -a "$work/ca" "$folder"
  start="$EPOCHREALTIME"
  out="$(CHEESECAVE_TIMINGS=1 dotnet "$cli" create_device_certificate_from_intermediate dev --count "$count" --dir "$folder")"
  end="$EPOCHREALTIME"
  own="$(sed -nE 's/^Issued .* in ([0-9.]+) s\.$/\1/p' <<<"$out")"
  process="$(echo "$end - $start" | bc -l)"
  printf 'run %d: process %.2f s = %.0f devices/s; command %.2f s = %.0f devices/s; openssl ecdsap256 %s signs/s (cpu), %s (-elapsed); %d files\n' \
    "$run" "$process" "$(echo "$count / $process" | bc -l)" "$own" "$(echo "$count / $own" | bc -l)" "$cpu" "$elapsed" \
    "$(find "$folder/certs" "$folder/private" -name 'dev*' | wc -l)"
  grep '^timings' <<<"$out" | sed 's/^/  /' || true
done
