#!/usr/bin/env bash
# Layer-building benchmark: builds one layer from a generated ~1 GiB tree with stackship and
# with the peer tools, in the same run, and prints throughput and peak RSS for each.
#
#   Benchmarks/layer-build/run.sh [--size BYTES] [--files N] [--update]
#
# --update rewrites the figures in BENCHMARKS.md. Peak RSS for a pipeline is that of its
# largest process (GNU time's view of the children it waited for).
set -euo pipefail
cd "$(dirname "$0")/../.."
size=$((1 << 30)); files=40000; update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
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

results=()
measure() { # name, command
  local name=$1 cmd=$2
  sync
  local t
  t=$( { /usr/bin/time -f "%e %M" bash -c "$cmd" >/dev/null 2>"$out/$name.err"; } 2>&1 | tail -1 ) || { echo "$name failed: $(cat "$out/$name.err")" >&2; exit 1; }
  local secs=${t% *} kb=${t#* }
  local mbps
  mbps=$(python3 -c "print(f'{$tarbytes/1e6/$secs:.0f}')")
  results+=("$name|$secs|$mbps|$((kb / 1024))")
  printf '%-34s %7.2f s %7s MB/s %6s MiB\n' "$name" "$secs" "$mbps" "$((kb / 1024))" >&2
}

umoci init --layout "$out/umoci" >/dev/null 2>&1
umoci new --image "$out/umoci:base" >/dev/null 2>&1

measure "stackship layer (gzip -6)"       "$bin layer $tree -o $out/s.tar.gz --compression gzip --level 6"
measure "tar -cf - | gzip -6"             "tar -cf - -C $tree . | gzip -6 > $out/g.tar.gz"
measure "tar -cf - | pigz -p 2 -6"        "tar -cf - -C $tree . | pigz -p 2 -6 > $out/p.tar.gz"
measure "umoci insert"                    "umoci insert --image $out/umoci:base $tree /data"
measure "stackship layer (zstd -3)"       "$bin layer $tree -o $out/s.tar.zst --compression zstd --level 3"
measure "tar -cf - | zstd -T2 -3"         "tar -cf - -C $tree . | zstd -q -T2 -3 > $out/z.tar.zst"

get() { for r in "${results[@]}"; do IFS='|' read -r n s m k <<<"$r"; [ "$n" = "$1" ] && echo "$3" | sed "s/s/$s/;s/m/$m/;s/k/$k/" ; done; }
secs() { for r in "${results[@]}"; do IFS='|' read -r n s m k <<<"$r"; [ "$n" = "$1" ] && echo "$s"; done; }
rss() { for r in "${results[@]}"; do IFS='|' read -r n s m k <<<"$r"; [ "$n" = "$1" ] && echo "$k"; done; }
sg=$(secs "stackship layer (gzip -6)"); sp=$(secs "tar -cf - | pigz -p 2 -6"); sz=$(secs "stackship layer (zstd -3)")
check() { python3 -c "import sys; sys.exit(0 if $1 else 1)" && echo "met" || echo "NOT met"; }
gzip_vs_pigz=$(check "$sg <= $sp")
zstd_vs_gzip=$(check "$sg / $sz >= 3")
rss_ok=$(check "max($(rss "stackship layer (gzip -6)"), $(rss "stackship layer (zstd -3)")) < 100")

table="| tool | seconds | MB/s (of the $((tarbytes / 1000000)) MB tar) | peak RSS (MiB) |
| --- | ---: | ---: | ---: |"
for r in "${results[@]}"; do IFS='|' read -r n s m k <<<"$r"; table+=$'\n'"| $n | $s | $m | $k |"; done
targets="- gzip layers at least as fast as \`tar | pigz -p 2\`: $gzip_vs_pigz ($sg s vs $sp s)
- zstd layers at least 3x faster than gzip layers: $zstd_vs_gzip ($(python3 -c "print(f'{$sg/$sz:.1f}')")x)
- peak RSS under 100 MiB: $rss_ok"
echo
echo "$table"
echo
echo "$targets"
if [ "$update" = 1 ]; then
  python3 - "$table" "$targets" "$tarbytes" "$files" <<'PY'
import re, sys, subprocess, datetime
table, targets, tarbytes, files = sys.argv[1:5]
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True, text=True).stdout.strip()
section = f"""<!-- layer-build:start -->
Run on {datetime.date.today()}, {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, by `Benchmarks/layer-build/run.sh --update`.
Input: a generated tree of {files} small source-like files and 8 large log-like files, {int(tarbytes) // 1_000_000} MB as a tar, read from the page cache.

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
