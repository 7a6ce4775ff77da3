#!/usr/bin/env python3
"""A small Docker registry token server for stackship's registry tests.

Implements the token protocol the CNCF distribution registry (2.8) speaks
(https://distribution.github.io/distribution/spec/auth/token/):

  GET  /token?service=S&scope=repository:NAME:pull,push&account=A   (HTTP Basic credentials)
  POST /token   form: grant_type=password (username, password) or
                      grant_type=refresh_token (refresh_token);
                      service, scope (space separated), client_id, access_type=offline

Tokens are JWTs signed RS256 with --key; the header names the key either by `kid`
(the libtrust fingerprint of the public key, which the registry looks up among the
certificates of its rootcertbundle) or by `x5c` (the certificate itself, which the
registry verifies against the rootcertbundle).

Every request is appended to --log as one JSON object per line.
Standard library plus the `cryptography` package only.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

# distribution 2.8 accepts tokens up to 60 s after `exp` (registry/auth/token/token.go: Leeway).
REGISTRY_LEEWAY = 60
KNOWN_ACTIONS = {"pull", "push", "delete", "*"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key) -> str:
    """libtrust's KeyID: base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo),
    in 12 groups of 4 characters joined by ':'."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(der).digest()[:30]
    encoded = base64.b32encode(digest).decode("ascii").rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def rfc3339(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Config:
    def __init__(self, args):
        with open(args.key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(args.cert, "rb") as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        self.kid = libtrust_key_id(self.cert.public_key())
        self.x5c = [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode("ascii")]
        self.header_mode = args.header
        self.service = args.service
        self.issuer = args.issuer
        self.username = args.username
        self.password = args.password
        self.lifetime = args.lifetime
        self.compensate_leeway = args.compensate_leeway
        self.anonymous_pull = args.anonymous_pull
        self.log_path = args.log
        self.log_lock = threading.Lock()
        self.refresh_tokens = {}  # refresh token -> username
        self.refresh_lock = threading.Lock()
        self.sequence = 0

    def sign(self, subject, access):
        now = int(time.time())
        exp = now + self.lifetime
        if self.compensate_leeway:
            # Make the registry itself reject the token `lifetime` seconds from now.
            exp -= REGISTRY_LEEWAY
        header = {"typ": "JWT", "alg": "RS256"}
        if self.header_mode == "x5c":
            header["x5c"] = self.x5c
        else:
            header["kid"] = self.kid
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,  # distribution 2.8 wants a string here, not a list
            "exp": exp,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = self.key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature), now

    def log(self, record):
        with self.log_lock:
            self.sequence += 1
            record["sequence"] = self.sequence
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
                f.flush()


def parse_scope(scope):
    """'repository:a/b:pull,push' -> ('repository', 'a/b', ['pull','push']). The name may hold ':'
    (a registry with a port) so split the type off the front and the actions off the back."""
    if scope.count(":") < 2:
        return None
    kind, rest = scope.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return kind, name, [a for a in actions.split(",") if a]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stackship-test-token-server"
    config: Config = None  # set before serving

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    # -- helpers ---------------------------------------------------------------------------

    def flush_record(self):
        """Logs the current request once. Called before the response goes out, so a client that
        has its answer always finds the request in the log."""
        record = getattr(self, "_record", None)
        if record is not None:
            self._record = None
            self.config.log(record)

    def reply(self, status, body, extra_headers=None):
        data = json.dumps(body).encode("utf-8")
        self.flush_record()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def basic_credentials(self):
        header = self.headers.get("Authorization")
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except Exception:
            return ("", "")
        return (user, password)

    def grant(self, user, scopes):
        """The access list for `user` (None = anonymous) given the requested scopes."""
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            kind, name, actions = parsed
            if user is not None and user == self.config.username:
                allowed = [a for a in actions if a in KNOWN_ACTIONS]
            elif user is None and self.config.anonymous_pull and kind == "repository":
                allowed = [a for a in actions if a == "pull"]
            else:
                allowed = []
            if allowed:
                access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def issue(self, user, scopes, record, offline=False, refresh_user=None, post=False):
        access = self.grant(user, scopes)
        token, now = self.config.sign(user or "", access)
        body = {"token": token, "access_token": token, "expires_in": self.config.lifetime,
                "issued_at": rfc3339(now)}
        if post:
            body["scope"] = " ".join(scopes)
        if offline and user is not None:
            refresh = secrets.token_urlsafe(24)
            with self.config.refresh_lock:
                self.config.refresh_tokens[refresh] = user
            body["refresh_token"] = refresh
        record["status"] = 200
        record["granted"] = access
        record["subject"] = user
        self.reply(200, body)

    def deny(self, status, message, record, challenge=False):
        record["status"] = status
        record["granted"] = []
        headers = {"WWW-Authenticate": 'Basic realm="stackship-test-token-server"'} if challenge else None
        self.reply(status, {"errors": [{"code": "UNAUTHORIZED" if status == 401 else "DENIED",
                                        "message": message}],
                            "details": message}, headers)

    def base_record(self, query_string):
        return {"time": time.time(), "method": self.command, "path": self.path.split("?", 1)[0],
                "query": query_string, "basicAuth": self.basic_credentials() is not None}

    # -- GET /token -------------------------------------------------------------------------

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        record = self._record = self.base_record(parsed.query)
        try:
            if parsed.path != "/token":
                record["status"] = 404
                self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": parsed.path}]})
                return
            query = urllib.parse.parse_qs(parsed.query)
            scopes = []
            for s in query.get("scope", []):
                scopes.extend(s.split(" "))  # some clients join several scopes with spaces
            scopes = [s for s in scopes if s]
            record["scopes"] = scopes
            record["service"] = (query.get("service") or [None])[0]
            record["account"] = (query.get("account") or [None])[0]
            if record["service"] not in (None, self.config.service):
                self.deny(400, "unknown service", record)
                return
            creds = self.basic_credentials()
            if creds is None:
                if not self.config.anonymous_pull:
                    self.deny(401, "authentication required", record, challenge=True)
                    return
                self.issue(None, scopes, record)
                return
            user, password = creds
            record["username"] = user
            if user != self.config.username or password != self.config.password:
                self.deny(401, "invalid username or password", record, challenge=True)
                return
            self.issue(user, scopes, record,
                       offline=(query.get("offline_token") or ["false"])[0] == "true")
        finally:
            self.flush_record()

    # -- POST /token (OAuth2) ---------------------------------------------------------------

    def do_POST(self):
        parsed = urllib.parse.urlsplit(self.path)
        record = self._record = self.base_record(parsed.query)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length > 0 else ""
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            if parsed.path != "/token":
                record["status"] = 404
                self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": parsed.path}]})
                return
            grant_type = form.get("grant_type")
            scopes = [s for s in form.get("scope", "").split(" ") if s]
            record.update({"grantType": grant_type, "scopes": scopes, "service": form.get("service"),
                           "clientID": form.get("client_id"), "accessType": form.get("access_type")})
            if form.get("service") not in (None, self.config.service):
                self.deny(400, "unknown service", record)
                return
            offline = form.get("access_type") == "offline"
            if grant_type == "password":
                user = form.get("username")
                record["username"] = user
                if user != self.config.username or form.get("password") != self.config.password:
                    self.deny(401, "invalid username or password", record)
                    return
                self.issue(user, scopes, record, offline=offline, post=True)
            elif grant_type == "refresh_token":
                with self.config.refresh_lock:
                    user = self.config.refresh_tokens.get(form.get("refresh_token") or "")
                record["username"] = user
                if user is None:
                    self.deny(401, "invalid refresh token", record)
                    return
                self.issue(user, scopes, record, offline=offline, post=True)
            else:
                self.deny(400, "unsupported grant_type", record)
        finally:
            self.flush_record()


def watch_parent(parent_pid):
    """Exit when the process that started us is gone, so a crashed test run leaves nothing behind."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True, help="PEM private key (RSA) that signs tokens")
    p.add_argument("--cert", required=True, help="PEM certificate of that key (the registry's rootcertbundle)")
    p.add_argument("--header", choices=["kid", "x5c"], default="kid")
    p.add_argument("--service", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--lifetime", type=int, default=300)
    p.add_argument("--compensate-leeway", action="store_true")
    p.add_argument("--anonymous-pull", action="store_true")
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--parent-pid", type=int, default=0)
    args = p.parse_args()

    # The test runner may start us with SIGTERM blocked or ignored (both are inherited across exec),
    # which would turn every stop() into a 5 s wait for SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    Handler.config = Config(args)
    open(args.log, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.port_file)  # atomic: the reader never sees a half-written port
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
