#!/usr/bin/env bash
# Registry transfer benchmark: push and pull of a 3-layer image of about 600 MB to and from a
# local CNCF registry (plain HTTP on a random loopback port), against `skopeo copy` between
# the same places in the same run, and a no-op re-push of an image the registry already has.
#
#   Benchmarks/registry/run.sh [--layer-mb N] [--runs N] [--update]
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/lib.sh
runs=3; update=0; layer_mb=200
while [ $# -gt 0 ]; do
  case "$1" in
    --layer-mb) layer_mb=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --update) update=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup >/dev/null
swift build -c release --static-swift-stdlib --product stackship >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/stackship
work=$(pwd)/Benchmarks/.work/registry
rm -rf "$work"; mkdir -p "$work/src"

# The image: three layers of random bytes (stored uncompressed: transfer is what is measured).
for l in a b c; do mkdir -p "$work/src/$l"; head -c "${layer_mb}M" /dev/urandom > "$work/src/$l/data.bin"; done
cat > "$work/stack.yaml" <<YAML
images:
  bench:
    compression: none
    layers:
      - {source: ./src/a, destination: /a}
      - {source: ./src/b, destination: /b}
      - {source: ./src/c, destination: /c}
YAML
store=$work/store
"$bin" build "$work/stack.yaml" --store "$store" >&2

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; wait $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
reg=127.0.0.1:$port
"$bin" push --store "$store" bench:latest "$reg/seed/img:1" >/dev/null 2>&1
BENCH_BYTES=$(( 3 * layer_mb * 1048576 ))

# Pushes go to a fresh repository each time, so every blob is sent; pulls start from empty.
bench_add "stackship push"            "$bin push --store $store bench:latest $reg/push/s\$RANDOM\$RANDOM:1"
bench_add "skopeo copy (push)"        "skopeo copy -q --dest-tls-verify=false oci:$store:bench:latest docker://$reg/push/k\$RANDOM\$RANDOM:1"
bench_add "stackship pull"            "$bin pull $reg/seed/img:1 --store $work/pull-s"
bench_add "skopeo copy (pull)"        "skopeo copy -q --src-tls-verify=false docker://$reg/seed/img:1 oci:$work/pull-k:img"
bench_add "stackship push (no-op)"    "$bin push --store $store bench:latest $reg/seed/img:1" "" 0
bench_add "skopeo copy (no-op push)"  "skopeo copy -q --dest-tls-verify=false oci:$store:bench:latest docker://$reg/seed/img:1" "" 0
# skopeo remembers where blobs were seen (its blob-info cache) and mounts them from there
# instead of uploading; clear it so both tools start cold and really send the bytes.
bench_run "$runs" "rm -rf $work/pull-s $work/pull-k /var/lib/containers/cache/blob-info-cache-v1.boltdb \$HOME/.local/share/containers/cache/blob-info-cache-v1.boltdb"

sp=$(bench_secs "stackship push"); kp=$(bench_secs "skopeo copy (push)")
sl=$(bench_secs "stackship pull"); kl=$(bench_secs "skopeo copy (pull)")
sn=$(bench_secs "stackship push (no-op)"); kn=$(bench_secs "skopeo copy (no-op push)")
rss=$(python3 -c "print(max($(bench_rss "stackship push"), $(bench_rss "stackship pull"), $(bench_rss "stackship push (no-op)")))")
table=$(bench_table "$runs" "of the $((BENCH_BYTES / 1000000)) MB image")
targets="- push at most 0.8x skopeo's time: $(bench_check "$sp <= 0.8 * $kp") ($sp s vs $kp s, $(python3 -c "print(f'{$sp/$kp:.2f}')")x)
- pull at most 0.8x skopeo's time: $(bench_check "$sl <= 0.8 * $kl") ($sl s vs $kl s, $(python3 -c "print(f'{$sl/$kl:.2f}')")x)
- no-op re-push no slower than skopeo's: $(bench_check "$sn <= $kn") ($sn s vs $kn s)
- peak RSS under 100 MiB: $(bench_check "$rss < 100") ($rss MiB)"
echo; echo "$table"; echo; echo "$targets"
if [ "$update" = 1 ]; then
  bench_update registry "By \`Benchmarks/registry/run.sh --update\`: a 3-layer image of $((BENCH_BYTES / 1000000)) MB (random bytes, uncompressed layers) to and from docker-registry 2.8 on loopback, plain HTTP. Each command ran $runs times, interleaved; median time, largest peak RSS. Pushes go to a fresh repository, and skopeo's blob-info cache is cleared before each run: with it, skopeo mounts the blobs from a repository where it saw them before and sends nothing (0.04 s), which measures its cache, not its transfer.

$table

Targets:
$targets"
  echo "BENCHMARKS.md updated" >&2
fi
