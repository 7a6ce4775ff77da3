# Shared by the benchmark scripts: run commands interleaved, keep medians, print and record a table.
#
#   bench_add NAME COMMAND [OUTPUT] [BYTES]
#                                     register a command (OUTPUT: a file whose size to report;
#                                     BYTES: its payload, default BENCH_BYTES, 0 for no MB/s)
#   bench_run RUNS [BEFORE]           run every command RUNS times, interleaved; BEFORE runs before each
#   bench_table                       the markdown table of median time, MB/s, peak RSS, output size
#   bench_secs NAME / bench_rss NAME  one command's median seconds / largest RSS (MiB)
#   bench_update SECTION TEXT         replace <!-- SECTION:start --> ... <!-- SECTION:end --> in BENCHMARKS.md
#
# Needs: GNU time at /usr/bin/time, python3. BENCH_BYTES (the payload size) turns times into MB/s.
bench_names=(); bench_commands=(); bench_outputs=(); bench_bytes=()
declare -A bench_times bench_rsses
bench_results=()

bench_add() { bench_names+=("$1"); bench_commands+=("$2"); bench_outputs+=("${3:-}"); bench_bytes+=("${4:-}"); }

bench_run() {
  local runs=$1 before=${2:-true} run i secs kb
  local tmp; tmp=$(mktemp -d)
  for run in $(seq 1 "$runs"); do
    for i in "${!bench_names[@]}"; do
      bash -c "$before" >/dev/null 2>&1 || true
      sync
      /usr/bin/time -o "$tmp/$i.time" -f "%e %M" bash -c "${bench_commands[$i]}" >/dev/null 2>"$tmp/$i.err" \
        || { echo "${bench_names[$i]} failed: $(cat "$tmp/$i.err")" >&2; exit 1; }
      read -r secs kb < <(tail -1 "$tmp/$i.time")
      bench_times[$i]+="$secs "
      bench_rsses[$i]+="$((kb / 1024)) "
      printf 'run %d  %-36s %7.2f s %6s MiB\n' "$run" "${bench_names[$i]}" "$secs" "$((kb / 1024))" >&2
    done
  done
  rm -rf "$tmp"
  bench_results=()
  for i in "${!bench_names[@]}"; do
    secs=$(python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" ${bench_times[$i]})
    local rss; rss=$(python3 -c "import sys; print(max(int(x) for x in sys.argv[1:]))" ${bench_rsses[$i]})
    local mbps="-" bytes=${bench_bytes[$i]:-${BENCH_BYTES:-0}}
    [ "$bytes" != 0 ] && mbps=$(python3 -c "print(f'{$bytes/1e6/max($secs,0.001):.0f}')")
    local out="-"
    [ -n "${bench_outputs[$i]}" ] && out=$(( $(bench_output_size "${bench_outputs[$i]}") / 1000000 ))
    bench_results+=("${bench_names[$i]};$secs;$mbps;$rss;$out")
  done
}

# The size of a tool's output: a file, or (for a directory) its largest file.
bench_output_size() {
  if [ -d "$1" ]; then find "$1" -type f -printf '%s\n' | sort -n | tail -1; else stat -c %s "$1"; fi
}

bench_field() { local r; for r in "${bench_results[@]}"; do [ "${r%%;*}" = "$1" ] && echo "$r" | cut -d';' -f"$2"; done; return 0; }
bench_secs() { bench_field "$1" 2; }
bench_rss() { bench_field "$1" 4; }

bench_table() {
  local runs=$1 label=$2 r n s m k o
  echo "| tool | seconds (median of $runs) | MB/s ($label) | peak RSS (MiB) | output (MB) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for r in "${bench_results[@]}"; do
    IFS=';' read -r n s m k o <<<"$r"
    echo "| \`${n//|/\\|}\` | $s | $m | $k | $o |"
  done
}

# Prints "met" or "NOT met" for a python expression.
bench_check() { python3 -c "import sys; sys.exit(0 if $1 else 1)" && echo "met" || echo "NOT met"; }

bench_update() {
  python3 - "$1" "$2" <<'PY'
import re, sys, subprocess, datetime
section, body = sys.argv[1:3]
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True, text=True).stdout.strip()
cores = subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()
block = f"<!-- {section}:start -->\nRun on {datetime.date.today()}, {cpu}, {cores} cores.\n{body}\n<!-- {section}:end -->"
text = open("BENCHMARKS.md").read()
pattern = re.compile(rf"<!-- {section}:start -->.*<!-- {section}:end -->", re.S)
text = pattern.sub(lambda m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
}
