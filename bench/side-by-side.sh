#!/usr/bin/env bash
# The side-by-side HTTP benchmark (docs/performance.md): a trivial backend, bare YARP and the gateway with three
# policies, under the same wrk load, one process each, in Release.
#   bench/side-by-side.sh                      30 short rounds, about 10.5 minutes; prints one markdown table
#   bench/side-by-side.sh --quick              a smoke run, about 1.5 minutes
#   bench/side-by-side.sh --rounds 3
#   bench/side-by-side.sh --targets shipped    bare YARP and the shipped policy only (an A/B in about 4 minutes)
#   bench/side-by-side.sh --sustained 300      the shipped policy at saturation for 300 s, throughput per 10 s, bare YARP between
#   bench/side-by-side.sh --sustained 120 --target yarp
#   bench/side-by-side.sh --memory [REQUESTS]   the shipped policy, 1,000,000 requests with 200 streams open: RSS, growth
# Exits non-zero when any request got no 2xx. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "side-by-side: wrk is required: sudo apt-get install -y wrk" >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/SideBySide -c Release -v quiet -nologo >&2
exec dotnet bench/SideBySide/bin/Release/net10.0/SideBySide.dll "$@"
