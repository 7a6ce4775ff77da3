#!/usr/bin/env python3
"""A fault-injecting loopback reverse proxy for stackship's registry retry tests.

Clients talk to the proxy as if it were the registry. Requests are forwarded to --upstream
with http.client, bodies streamed both ways, and `Location` headers naming the upstream's
origin are rewritten to the proxy's so upload URLs keep coming through the proxy.

--rules is a JSON file holding a list of rules, tried in order; the first rule that matches a
request and has uses left fires:

  {"match": {"method": "GET", "path_regex": "^/v2/.+/blobs/"},   # both optional; regex is re.search
   "action": "status",   "code": 429, "retry_after": 1, "body": "...", "headers": {...},
   "times": 1}                                                    # -1: every time
  {"match": ..., "action": "reset"}             # close the TCP connection with RST, no response
  {"match": ..., "action": "redirect", "location": "http://127.0.0.1:PORT", "append_path": true,
   "code": 302}
  {"match": ..., "action": "delay", "seconds": 2}  # wait, then pass through

Every request is appended to --log as one JSON object per line: method, path, query, headers,
whether an Authorization header was present, the rule that fired (its index) and the status.
Standard library only.
"""

import argparse
import http.client
import io
import json
import os
import re
import signal
import select
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade"}
CHUNK = 64 * 1024


class State:
    def __init__(self, args):
        with open(args.rules, "r", encoding="utf-8") as f:
            self.rules = json.load(f)
        for rule in self.rules:
            match = rule.get("match") or {}
            rule["_regex"] = re.compile(match["path_regex"]) if match.get("path_regex") else None
            rule["_method"] = (match.get("method") or "").upper() or None
            rule["_left"] = int(rule.get("times", 1))
        up = urllib.parse.urlsplit(args.upstream)
        self.upstream_scheme = up.scheme or "http"
        self.upstream_host = up.hostname or "127.0.0.1"
        self.upstream_port = up.port or (443 if self.upstream_scheme == "https" else 80)
        self.upstream_netloc = up.netloc
        self.upstream_origin = "%s://%s" % (self.upstream_scheme, up.netloc)
        self.ssl_context = None
        if self.upstream_scheme == "https":
            self.ssl_context = ssl.create_default_context(cafile=args.upstream_ca) if args.upstream_ca \
                else ssl._create_unverified_context()
        self.proxy_origin = None  # set once the port is known
        self.log_path = args.log
        self.lock = threading.Lock()
        self.sequence = 0

    def pick_rule(self, method, path):
        with self.lock:
            for index, rule in enumerate(self.rules):
                if rule["_left"] == 0:
                    continue
                if rule["_method"] and rule["_method"] != method:
                    continue
                if rule["_regex"] and not rule["_regex"].search(path):
                    continue
                if rule["_left"] > 0:
                    rule["_left"] -= 1
                return index, rule
        return None, None

    def next_sequence(self):
        with self.lock:
            self.sequence += 1
            return self.sequence

    def log(self, record):
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
                f.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stackship-test-fault-proxy"
    state: State = None

    def log_message(self, fmt, *args):
        pass

    # -- request bodies ---------------------------------------------------------------------

    def body_chunks(self):
        """Yields the request body as it arrives (Content-Length or chunked)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed mid-body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers, up to the blank line
                    while True:
                        trailer = self.rfile.readline(65537)
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    return
                remaining = size
                while remaining > 0:
                    data = self.rfile.read(min(CHUNK, remaining))
                    if not data:
                        raise ConnectionError("client closed mid-body")
                    remaining -= len(data)
                    yield data
                self.rfile.readline(3)  # CRLF after the chunk
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining > 0:
                data = self.rfile.read(min(CHUNK, remaining))
                if not data:
                    raise ConnectionError("client closed mid-body")
                remaining -= len(data)
                yield data

    def has_body(self):
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower() or \
            int(self.headers.get("Content-Length") or 0) > 0

    def drain(self):
        for _ in self.body_chunks():
            pass

    # -- actions ----------------------------------------------------------------------------

    def reset(self):
        """Closes the connection with a TCP RST: SO_LINGER on, timeout 0."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.rfile, self.wfile, self.connection):  # the fd closes once all three are closed
            try:
                f.close()
            except OSError:
                pass
        self.wfile = io.BytesIO()  # BaseHTTPRequestHandler flushes wfile after the method returns
        self.rfile = io.BytesIO()

    def simple_response(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def rewrite_location(self, value):
        origin = self.state.upstream_origin
        if value.startswith(origin):
            return self.state.proxy_origin + value[len(origin):]
        # http.client may see the upstream as "localhost" while it answers with 127.0.0.1, or the reverse
        parsed = urllib.parse.urlsplit(value)
        if parsed.port == self.state.upstream_port and parsed.hostname in ("127.0.0.1", "localhost"):
            return self.state.proxy_origin + value[len("%s://%s" % (parsed.scheme, parsed.netloc)):]
        return value

    def forward(self, truncate_after=None, extra_headers=None):
        """Passes the request upstream and the answer back. With truncate_after, the connection
        is reset once that many body bytes have gone back (a transfer cut mid-body); with
        extra_headers, those headers are added to the answer."""
        st = self.state
        if st.upstream_scheme == "https":
            conn = http.client.HTTPSConnection(st.upstream_host, st.upstream_port, timeout=60,
                                               context=st.ssl_context)
        else:
            conn = http.client.HTTPConnection(st.upstream_host, st.upstream_port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", st.upstream_netloc)
            chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            for name, value in self.headers.items():
                lower = name.lower()
                if lower in HOP_BY_HOP or lower == "host":
                    continue
                conn.putheader(name, value)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for data in self.body_chunks():
                if chunked:
                    conn.send(b"%x\r\n" % len(data) + data + b"\r\n")
                else:
                    conn.send(data)
            if chunked:
                conn.send(b"0\r\n\r\n")

            resp = conn.getresponse()
            self._record["status"] = resp.status
            self.flush_record()
            self.send_response_only(resp.status, resp.reason)
            length = resp.getheader("Content-Length")
            no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
            for name, value in resp.getheaders():
                lower = name.lower()
                if lower in HOP_BY_HOP:
                    continue
                if lower == "location":
                    value = self.rewrite_location(value)
                self.send_header(name, value)
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            rechunk = not no_body and length is None
            if rechunk:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not no_body:
                sent = 0
                while True:
                    data = resp.read(CHUNK)
                    if not data:
                        break
                    if truncate_after is not None and sent + len(data) >= truncate_after:
                        self.wfile.write(data[:max(0, truncate_after - sent)])
                        self.wfile.flush()
                        self._record["truncated_at"] = truncate_after
                        # A plain close (FIN, not RST), so the bytes already sent arrive and
                        # the client sees the body end early.
                        self.close_connection = True
                        try:
                            self.connection.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
                    sent += len(data)
                    if rechunk:
                        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                    else:
                        self.wfile.write(data)
                if rechunk:
                    self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            conn.close()

    # -- dispatch ---------------------------------------------------------------------------

    def flush_record(self):
        """Logs the current request once. Called before anything goes back to the client, so a
        client that has its answer (or its reset) always finds the request in the log."""
        record = getattr(self, "_record", None)
        if record is not None and not record.get("_logged"):
            record["_logged"] = True
            self.state.log({k: v for k, v in record.items() if not k.startswith("_")})

    def handle_any(self):
        parsed = urllib.parse.urlsplit(self.path)
        index, rule = self.state.pick_rule(self.command, parsed.path)
        action = rule.get("action") if rule else None
        record = self._record = {
            "sequence": self.state.next_sequence(),
            "time": time.time(),
            "method": self.command,
            "path": parsed.path,
            "query": parsed.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "authorization": self.headers.get("Authorization") is not None,
            "rule": index,
            "action": action,
            "status": None,
        }
        try:
            if action == "reset":
                self.flush_record()
                self.reset()
            elif action == "status":
                if self.has_body():
                    self.drain()
                code = int(rule.get("code", 503))
                headers = dict(rule.get("headers") or {})
                if rule.get("retry_after") is not None:
                    headers["Retry-After"] = str(rule["retry_after"])
                body = rule.get("body")
                if body is None:
                    body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS" if code == 429 else "UNAVAILABLE",
                                                   "message": "injected by fault proxy"}]})
                    headers.setdefault("Content-Type", "application/json")
                record["status"] = code
                self.flush_record()
                self.simple_response(code, body.encode("utf-8"), headers)
            elif action == "redirect":
                if self.has_body():
                    self.drain()
                location = rule.get("location", "")
                if rule.get("append_path", True):
                    location = location.rstrip("/") + self.path
                code = int(rule.get("code", 302))
                record["status"] = code
                record["location"] = location
                self.flush_record()
                self.simple_response(code, b"", {"Location": location})
            elif action == "truncate":
                self.forward(truncate_after=int(rule.get("bytes", 0)))
            elif action == "headers":
                self.forward(extra_headers=dict(rule.get("headers") or {}))
            else:
                if action == "delay":
                    time.sleep(float(rule.get("seconds", 1)))
                self.forward()
        except (ConnectionError, OSError, http.client.HTTPException) as e:
            self.close_connection = True
            if not record.get("_logged"):
                # Upstream down or the client went away before an answer: a 502 if we still can.
                record["error"] = str(e)
                record["status"] = 502
                self.flush_record()
                try:
                    self.simple_response(502, b"upstream error: " + str(e).encode("utf-8"),
                                         {"Connection": "close"})
                except OSError:
                    pass
        finally:
            self.flush_record()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    def do_CONNECT(self):
        """Forward-proxy tunnelling (clients given HTTPS_PROXY use CONNECT even for http://
        targets): whatever host is named, the tunnel leads to the upstream registry, so a
        registry name that resolves nowhere still works through the proxy. Only the CONNECT
        itself is logged; what goes through the tunnel is opaque here."""
        st = self.state
        self._record = {
            "sequence": st.next_sequence(), "time": time.time(), "method": "CONNECT", "path": self.path, "query": "",
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "authorization": self.headers.get("Authorization") is not None, "rule": None, "action": "tunnel", "status": 200,
        }
        self.flush_record()
        try:
            upstream = socket.create_connection((st.upstream_host, st.upstream_port), timeout=30)
        except OSError as e:
            self.simple_response(502, b"upstream error: " + str(e).encode("utf-8"), {"Connection": "close"})
            return
        self.send_response_only(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        client = self.connection
        try:
            sockets = [client, upstream]
            while True:
                readable, _, broken = select.select(sockets, [], sockets, 60)
                if broken or not readable:
                    break
                done = False
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        done = True
                        break
                    (upstream if s is client else client).sendall(data)
                if done:
                    break
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True


def watch_parent(parent_pid):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    p.add_argument("--upstream-ca", default=None, help="CA bundle for an https upstream")
    p.add_argument("--rules", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--parent-pid", type=int, default=0)
    args = p.parse_args()

    # The test runner may start us with SIGTERM blocked or ignored (both are inherited across exec),
    # which would turn every stop() into a 5 s wait for SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    state = State(args)
    Handler.state = state
    open(args.log, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    state.proxy_origin = "http://127.0.0.1:%d" % port
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.port_file)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
