#!/usr/bin/env python3
"""A Docker Engine stand-in on a unix socket, for tests/e2e/engine-versions.sh.

It answers GET /_ping and GET /version itself, with the API versions it is told to claim, and refuses a
versioned request (/v1.NN/...) outside them with HTTP 400 and the message dockerd gives ("client version 1.41
is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version"). Every other
request goes to the real Engine (--upstream), its /v1.NN/ prefix rewritten to the version the real Engine
speaks, so a whole `stack run` can go through it.

Only stack's own requests (User-Agent stack/...) meet the floor: the compose tool of the machine (docker-compose
1.29 speaks what /version says, or 1.30) is passed through (its version lowered to the real Engine's when it is
above), because what is tested is stack's Engine API client.
Each request is logged as one line: "<agent> <method> <path> <status>".

usage: fake_engine.py SOCKET LOG --api 1.55 [--min 1.44] [--floor 1.44] [--upstream PATH]
                      [--refuse-image-inspect]
"""
import argparse
import http.client
import json
import os
import re
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler

VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "upgrade"}


def minor(v):
    return int(v.split(".")[1]) if v else None


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=300):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def make_handler(opts, log, lock, upstream_version):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-engine"
        sys_version = ""

        def address_string(self):
            return "unix"

        def log_message(self, fmt, *args):
            pass

        def note(self, status):
            agent = self.headers.get("User-Agent", "-").split("/")[0].split(" ")[0]
            with lock:
                log.write("%s %s %s %d\n" % (agent, self.command, self.path, status))
                log.flush()

        def body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def answer(self, status, payload, ctype="application/json", extra=None):
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.note(status)  # before answering: a client done with the answer may stop this server at once
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Api-Version", opts.api)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_any(self):
            body = self.body()
            path = self.path
            m = VERSIONED.match(path)
            rest = m.group(3) if m else path
            stack = self.headers.get("User-Agent", "").startswith("stack/")
            if m and stack:
                asked = int(m.group(2))
                floor = minor(opts.floor or opts.min)
                if floor is not None and asked < floor:
                    return self.answer(400, {"message": "client version 1.%d is too old. Minimum supported API "
                                                        "version is 1.%d, please upgrade your client to a newer "
                                                        "version" % (asked, floor)})
                if asked > minor(opts.api):
                    return self.answer(400, {"message": "client version 1.%d is too new. Maximum supported API "
                                                        "version is %s" % (asked, opts.api)})
            if rest.split("?")[0] == "/_ping":
                return self.answer(200, b"OK", "text/plain; charset=utf-8")
            if rest.split("?")[0] == "/version":
                v = {"Version": "29.0.0-fake", "ApiVersion": opts.api, "Os": "linux", "Arch": "amd64"}
                if opts.min:
                    v["MinAPIVersion"] = opts.min
                return self.answer(200, v)
            if opts.refuse_image_inspect and stack and re.match(r"^/images/.+/json$", rest.split("?")[0]):
                return self.answer(400, {"message": "simulated refusal of the image inspect"})
            if not opts.upstream:
                return self.answer(404, {"message": "page not found"})
            if re.match(r"^/containers/[^/]+/attach$", rest.split("?")[0]):
                # a hijacked stream, which this relay cannot pass on: docker-compose 1.29's `up --no-start`
                # attaches to the containers it created (never started); an empty stream ends that attach
                return self.answer(200, b"", "application/vnd.docker.raw-stream")
            if m and (stack or int(m.group(2)) > minor(upstream_version)):
                path = "/v%s%s" % (upstream_version, rest)
            conn = UnixHTTPConnection(opts.upstream)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            if body or self.command in ("POST", "PUT"):
                headers["Content-Length"] = str(len(body))
            try:
                conn.request(self.command, path, body=body if body else None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError as e:
                return self.answer(502, {"message": "upstream: %s" % e})
            finally:
                conn.close()
            self.note(resp.status)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP and k.lower() != "api-version":
                    self.send_header(k, v)
            self.send_header("Api-Version", opts.api)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("log")
    ap.add_argument("--api", required=True)
    ap.add_argument("--min")
    ap.add_argument("--floor", help="refuse stack's requests below this version (default: --min)")
    ap.add_argument("--upstream")
    ap.add_argument("--refuse-image-inspect", action="store_true")
    opts = ap.parse_args()
    upstream_version = None
    if opts.upstream:
        c = UnixHTTPConnection(opts.upstream, 10)
        c.request("GET", "/version")
        upstream_version = json.loads(c.getresponse().read())["ApiVersion"]
        c.close()
    if os.path.exists(opts.socket):
        os.unlink(opts.socket)
    log = open(opts.log, "a")
    srv = Server(opts.socket, make_handler(opts, log, threading.Lock(), upstream_version))
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
