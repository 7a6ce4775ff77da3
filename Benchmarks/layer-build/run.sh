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
swift build -c release --product stackship >&2
bin=$(swift build -c release --show-bin-path)/stackship
out=$work/out
rm -rf "$out"; mkdir -p "$out"
# Warm the page cache so every tool reads from memory.
find "$tree" -type f -print0 | xargs -0 cat > /dev/null
tarbytes=$(tar -cf - -C "$tree" . | wc -c)

names=(); commands=(); outputs=()
add() { names+=("$1"); commands+=("$2"); outputs+=("$3"); }
# The size of what a tool wrote: a file, or the largest blob of umoci's layout.
output_size() { case "$1" in umoci) ls -S "$out"/umoci/blobs/sha256/* | head -1 | xargs stat -c %s ;; *) stat -c %s "$1" ;; esac; }
umoci init --layout "$out/umoci" >/dev/null 2>&1
umoci new --image "$out/umoci:base" >/dev/null 2>&1
add "stackship layer (gzip -6)"  "$bin layer $tree -o $out/s.tar.gz --compression gzip --level 6" "$out/s.tar.gz"
add "tar -cf - | gzip -6"        "tar -cf - -C $tree . | gzip -6 > $out/g.tar.gz" "$out/g.tar.gz"
add "tar -cf - | pigz -p 2 -6"   "tar -cf - -C $tree . | pigz -p 2 -6 > $out/p.tar.gz" "$out/p.tar.gz"
add "umoci insert"               "umoci insert --image $out/umoci:base $tree /data-\$RANDOM" umoci
add "stackship layer (zstd -3)"  "$bin layer $tree -o $out/s.tar.zst --compression zstd --level 3" "$out/s.tar.zst"
add "tar -cf - | zstd -T2 -3"    "tar -cf - -C $tree . | zstd -q -T2 -3 > $out/z.tar.zst" "$out/z.tar.zst"

declare -A times rsses
for run in $(seq 1 "$runs"); do
  for i in "${!names[@]}"; do
    sync
    /usr/bin/time -o "$out/$i.time" -f "%e %M" bash -c "${commands[$i]}" >/dev/null 2>"$out/$i.err" \
      || { echo "${names[$i]} failed: $(cat "$out/$i.err")" >&2; exit 1; }
    read -r secs kb < <(tail -1 "$out/$i.time")
    times[$i]+="$secs "
    rsses[$i]+="$((kb / 1024)) "
    printf 'run %d  %-30s %7.2f s %6s MiB\n' "$run" "${names[$i]}" "$secs" "$((kb / 1024))" >&2
  done
done

results=()
for i in "${!names[@]}"; do
  secs=$(python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" ${times[$i]})
  rss=$(python3 -c "import sys; print(max(int(x) for x in sys.argv[1:]))" ${rsses[$i]})
  mbps=$(python3 -c "print(f'{$tarbytes/1e6/$secs:.0f}')")
  bytes=$(output_size "${outputs[$i]}")
  results+=("${names[$i]};$secs;$mbps;$rss;$((bytes / 1000000))")
done

field() { # name, field number (2: seconds, 3: MB/s, 4: RSS)
  local r n v
  for r in "${results[@]}"; do
    n=${r%%;*}
    if [ "$n" = "$1" ]; then echo "$r" | cut -d';' -f"$2"; fi
  done
  return 0
}
secs() { field "$1" 2; }
rss() { field "$1" 4; }
sg=$(secs "stackship layer (gzip -6)"); sp=$(secs "tar -cf - | pigz -p 2 -6"); sz=$(secs "stackship layer (zstd -3)"); sgz=$(secs "tar -cf - | gzip -6")
check() { python3 -c "import sys; sys.exit(0 if $1 else 1)" && echo "met" || echo "NOT met"; }
gzip_vs_pigz=$(check "$sg <= $sp")
zstd_vs_gzip=$(check "$sg / $sz >= 3")
zstd_vs_tar_gzip=$(check "$sgz / $sz >= 3")
rss_ok=$(check "max($(rss "stackship layer (gzip -6)"), $(rss "stackship layer (zstd -3)")) < 100")

table="| tool | seconds (median of $runs) | MB/s (of the $((tarbytes / 1000000)) MB tar) | peak RSS (MiB) | output (MB) |
| --- | ---: | ---: | ---: | ---: |"
for r in "${results[@]}"; do IFS=';' read -r n s m k o <<<"$r"; table+=$'\n'"| \`${n//|/\\|}\` | $s | $m | $k | $o |"; done
targets="- gzip layers at least as fast as \`tar | pigz -p 2\`: $gzip_vs_pigz ($sg s vs $sp s)
- zstd layers at least 3x faster than \`tar | gzip\`: $zstd_vs_tar_gzip ($(python3 -c "print(f'{$sgz/$sz:.1f}')")x)
- zstd layers at least 3x faster than our (parallel) gzip layers: $zstd_vs_gzip ($(python3 -c "print(f'{$sg/$sz:.1f}')")x)
- peak RSS under 100 MiB: $rss_ok"
echo
echo "$table"
echo
echo "$targets"
if [ "$update" = 1 ]; then
  python3 - "$table" "$targets" "$tarbytes" "$files" "$runs" <<'PY'
import re, sys, subprocess, datetime
table, targets, tarbytes, files, runs = sys.argv[1:6]
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True, text=True).stdout.strip()
section = f"""<!-- layer-build:start -->
Run on {datetime.date.today()}, {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, by `Benchmarks/layer-build/run.sh --update`.
Each tool ran {runs} times, interleaved; the table shows the median time and the largest peak RSS.\nInput: a generated tree of {files} small source-like files and 8 large log-like files, {int(tarbytes) // 1_000_000} MB as a tar, read from the page cache.

{table}

Targets:
{targets}
<!-- layer-build:end -->"""
text = open("BENCHMARKS.md").read()
text = re.sub(r"<!-- layer-build:start -->.*<!-- layer-build:end -->", lambda m: section, text, flags=re.S)
open("BENCHMARKS.md", "w").write(text)
PY
  echo "BENCHMARKS.md updated" >&2
fi
