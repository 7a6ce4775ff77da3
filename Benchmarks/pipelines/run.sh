#!/usr/bin/env bash
# Pipelines benchmark: plan a synthetic 2,000-package stack (random DAG, a third cached, 21
# images) and emit it as GitHub Actions, GitLab CI and CodeBuild. Reports the in-process step
# times and, from GNU time, the whole process's wall time and peak RSS.
# Targets: under 1 s and under 200 MiB.
#
#   Benchmarks/pipelines/run.sh [--packages N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
packages=2000; runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --packages) packages=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "GNU time is missing: run scripts/setup (Debian package 'time')" >&2; exit 1; }
swift build -c release --product pipelines-bench >&2
bin=$(swift build -c release --show-bin-path)/pipelines-bench
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for run in $(seq 1 "$runs"); do
  /usr/bin/time -v -o "$out/time" "$bin" --packages "$packages" > "$out/stdout"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print int($2/1024)}' "$out/time")
  echo "run $run: wall $wall  peak RSS ${rss} MiB"
  sed 's/^/  /' "$out/stdout"
done
