#!/usr/bin/env bash
# Builds the libFuzzer harnesses (swift build -Xswiftc -sanitize=fuzzer,address) into
# .build-fuzz and runs each for SECONDS (default 600) on one core, from a seed corpus the
# harness writes itself plus the corpus earlier runs grew. Prints each target's figures.
#
# Usage: Fuzz/run.sh [SECONDS] [fuzz-tar|fuzz-json|fuzz-unpack ...]
# A crash leaves its input in .build-fuzz/work/TARGET/artifacts/; replay it with
# `.build-fuzz/release/TARGET INPUT`, then make it a test (see README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-600}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-tar fuzz-json fuzz-unpack)
scratch="$here/../.build-fuzz"
flags=(-c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address)

cd "$here"
swift build "${flags[@]}"
bin="$(swift build "${flags[@]}" --show-bin-path)"

status=0
for t in "${targets[@]}"; do
    dir="$scratch/work/$t"
    # Where fuzz-unpack's cases unpack: tmpfs when there is one (a case is all directory
    # operations: six times faster there than on this disk).
    cases="$dir/scratch"
    [ -d /dev/shm ] && [ -w /dev/shm ] && cases="/dev/shm/stackship-$t-$$"
    rm -rf "$dir/seeds" "$cases"
    mkdir -p "$dir/corpus" "$dir/artifacts" "$cases"
    STACKSHIP_FUZZ_WRITE_SEEDS="$dir/seeds" "$bin/$t"
    dict=()
    case "$t" in
        fuzz-json) dict=(-dict="$here/dict/json.dict") ;;
        *) dict=(-dict="$here/dict/tar.dict") ;;
    esac
    runas=()
    if [ "$t" = fuzz-unpack ] && [ "$(id -u)" = 0 ]; then
        # Unprivileged, so that an escape from the root cannot change the host (chown and
        # device nodes, which need root, are fuzzed by the test suite's UnpackFuzzTests).
        chown -R 65534:65534 "$dir" "$cases"
        runas=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
    echo "== $t: ${seconds}s"
    # -jobs=1: one job, logged to fuzz-0.log, on one core (the machine is shared).
    # -detect_leaks=0: LeakSanitizer reports objects a Swift global still holds (a Data's
    # storage, whose reference sits in an enum's packed payload) as leaked; AddressSanitizer's
    # memory errors are still fatal. SWIFT_BACKTRACE=enable=no: Swift's backtracer, reading
    # memory after an abort, trips AddressSanitizer and buries libFuzzer's report.
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no STACKSHIP_FUZZ_SCRATCH="$cases" "${runas[@]}" "$bin/$t" \
        -max_total_time="$seconds" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=4096 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${dict[@]}" \
        "$dir/corpus" "$dir/seeds" > "$dir/driver.log" 2>&1) || status=1
    rm -rf "$cases"
    log="$dir/fuzz-0.log"
    last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
    runs="$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)"
    rate="$(grep -E 'stat::average_exec_per_sec' "$log" | awk '{print $2}' | tail -1)"
    crashes="$(find "$dir/artifacts" -type f | wc -l)"
    echo "   executions: ${runs:-?}  exec/s: ${rate:-?}  crashes: $crashes"
    echo "   last status: ${last:-none}"
    [ "$crashes" = 0 ] || { echo "   artifacts:"; find "$dir/artifacts" -type f | sed 's/^/     /'; status=1; }
done
exit $status
