"""The standalone gateway's HTTP adapter: com.sun.net.httpserver.HttpServer driven from Jython."""
import sys

from com.sun.net.httpserver import HttpHandler, HttpServer  # noqa: I100 - Jython only
from java.io import ByteArrayOutputStream
from java.lang import Throwable
from java.net import BindException, InetSocketAddress
from java.util.concurrent import Executors, TimeUnit
import jarray

from workflows_api.messages import Request, too_large

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024


def _read_body(stream):
    """The request body, or None when it is larger than MAX_BODY (answered with 413)."""
    out = ByteArrayOutputStream()
    buf = jarray.zeros(8192, "b")
    total = 0
    while total <= DRAIN_LIMIT:
        count = stream.read(buf)
        if count < 0:
            break
        total += count
        if total <= MAX_BODY:
            out.write(buf, 0, count)
    if total > MAX_BODY:
        return None  # read on (up to DRAIN_LIMIT) so the client sees the 413 instead of a broken pipe
    return out.toByteArray().tostring()


class _Handler(HttpHandler):
    def __init__(self, console):
        self.console = console

    def handle(self, exchange):
        try:
            uri = exchange.getRequestURI()
            headers = {}
            raw = exchange.getRequestHeaders()
            for name in raw.keySet():
                if name:
                    headers[name] = raw.getFirst(name)
            remote = exchange.getRemoteAddress()
            body = _read_body(exchange.getRequestBody())
            if body is None:
                response = too_large()
            else:
                request = Request(exchange.getRequestMethod(), uri.getRawPath(), uri.getRawQuery() or "", headers,
                                  body, remote=remote.getAddress().getHostAddress() if remote else None)
                response = self.console.handle(request)
            out_headers = exchange.getResponseHeaders()
            for name, value in response.headers:
                out_headers.add(name, value)
            body = response.body
            if exchange.getRequestMethod() == "HEAD" or response.status in (204, 304):
                exchange.sendResponseHeaders(response.status, -1)
            else:
                exchange.sendResponseHeaders(response.status, len(body) if body else -1)
                if body:
                    stream = exchange.getResponseBody()
                    stream.write(body)
                    stream.close()
        except:  # noqa: E722 - Java exceptions too: one broken exchange must not stop the server
            sys.stderr.write("console: request failed: %s\n" % (sys.exc_info()[1],))
        finally:
            exchange.close()


class JavaServer(object):
    def __init__(self, server, pool):
        self._server = server
        self._pool = pool
        self.port = server.getAddress().getPort()

    def stop(self):
        self._server.stop(0)
        self._pool.shutdown()
        self._pool.awaitTermination(5, TimeUnit.SECONDS)


class Listener(object):
    """The console's listening socket, bound but not served yet (connections wait in the backlog)."""

    def __init__(self, server):
        self._server = server
        self.port = server.getAddress().getPort()

    def serve(self, console, threads=8):
        self._server.createContext("/", _Handler(console))
        pool = Executors.newFixedThreadPool(threads)
        self._server.setExecutor(pool)
        self._server.start()
        return JavaServer(self._server, pool)

    def close(self):
        self._server.stop(0)


def listen(host, port):
    """Bind host:port now; AddressError (a Python exception) when the address is taken or cannot be bound."""
    from workflows_api.server import AddressError

    try:
        address = InetSocketAddress(host, port)
    except Throwable as exc:  # a port out of range
        raise AddressError(host, port, exc.getMessage() or exc.getClass().getName())
    if address.isUnresolved():
        raise AddressError(host, port, "unknown host")
    try:
        return Listener(HttpServer.create(address, 64))
    except BindException as exc:  # a Java exception: `except Exception` would not catch it
        raise AddressError(host, port, exc.getMessage() or "cannot bind", in_use="in use" in (exc.getMessage() or ""))
    except Throwable as exc:
        raise AddressError(host, port, exc.getMessage() or exc.getClass().getName())


def serve(console, host, port, threads=8):
    return listen(host, port).serve(console, threads)
