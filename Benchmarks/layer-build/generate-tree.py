#!/usr/bin/env python3
"""Generates the benchmark tree: tens of thousands of small source-like files plus some large
log-like text files, about TOTAL bytes in all. Deterministic (fixed seed), so every run and
every machine measures the same input."""
import os, random, sys

root = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
small_files = int(sys.argv[3]) if len(sys.argv) > 3 else 40000
marker = os.path.join(root, ".complete")
if os.path.exists(marker) and open(marker).read() == f"{total} {small_files}":
    sys.exit(0)
if os.path.exists(root):
    import shutil
    shutil.rmtree(root)  # made with other parameters: start again so the input is exact

rng = random.Random(20261122)
identifiers = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rng.randint(3, 14))) for _ in range(3000)]
keywords = ["let", "var", "func", "return", "if", "else", "for", "in", "struct", "class", "import", "guard", "try", "throw"]

def source_file(size):
    out, n = [], 0
    while n < size:
        indent = "    " * rng.randint(0, 3)
        line = indent + " ".join(rng.choice(keywords) if rng.random() < 0.3 else rng.choice(identifiers) for _ in range(rng.randint(2, 10)))
        line += rng.choice(["", " {", " }", "()", " = 0", ";"]) + "\n"
        out.append(line)
        n += len(line)
    return "".join(out)[:size]

levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
def log_chunk(size, t):
    out, n = [], 0
    while n < size:
        t += rng.randint(1, 900)
        line = "2026-11-%02d %02d:%02d:%02d.%03d %-5s [%s] %s %s=%d %s\n" % (
            1 + (t // 86400000) % 28, (t // 3600000) % 24, (t // 60000) % 60, (t // 1000) % 60, t % 1000,
            rng.choice(levels), rng.choice(identifiers), " ".join(rng.choice(identifiers) for _ in range(rng.randint(3, 9))),
            rng.choice(identifiers), rng.randint(0, 99999), rng.choice(["ok", "retry", "done", "queued", "miss"]))
        out.append(line)
        n += len(line)
    return "".join(out)[:size], t

os.makedirs(root, exist_ok=True)
small_total = 0
for i in range(small_files):
    d = os.path.join(root, "src", "mod%03d" % (i % 400), "pkg%02d" % ((i // 400) % 25))
    os.makedirs(d, exist_ok=True)
    size = int(rng.lognormvariate(8.3, 0.9))
    size = max(64, min(size, 64 * 1024))
    with open(os.path.join(d, "file%05d.swift" % i), "w") as f:
        f.write(source_file(size))
    small_total += size

remaining = max(0, total - small_total)
large = 8
os.makedirs(os.path.join(root, "logs"), exist_ok=True)
t = 0
for i in range(large):
    with open(os.path.join(root, "logs", "service%d.log" % i), "w") as f:
        left = remaining // large
        while left > 0:
            chunk, t = log_chunk(min(left, 4 << 20), t)
            f.write(chunk)
            left -= len(chunk)
open(marker, "w").write(f"{total} {small_files}")
