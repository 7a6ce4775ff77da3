#!/usr/bin/env python3
"""Times from starting a command to the first HTTP 200 on /ping: runs COMMAND (a shell string),
then polls 127.0.0.1:PORT every millisecond. Prints seconds. Polling is in-process, so both
sides of a comparison pay the same small cost."""
import socket, subprocess, sys, time

port, command = int(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
proc = subprocess.Popen(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = start + 30
while True:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            if data.startswith(b"HTTP/1.1 200"):
                break
    except OSError:
        pass
    if time.perf_counter() > deadline:
        # Not proc.stderr.read(): a detached container may hold the pipe open for ever.
        print(f"timeout: nothing answered 200 on port {port} within 30 s", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.001)
elapsed = time.perf_counter() - start
proc.wait()
print(f"{elapsed:.4f}")
