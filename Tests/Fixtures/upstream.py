#!/usr/bin/env python3
"""A real HTTP upstream for Idem's tests: counts executions in a file, can be slow or fail.

usage: upstream.py PORT LOGFILE
  POST /orders...      append a line to LOGFILE, answer 201 + Location + Set-Cookie
  POST /slow?ms=N      sleep N ms, then as /orders
  POST /fail           append a line, answer 500
  anything else        answer 200 with what was received (method, path, query, headers)
"""
import json
import signal
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(sys.argv[1])
LOG = sys.argv[2]
lock = threading.Lock()


def record(line):
    with lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")
        with open(LOG) as f:
            return sum(1 for _ in f)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms Nagle stall

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        seen = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "body": body,
            "key": self.headers.get("Idempotency-Key"),
            "forwardedFor": self.headers.get("X-Forwarded-For"),
            "connection": self.headers.get("Connection"),
        }
        if url.path == "/slow":
            time.sleep(int(parse_qs(url.query).get("ms", ["500"])[0]) / 1000)
        if url.path.startswith("/orders") or url.path == "/slow":
            n = record(json.dumps(seen))
            self.answer(201, dict(seen, order=n), [("Location", "/orders/%d" % n), ("Set-Cookie", "upstream=%d" % n)])
        elif url.path == "/fail":
            record(json.dumps(seen))
            self.answer(500, {"error": "upstream failed"})
        else:
            self.answer(200, seen)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN: a DNS wait on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", PORT


# A test runner may hand its children a blocked SIGTERM: take it back, and exit on it.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server = Server(("127.0.0.1", PORT), Handler)
print("ready", flush=True)
server.serve_forever()
