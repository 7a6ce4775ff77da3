#!/usr/bin/env bash
# Dockerfile build benchmark: stackship build -f against `buildah bud --layers` (vfs storage,
# chroot isolation, as root) on the same 10-instruction Dockerfile and context.
#  1. cold: empty store / empty buildah storage;
#  2. no-op: the same build again (target: under 0.5 s for stackship);
#  3. one COPY source changed: which steps each tool runs again (target: exactly the ones
#     after that COPY) and how long it takes.
# Each scenario runs --runs times, the tools interleaved; the table shows medians.
#
#   Benchmarks/dockerfile/run.sh [--runs N] [--update] [--bin PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/lib.sh
runs=5; update=0; bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --update) update=1; shift ;;
    --bin) bin=$2; shift 2 ;; # an already built stackship (for trying changes)
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup >/dev/null
if [ -z "$bin" ]; then
  swift build -c release --static-swift-stdlib --product stackship >&2
  bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/stackship
fi
work=$(pwd)/Benchmarks/.work/dockerfile
rm -rf "$work"; mkdir -p "$work/context"
ctx=$work/context
cp /bin/busybox "$ctx/busybox"
echo "a" > "$ctx/a.txt"; echo "b" > "$ctx/b.txt"
cat > "$ctx/Dockerfile" <<'DF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV APP=/app
WORKDIR /app
COPY a.txt ./
RUN cat a.txt > a.out
COPY b.txt ./
RUN cat b.txt > b.out && sleep 1
CMD ["cat", "/app/b.out"]
DF
buildah_() { buildah --storage-driver vfs --root "$work/buildah/root" --runroot "$work/buildah/runroot" "$@"; }
now() { python3 -c 'import time; print(time.monotonic())'; }
declare -A secs
record() { secs[$1]+="$2 "; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.2f}')" $1; }
reruns_stackship() { grep -o '[0-9]* RUN executed' "$1" | cut -d' ' -f1; }
reruns_buildah() { grep -c '^STEP .*: RUN' "$1" | tr -d '\n'; printf ' '; grep -c 'Using cache' "$1" || true; }

for run in $(seq 1 "$runs"); do
  for tool in stackship buildah; do
    echo "b$run" > "$ctx/b.txt"  # each run starts from a new content for the changed step
    case $tool in
      stackship)
        rm -rf "$work/store"
        t0=$(now); "$bin" build --store "$work/store" -t bench "$ctx" >"$work/s.cold" 2>&1; t1=$(now)
        "$bin" build --store "$work/store" -t bench "$ctx" >"$work/s.noop" 2>&1; t2=$(now)
        echo "changed $run" > "$ctx/b.txt"
        t3=$(now); "$bin" build --store "$work/store" -t bench "$ctx" >"$work/s.change" 2>&1; t4=$(now)
        s_noop_runs=$(reruns_stackship "$work/s.noop"); s_change_runs=$(reruns_stackship "$work/s.change")
        s_change_cached=$(grep -o '[0-9]* of [0-9]* steps cached' "$work/s.change") ;;
      buildah)
        rm -rf "$work/buildah"
        t0=$(now); buildah_ bud --layers --isolation chroot -t bench "$ctx" >"$work/b.cold" 2>&1; t1=$(now)
        buildah_ bud --layers --isolation chroot -t bench "$ctx" >"$work/b.noop" 2>&1; t2=$(now)
        echo "changed $run" > "$ctx/b.txt"
        t3=$(now); buildah_ bud --layers --isolation chroot -t bench "$ctx" >"$work/b.change" 2>&1; t4=$(now)
        b_noop_cache=$(grep -c 'Using cache' "$work/b.noop" || true); b_change_cache=$(grep -c 'Using cache' "$work/b.change" || true) ;;
    esac
    record "$tool cold" "$(python3 -c "print($t1-$t0)")"
    record "$tool noop" "$(python3 -c "print($t2-$t1)")"
    record "$tool change" "$(python3 -c "print($t4-$t3)")"
    printf 'run %d %-9s cold %.2f s  no-op %.2f s  change %.2f s\n' "$run" "$tool" \
      "$(python3 -c "print($t1-$t0)")" "$(python3 -c "print($t2-$t1)")" "$(python3 -c "print($t4-$t3)")" >&2
  done
done
rm -rf "$work/buildah"

table="| tool | cold build (s) | no-op rebuild (s) | rebuild after changing b.txt (s) | what the change re-ran |
| --- | ---: | ---: | ---: | --- |
| \`stackship build\` | $(median "${secs[stackship cold]}") | $(median "${secs[stackship noop]}") | $(median "${secs[stackship change]}") | $s_change_cached, $s_change_runs RUN executed (no-op: $s_noop_runs RUN) |
| \`buildah bud --layers\` (vfs) | $(median "${secs[buildah cold]}") | $(median "${secs[buildah noop]}") | $(median "${secs[buildah change]}") | $b_change_cache of 9 steps from its cache (no-op: $b_noop_cache) |"
sn=$(median "${secs[stackship noop]}")
targets="Targets:
- a rebuild with nothing changed under 0.5 s: $(bench_check "$sn < 0.5") ($sn s)
- changing b.txt re-runs exactly the steps after its COPY (COPY b.txt and the last RUN; 5 of the 7 layer steps cached): $( [ "$s_change_runs" = 1 ] && echo "$s_change_cached" | grep -q '^5 of 7' && echo met || echo "NOT met") ($s_change_cached)"
echo; echo "$table"; echo; echo "$targets"
if [ "$update" = 1 ]; then
  bench_update dockerfile "By \`Benchmarks/dockerfile/run.sh --update\`: a 10-instruction Dockerfile (FROM scratch, busybox copied in, 3 RUN, 3 COPY, ENV, WORKDIR, CMD; the last RUN sleeps 1 s so a re-run shows), median of $runs runs, the tools interleaved. Cold: empty store or buildah storage; no-op: the same build again; change: b.txt edited, which the 8th instruction copies.

$table

$targets"
fi
