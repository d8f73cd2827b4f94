#!/usr/bin/env python3
"""catalog_server.py - a real HTTP catalog server for the fetch end-to-end tests (python3 stdlib only).

    python3 catalog_server.py --root DIR --port-file FILE --log FILE

Binds 127.0.0.1 on a free port, writes the port into FILE (atomically) once listening, and appends one line per
request to the log, written before the response goes out: `METHOD PATH STATUS` (`GET /index.json 304`).

Files under DIR are served with Content-Length, Last-Modified and a strong ETag (the quoted SHA-256 of the
content). If-None-Match (-> 304; it takes precedence over If-Modified-Since, RFC 9110 13.2.2), If-Modified-Since
(-> 304), Range `bytes=N-` and `bytes=N-M` (-> 206 with Content-Range; If-Range honoured; past the end -> 416).

Fault injection by path prefix; the rest of the path names a real file under DIR:
    /404/...           404
    /500/...           500, every time
    /flaky500/...      500 on the first request for that exact path, then normal
    /reset/...         headers with the full Content-Length, half the body, then an abrupt close (RST), every time
    /resetonce/...     as /reset/ on the first request for that exact path only, then normal (Range included)
    /resetnorange/...  as /resetonce/, but later requests ignore Range (200 with the whole body)
    /endless/...       200 without Content-Length: the file, then zero bytes until the client hangs up
    /redirect-file/... 302 to file:///etc/passwd
    /redirect-same/... 302 to the same path without the prefix (same scheme, same host)
    /slow/...          normal, but sleeps 0.2 s before the body
The only state is the per-path first-request memory of /flaky500/ and /resetonce/. SIGTERM stops it cleanly.
"""
import argparse
import ssl
import email.utils
import hashlib
import http.server
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

PREFIXES = ("404", "500", "flaky500", "reset", "resetonce", "resetnorange", "endless", "redirect-file", "redirect-same", "slow")
ENDLESS_CAP = 16 << 30  # a client that never hangs up gets 16 GiB of zeros, then the connection closes
CHUNK = 64 * 1024


class State:
    def __init__(self, root, log_path):
        self.root = os.path.realpath(root)
        self.log_path = log_path
        self.lock = threading.Lock()
        self.seen = set()  # paths (prefix included) already requested once: flaky500 / resetonce

    def first_time(self, path):
        with self.lock:
            if path in self.seen:
                return False
            self.seen.add(path)
            return True

    def log(self, method, path, status):
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write("%s %s %d\n" % (method, path, status))
                f.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stack-test-catalog/1"

    def log_message(self, fmt, *args):  # quiet: the request log is ours
        pass

    def do_GET(self):
        self.serve(head=False)

    def do_HEAD(self):
        self.serve(head=True)

    # -- helpers -----------------------------------------------------------------------------------------
    def simple(self, status, body=b"", headers=()):
        st = self.server.state
        st.log(self.command, self.path, status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def abort_connection(self):
        """Close the socket at once with SO_LINGER 0, so the peer gets an RST instead of a clean FIN."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        time.sleep(0.2)  # let what was written reach the client before the RST discards the send queue
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def resolve(self, rel):
        """The file under root that rel names, or None (missing, a directory, or outside root)."""
        rel = urllib.parse.unquote(rel).lstrip("/")
        if not rel:
            return None
        full = os.path.realpath(os.path.join(self.server.state.root, rel))
        root = self.server.state.root
        if full != root and not full.startswith(root + os.sep):
            return None
        if not os.path.isfile(full):
            return None
        return full

    # -- the request ---------------------------------------------------------------------------------------
    def serve(self, head):
        st = self.server.state
        raw_path = self.path
        path = urllib.parse.urlsplit(raw_path).path
        parts = path.lstrip("/").split("/", 1)
        prefix = parts[0] if len(parts) == 2 and parts[0] in PREFIXES else None
        rel = parts[1] if prefix else path

        if prefix == "404":
            return self.simple(404, b"not found\n")
        if prefix == "500":
            return self.simple(500, b"internal error\n")
        if prefix == "redirect-file":
            return self.simple(302, b"", [("Location", "file:///etc/passwd")])
        if prefix == "redirect-same":
            host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
            return self.simple(302, b"", [("Location", "http://%s/%s" % (host, rel))])

        full = self.resolve(rel)
        if full is None:
            return self.simple(404, b"not found\n")
        if prefix == "flaky500" and st.first_time(path):
            return self.simple(500, b"flaky: try again\n")
        reset = prefix == "reset" or (prefix in ("resetonce", "resetnorange") and st.first_time(path))

        with open(full, "rb") as f:
            data = f.read()
            mtime = int(os.fstat(f.fileno()).st_mtime)
        size = len(data)
        etag = '"%s"' % hashlib.sha256(data).hexdigest()
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        validators = [("ETag", etag), ("Last-Modified", last_modified)]

        if prefix == "endless":
            st.log(self.command, raw_path, 200)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if head:
                return
            try:
                self.wfile.write(data)
                zeros = bytes(CHUNK)
                sent = 0
                while sent < ENDLESS_CAP:
                    self.wfile.write(zeros)
                    sent += CHUNK
            except OSError:
                pass
            return

        # Conditional requests: If-None-Match wins over If-Modified-Since when both are sent.
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        not_modified = False
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            not_modified = "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
        elif ims is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
                not_modified = mtime <= since
            except (TypeError, ValueError, IndexError, OverflowError):
                not_modified = False
        if not_modified and not reset:
            st.log(self.command, raw_path, 304)
            self.send_response(304)
            for k, v in validators:
                self.send_header(k, v)
            self.end_headers()
            return

        # Range: bytes=N- or bytes=N-M (one range only), subject to If-Range.
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if rng and not reset and prefix != "resetnorange" and (if_range is None or if_range in (etag, last_modified)):
            spec = rng.strip()
            if spec.startswith("bytes=") and "," not in spec:
                first, _, last = spec[len("bytes="):].partition("-")
                try:
                    if first:
                        start = int(first)
                        end = min(int(last), size - 1) if last else size - 1
                    elif last:  # suffix range: the last N bytes
                        start = max(size - int(last), 0)
                    if start >= size or start > end:
                        return self.simple(416, b"", [("Content-Range", "bytes */%d" % size)])
                    status = 206
                except ValueError:
                    start, end, status = 0, size - 1, 200
        body = data[start:end + 1] if size else b""

        st.log(self.command, raw_path, status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        for k, v in validators:
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        try:
            if reset:
                self.wfile.write(body[: len(body) // 2])
                self.abort_connection()
                return
            if prefix == "slow":
                self.wfile.flush()
                time.sleep(0.2)
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients hanging up mid-body are expected here
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="HTTP catalog server for the stack fetch tests")
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = ap.parse_args()
    if not os.path.isdir(args.root):
        ap.error("--root %s is not a directory" % args.root)

    server = Server(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.state = State(args.root, args.log)
    open(args.log, "a").close()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)

    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
