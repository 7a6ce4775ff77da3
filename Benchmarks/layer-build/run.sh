#!/usr/bin/env bash
# Layer-building benchmark: builds one layer from a generated ~1 GiB tree with stackship and
# with the peer tools, in the same run, and prints throughput and peak RSS for each.
#
#   Benchmarks/layer-build/run.sh [--size BYTES] [--files N] [--runs N] [--update]
#
# Each tool runs --runs times (default 3), interleaved with the others, and its median time
# and largest peak RSS are reported: a 2-core machine shared with other work is noisy.
# --update rewrites the figures in BENCHMARKS.md. Peak RSS for a pipeline is that of its
# largest process (GNU time's view of the children it waited for).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/lib.sh
size=$((1 << 30)); files=40000; update=0; runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --update) update=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup >/dev/null
work=Benchmarks/.work
tree=$work/tree
mkdir -p "$work"
echo "generating the tree ($size bytes, $files small files) in $tree ..." >&2
python3 Benchmarks/layer-build/generate-tree.py "$tree" "$size" "$files"
swift build -c release --static-swift-stdlib --product stackship >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/stackship
out=$work/out
rm -rf "$out"; mkdir -p "$out"
# Warm the page cache so every tool reads from memory.
find "$tree" -type f -print0 | xargs -0 cat > /dev/null
BENCH_BYTES=$(tar -cf - -C "$tree" . | wc -c)

umoci init --layout "$out/umoci" >/dev/null 2>&1
umoci new --image "$out/umoci:base" >/dev/null 2>&1
bench_add "stackship layer (gzip -6)"  "$bin layer $tree -o $out/s.tar.gz --compression gzip --level 6" "$out/s.tar.gz"
bench_add "tar -cf - | gzip -6"        "tar -cf - -C $tree . | gzip -6 > $out/g.tar.gz" "$out/g.tar.gz"
bench_add "tar -cf - | pigz -p 2 -6"   "tar -cf - -C $tree . | pigz -p 2 -6 > $out/p.tar.gz" "$out/p.tar.gz"
bench_add "umoci insert"               "umoci insert --image $out/umoci:base $tree /data-\$RANDOM" "$out/umoci/blobs/sha256"
bench_add "stackship layer (zstd -3)"  "$bin layer $tree -o $out/s.tar.zst --compression zstd --level 3" "$out/s.tar.zst"
bench_add "tar -cf - | zstd -T2 -3"    "tar -cf - -C $tree . | zstd -q -T2 -3 > $out/z.tar.zst" "$out/z.tar.zst"
bench_run "$runs"

sg=$(bench_secs "stackship layer (gzip -6)"); sp=$(bench_secs "tar -cf - | pigz -p 2 -6")
sz=$(bench_secs "stackship layer (zstd -3)"); sgz=$(bench_secs "tar -cf - | gzip -6")
table=$(bench_table "$runs" "of the $((BENCH_BYTES / 1000000)) MB tar")
targets="- gzip layers at least as fast as \`tar | pigz -p 2\`: $(bench_check "$sg <= $sp") ($sg s vs $sp s)
- zstd layers at least 3x faster than \`tar | gzip\`: $(bench_check "$sgz / $sz >= 3") ($(python3 -c "print(f'{$sgz/$sz:.1f}')")x)
- zstd layers at least 3x faster than our (parallel) gzip layers: $(bench_check "$sg / $sz >= 3") ($(python3 -c "print(f'{$sg/$sz:.1f}')")x)
- peak RSS under 100 MiB: $(bench_check "max($(bench_rss "stackship layer (gzip -6)"), $(bench_rss "stackship layer (zstd -3)")) < 100")"
echo; echo "$table"; echo; echo "$targets"
if [ "$update" = 1 ]; then
  bench_update layer-build "By \`Benchmarks/layer-build/run.sh --update\`. Each tool ran $runs times, interleaved; the table shows the median time and the largest peak RSS.
Input: a generated tree of $files small source-like files and 8 large log-like files, $((BENCH_BYTES / 1000000)) MB as a tar, read from the page cache.

$table

Targets:
$targets"
  echo "BENCHMARKS.md updated" >&2
fi
