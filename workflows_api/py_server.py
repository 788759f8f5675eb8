"""A CPython adapter (http.server) for tests and tools; the product serves the console from Jython."""
import errno
import socket
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover - Python 2
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer as ThreadingHTTPServer

from workflows_api.messages import Request, too_large

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024


def _handler_class(console):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                response = too_large()
                self.close_connection = True
                left = min(length, DRAIN_LIMIT)
                while left > 0:  # read what the client sends, so it sees the answer instead of a broken pipe
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
            else:
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, path, query, dict(self.headers.items()), body,
                                  remote=self.client_address[0])
                response = console.handle(request)
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        def log_message(self, *args):
            pass

    return Handler


class PyServer(object):
    def __init__(self, server, thread):
        self._server = server
        self._thread = thread
        self.port = server.server_address[1]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class Listener(object):
    """The console's listening socket, bound but not served yet (connections wait in the backlog)."""

    def __init__(self, server):
        self._server = server
        self.port = server.server_address[1]

    def serve(self, console):
        self._server.RequestHandlerClass = _handler_class(console)
        thread = threading.Thread(target=self._server.serve_forever, name="console-http")
        thread.daemon = True
        thread.start()
        return PyServer(self._server, thread)

    def close(self):
        self._server.server_close()


def listen(host, port):
    """Bind host:port now; AddressError when the address is taken or cannot be bound."""
    from workflows_api.server import AddressError

    try:
        server = ThreadingHTTPServer((host, port), BaseHTTPRequestHandler)
    except socket.gaierror as exc:
        raise AddressError(host, port, "unknown host (%s)" % (exc,))
    except (OSError, socket.error) as exc:
        in_use = getattr(exc, "errno", None) == errno.EADDRINUSE
        raise AddressError(host, port, "address in use" if in_use else str(exc), in_use=in_use)
    server.daemon_threads = True
    return Listener(server)


def serve(console, host, port):
    return listen(host, port).serve(console)
