#!/usr/bin/env python3
"""A small HTTP server for the stream tests, on 127.0.0.1 only.

    http-server.py DIR PORTFILE [--ranges] [--drop-after N] [--status CODE]
                   [--require-header 'NAME: VALUE']

Serves the files of DIR.  The port it listens on (chosen by the system) is
written to PORTFILE once it listens.  --ranges answers "Range: bytes=N-"
with 206 and says "Accept-Ranges: bytes"; --drop-after N closes every
connection after N bytes of body; --status CODE answers every request with
that status and no body; --require-header answers 403 to a request
without that header.  The request log goes to stderr.
"""
import argparse
import http.server
import os
import re
import socketserver


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("portfile")
    parser.add_argument("--ranges", action="store_true")
    parser.add_argument("--drop-after", type=int, default=0)
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--require-header", default="")
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            status = args.status
            if args.require_header:
                name, value = args.require_header.split(":", 1)
                if self.headers.get(name) != value.strip():
                    status = 403
            if status:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = os.path.join(args.dir, os.path.basename(self.path))
            if not os.path.isfile(path):
                self.send_error(404)
                return
            size = os.path.getsize(path)
            start = 0
            match = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if args.ranges and match:
                start = int(match.group(1))
                self.send_response(206)
                self.send_header("Content-Range",
                                 "bytes %d-%d/%d" % (start, size - 1, size))
            else:
                self.send_response(200)
            if args.ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            budget = args.drop_after or size
            with open(path, "rb") as f:
                f.seek(start)
                while budget > 0:
                    chunk = f.read(min(65536, budget))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    budget -= len(chunk)
            if args.drop_after:
                self.close_connection = True

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    with open(args.portfile + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(args.portfile + ".tmp", args.portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
