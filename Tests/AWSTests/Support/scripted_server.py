#!/usr/bin/env python3
"""A loopback HTTP server that answers requests with scripted responses, in order, and logs
each request it saw (method, path, headers) as JSON lines. For AWSTests paths moto cannot
produce: throttling answers (retry tests) and the ECS/CodeBuild container credentials endpoint.

usage: scripted_server.py SCRIPT.json LOG.jsonl PORTFILE
SCRIPT.json: [{"status": 400, "headers": {...}, "body": "..."}, ...]; the last one repeats.
The chosen port is written to PORTFILE once the server listens.
"""
import http.server, json, sys, threading

script = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
lock = threading.Lock()
count = [0]

class Handler(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with lock:
            answer = script[min(count[0], len(script) - 1)]
            count[0] += 1
            with open(log_path, "a") as log:
                log.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers)}) + "\n")
        body = answer.get("body", "").encode()
        self.send_response(answer.get("status", 200))
        for k, v in answer.get("headers", {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_one

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
