#!/usr/bin/env python3
"""serve.py - a lean static HTTP server for the fetch benchmark (python3 stdlib only).

    python3 serve.py --root DIR --port-file FILE

Binds 127.0.0.1 on a free port and writes the port into FILE (atomically) once listening. GET and HEAD of the
files under DIR, with Content-Length, Last-Modified and a weak ETag made from size and mtime (so nothing is read
or hashed before the response starts), and the body sent with sendfile(2): the server costs as little as it can,
the same for stack fetch and for the curl baseline. tests/e2e/catalog_server.py reads and hashes the whole file
on every request (for its strong ETag) and copies it through Python, which would hide the clients' own cost.
No Range, no conditional requests: the benchmark needs neither. SIGTERM stops it.
"""
import argparse
import email.utils
import http.server
import os
import signal
import sys
import threading
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stack-bench/1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.serve(head=False)

    def do_HEAD(self):
        self.serve(head=True)

    def serve(self, head):
        root = self.server.root
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        full = os.path.realpath(os.path.join(root, rel))
        if not rel or not full.startswith(root + os.sep) or not os.path.isfile(full):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(full, "rb") as f:
            st = os.fstat(f.fileno())
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("Last-Modified", email.utils.formatdate(int(st.st_mtime), usegmt=True))
            self.send_header("ETag", 'W/"%x-%x"' % (st.st_size, st.st_mtime_ns))
            self.end_headers()
            if head:
                return
            self.wfile.flush()
            try:
                self.connection.sendfile(f)
            except OSError:
                self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients hanging up mid-body are not our concern
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="static HTTP server for the stack fetch benchmark")
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.root = os.path.realpath(args.root)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
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
