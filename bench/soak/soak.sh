#!/usr/bin/env bash
# The soak run (docs/reliability.md): the AppHost under moderate load for a while, memory, threads and the gateway's
# state sampled every 15 s. Not part of CI.
#   bench/soak/soak.sh                         10 minutes, 16 connections, 500 ms think time
#   bench/soak/soak.sh --minutes 30 --connections 24 --delay-ms 250 --warmup 300   (warm-up: 120 s by default)
# Needs wrk (sudo apt-get install -y wrk), curl and the .NET SDK; the gateway's port 5080 must be free.
# Prints a markdown report; exits 1 when a request failed (non-2xx other than 429, or a socket error).
set -euo pipefail
cd "$(dirname "$0")/../.."

minutes=10 connections=16 delay_ms=500 warmup_s=120 interval_s=15
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --delay-ms) delay_ms=$2; shift 2 ;;
    --warmup) warmup_s=$2; shift 2 ;;
    *) echo "usage: bench/soak/soak.sh [--minutes N] [--connections N] [--delay-ms N] [--warmup SECONDS]" >&2; exit 2 ;;
  esac
done
for tool in wrk curl dotnet; do
  command -v "$tool" >/dev/null 2>&1 || { echo "soak: $tool is required" >&2; exit 2; }
done

run="$(mktemp -d /tmp/soak-XXXXXX)"
key() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
chat_key=$(key) indexer_key=$(key) admin_key=$(key)
gateway=http://localhost:5080
echo "soak: building; run folder $run" >&2
dotnet build AppHost -v quiet -nologo >"$run/build.log" 2>&1 || { cat "$run/build.log" >&2; exit 1; }

echo "soak: starting the AppHost" >&2
setsid dotnet run --project AppHost --no-build -- \
  "--Parameters:chat-app-primary-key=$chat_key" "--Parameters:search-indexer-primary-key=$indexer_key" \
  "--Parameters:gateway-admin-key=$admin_key" "--Apim:NamedValues:subscription-tokens-per-minute=100000000" \
  >"$run/apphost.log" 2>&1 &
apphost=$!
declare -A pids
stop() {
  kill -TERM -- "-$apphost" 2>/dev/null || true
  wait "$apphost" 2>/dev/null || true
  # Aspire's orchestrator stops the services once the AppHost is gone: wait for them, so the next run finds the ports free.
  for _ in $(seq 1 30); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 1
  done
}
trap stop EXIT

for _ in $(seq 1 150); do
  curl -fs -o /dev/null "$gateway/health" && break
  sleep 2
done
curl -fs -o /dev/null "$gateway/health" || { echo "soak: the gateway did not become healthy; see $run/apphost.log" >&2; exit 1; }
sleep 10 # the mocks' health checks

# The services' processes: the gateway and each mock account of this checkout, as Aspire starts them (the build's
# executable, under a "dotnet run" that is not measured).
here=$(pwd)
for pid in $(pgrep -f -- "^$here/(Gateway|MockOpenAI)/bin/" || true); do
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  case "$args" in
    "$here/Gateway/"*) pids[gateway]=$pid ;;
    *MockOpenAI*) account=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^MockOpenAI__Account=//p'); pids[${account:-mock-$pid}]=$pid ;;
  esac
done
[ -n "${pids[gateway]:-}" ] || { echo "soak: no gateway process found" >&2; exit 1; }
echo "soak: processes: $(for n in "${!pids[@]}"; do printf '%s=%s ' "$n" "${pids[$n]}"; done)" >&2

samples="$run/samples.tsv"
printf 'second\tprocess\trss_kb\tthreads\n' >"$samples"
state_samples="$run/state.tsv"
printf 'second\tentries\topen_breakers\n' >"$state_samples"
sample() {
  local second=$1
  for name in "${!pids[@]}"; do
    local status="/proc/${pids[$name]}/status"
    [ -r "$status" ] || continue
    printf '%s\t%s\t%s\t%s\n' "$second" "$name" "$(awk '/^VmRSS:/ {print $2}' "$status")" "$(awk '/^Threads:/ {print $2}' "$status")" >>"$samples"
  done
  local state
  state=$(curl -fs -H "x-admin-key: $admin_key" "$gateway/_gateway/admin/state" || echo '{}')
  printf '%s\t%s\t%s\n' "$second" \
    "$(printf '%s' "$state" | grep -o '"name":"[^"]*","scope":"[^"]*","entries":[0-9]*' | sed 's/"name":"\([^"]*\)".*"entries":\([0-9]*\)/\1=\2/' | paste -sd' ')" \
    "$(printf '%s' "$state" | grep -o '"state":"open"' | wc -l)" >>"$state_samples"
}

echo "soak: $minutes minutes, $connections connections, ${delay_ms} ms think time" >&2
SOAK_KEYS="$chat_key,$indexer_key" SOAK_DELAY_MS=$delay_ms \
  wrk -t1 "-c$connections" "-d${minutes}m" --timeout 30s -s bench/soak/mix.lua "$gateway" >"$run/wrk.txt" 2>&1 &
load=$!
start=$(date +%s)
while kill -0 "$load" 2>/dev/null; do
  sample $(( $(date +%s) - start ))
  sleep "$interval_s"
done
wait "$load" || true
sample $(( $(date +%s) - start ))

summary=$(grep '^SOAK ' "$run/wrk.txt" | sed 's/^SOAK //')
echo "# Soak: $minutes minutes, $connections connections, ${delay_ms} ms think time ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "wrk: \`$summary\`"
echo
echo "| process | RSS MB at ${warmup_s} s | RSS MB at half-time | RSS MB at end | growth after warm-up | growth over the second half | threads after warm-up (min-max) |"
echo "|---|--:|--:|--:|--:|--:|--:|"
end=$(tail -n 1 "$samples" | cut -f1)
half=$(( (end + warmup_s) / 2 ))
awk -F'\t' -v warm="$warmup_s" -v half="$half" '
  NR == 1 { next }
  $1 >= warm {
    if (!($2 in first)) { first[$2] = $3 }
    if ($1 >= half && !($2 in mid)) { mid[$2] = $3 }
    last[$2] = $3
    if (!($2 in tmin) || $4 < tmin[$2]) tmin[$2] = $4
    if ($4 > tmax[$2]) tmax[$2] = $4
  }
  END {
    for (p in first) printf "| %s | %.0f | %.0f | %.0f | %+.1f %% | %+.1f %% | %d-%d |\n", p, first[p] / 1024, mid[p] / 1024, last[p] / 1024, 100 * (last[p] - first[p]) / first[p], 100 * (last[p] - mid[p]) / mid[p], tmin[p], tmax[p]
  }' "$samples" | sort
echo
echo "Gateway state (admin endpoint), first sample after warm-up and last: "
awk -F'\t' -v warm="$warmup_s" 'NR > 1 && $1 >= warm { if (!f) { f = $0 } l = $0 } END { print "- " f; print "- " l }' "$state_samples" | sed 's/\t/ s: /; s/\t/; open breakers: /'
echo
echo "Samples: $samples, $state_samples"

failed=$(printf '%s' "$summary" | grep -o '"[0-9]*":[0-9]*' | tr -d '"' | awk -F: '$1 !~ /^2/ && $1 != 429 { n += $2 } END { print n + 0 }')
errors=$(printf '%s' "$summary" | grep -o '"\(connect\|read\|write\)Errors":[0-9]*\|"timeouts":[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }')
[ -n "$summary" ] && [ "$failed" -eq 0 ] && [ "$errors" -eq 0 ]
