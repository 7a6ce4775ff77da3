#!/usr/bin/env bash
# Binary cache benchmark.
#  1. A no-op build of a synthetic 200-package stack (host script packages, each depending on
#     up to three earlier ones) whose packages are all built: with no cache, and with a push
#     cache that already holds every package (the build checks each one is there).
#  2. Cache push and pull of one 256 MB artifact to and from S3 (moto_server on loopback,
#     through S3_ENDPOINT_URL) against `aws s3 cp` of the same file to the same server.
#
#   Benchmarks/cache/run.sh [--packages N] [--artifact-mb N] [--runs N] [--update]
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/lib.sh
runs=5; update=0; packages=200; artifact_mb=256
while [ $# -gt 0 ]; do
  case "$1" in
    --packages) packages=$2; shift 2 ;;
    --artifact-mb) artifact_mb=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --update) update=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup >/dev/null
# The peer for S3 transfers: the AWS CLI (PyPI awscli), only this benchmark needs it.
command -v aws >/dev/null 2>&1 || python3 -m pip install -q awscli
swift build -c release --static-swift-stdlib --product stackship >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/stackship
work=$(pwd)/Benchmarks/.work/cache
rm -rf "$work"; mkdir -p "$work"
"$bin" cache keygen --output "$work/bench.key" >/dev/null

# --- 1. no-op build -------------------------------------------------------------------------
python3 - "$work/stack.yaml" "$packages" <<'PY'
import sys, random
path, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
lines = ["version: 2", "packages:"]
for i in range(n):
    lines.append(f"  p{i:03d}:")
    lines.append(f'    version: "1.{i}"')
    deps = sorted(random.sample(range(i), min(i, random.randint(0, 3))))
    if deps:
        lines.append("    depends_on: [" + ", ".join(f"p{d:03d}" for d in deps) + "]")
    lines.append(f"    build: {{script: 'mkdir -p $PREFIX/share && echo {i} > $PREFIX/share/p{i:03d}.txt', host: true}}")
open(path, "w").write("\n".join(lines) + "\n")
PY
"$bin" build "$work/stack.yaml" -j 2 --cache "$work/cache" --signing-key "$work/bench.key" >/dev/null 2>&1
bench_add "stackship build (no-op, $packages packages)" "$bin build $work/stack.yaml --no-cache" "" 0
bench_add "stackship build (no-op, push cache checked)" "$bin build $work/stack.yaml --cache $work/cache --signing-key $work/bench.key" "" 0
bench_run "$runs"
noop=$(bench_secs "stackship build (no-op, $packages packages)")
noop_cache=$(bench_secs "stackship build (no-op, push cache checked)")
noop_rss=$(python3 -c "print(max($(bench_rss "stackship build (no-op, $packages packages)"), $(bench_rss "stackship build (no-op, push cache checked)")))")
noop_table=$(bench_table "$runs" "-")

# --- 2. S3 push and pull --------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; wait $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=AKIABENCHMARK0000001 AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export S3_ENDPOINT_URL=http://127.0.0.1:$port
aws="aws --endpoint-url http://127.0.0.1:$port"
$aws s3 mb s3://bench >/dev/null
mkdir -p "$work/tree"; head -c "${artifact_mb}M" /dev/urandom > "$work/tree/data.bin"
tar -C "$work/tree" -cf "$work/artifact.tar" .
hash=$(sha256sum "$work/artifact.tar" | cut -c1-64)
"$bin" cache push "$work/artifact.tar" --hash "$hash" --name big --cache s3://bench/seed --signing-key "$work/bench.key" >/dev/null
$aws s3 cp "$work/artifact.tar" s3://bench/seed-aws/artifact.tar >/dev/null
BENCH_BYTES=$(stat -c %s "$work/artifact.tar")
# Pushes go to a fresh prefix each time, so every byte is sent; pulls start from nothing.
bench_names=(); bench_commands=(); bench_outputs=(); bench_bytes=(); bench_times=(); bench_rsses=()
bench_add "stackship cache push (S3)" "$bin cache push $work/artifact.tar --hash $hash --name big --cache s3://bench/p\$RANDOM\$RANDOM --signing-key $work/bench.key"
bench_add "aws s3 cp (upload)"        "$aws s3 cp $work/artifact.tar s3://bench/a\$RANDOM\$RANDOM/artifact.tar"
bench_add "stackship cache fetch (S3, verify + extract)" "$bin cache fetch $hash --into $work/fetched --cache s3://bench/seed --signing-key $work/bench.key"
bench_add "aws s3 cp (download)"      "$aws s3 cp s3://bench/seed-aws/artifact.tar $work/downloaded.tar"
bench_run "$runs" "rm -rf $work/fetched $work/downloaded.tar"
sp=$(bench_secs "stackship cache push (S3)"); ap=$(bench_secs "aws s3 cp (upload)")
sl=$(bench_secs "stackship cache fetch (S3, verify + extract)"); al=$(bench_secs "aws s3 cp (download)")
s3_rss=$(python3 -c "print(max($(bench_rss "stackship cache push (S3)"), $(bench_rss "stackship cache fetch (S3, verify + extract)")))")
s3_table=$(bench_table "$runs" "of the $((BENCH_BYTES / 1000000)) MB artifact")

targets="- no-op build of $packages cached packages under 0.5 s: $(bench_check "$noop < 0.5") ($noop s; $noop_cache s when every package is also checked in the push cache)
- cache push to S3 no slower than \`aws s3 cp\`: $(bench_check "$sp <= $ap") ($sp s vs $ap s)
- cache fetch from S3 (verified and extracted) no slower than \`aws s3 cp\` (download only): $(bench_check "$sl <= $al") ($sl s vs $al s)
- peak RSS under 100 MiB: $(bench_check "$noop_rss < 100 and $s3_rss < 100") (no-op $noop_rss MiB, S3 $s3_rss MiB)"
echo; echo "$noop_table"; echo; echo "$s3_table"; echo; echo "$targets"
if [ "$update" = 1 ]; then
  bench_update cache "By \`Benchmarks/cache/run.sh --update\`. Each command ran $runs times, interleaved; median time, largest peak RSS.

No-op build: a synthetic stack of $packages host script packages (each depending on up to three earlier ones), all built already; first with no cache, then with a push cache holding every package (each is looked up there, as a CI job with a shared cache does).

$noop_table

S3 transfers: one $((BENCH_BYTES / 1000000)) MB artifact (random bytes, a plain tar) to and from moto_server 5 (S3 API, in memory) on loopback, plain HTTP; \`aws\` is the AWS CLI v1 from PyPI with its default multipart settings. \`stackship cache fetch\` also checks the signature and digest and extracts the tar.

$s3_table

Targets:
$targets"
fi
