"""The HTTP client every host provides for the http step (exchange.workflows.steps.http), and two of its adapters:
urllib.request (CPython: tests and tools) and the JDK's java.net.http.HttpClient (the standalone gateway under
Jython). Ignition's system.net.httpClient is in host/ignition_http.py.

    client.send(method, url, headers, body, timeout_seconds) -> HttpResponse(status, headers, body, url)

The request arrives ready to go: its query string is in the url, headers is {name: text}, body is bytes or None.
The response's headers are {lower-case name: value} (a header sent several times has its values joined with ", "),
its body is bytes and its url the one that answered (after redirects: the Java adapters follow them as a browser
does, never from https to http; urllib as Python does). Every status is a response, judging it is the step's job;
a request that gets no response at all (refused, unknown host, reset, timed out) raises NoResponse naming the url.
"""
import socket
import threading

from exchange.workflows.util.compat import to_text
from exchange.workflows.util.errors import InvalidArgument

CONNECT_TIMEOUT_SECONDS = 10  # at most; a shorter request timeout bounds the connection too


class HttpResponse(object):
    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url


class NoResponse(Exception):
    """The request got no HTTP response: the server could not be reached, or did not answer in time."""

    def __init__(self, url, reason):
        Exception.__init__(self, "no response from %s: %s" % (url, reason))
        self.url = url
        self.reason = reason


class HttpClient(object):
    """Base class of the HTTP adapters; the methods below say what each must do."""

    def send(self, method, url, headers, body, timeout_seconds):
        """Send one request and read the whole response: an HttpResponse, or NoResponse."""
        raise NotImplementedError

    def close(self):
        """Release what the client holds (nothing by default)."""


def joined_headers(pairs):
    """{lower-case name: value} of (name, value) pairs, the values of a repeated name joined with ", "."""
    out = {}
    for name, value in pairs:
        key = to_text(name).lower()
        if key.startswith(":"):  # HTTP/2 pseudo-headers (":status") are not headers
            continue
        value = to_text(value)
        out[key] = out[key] + u", " + value if key in out else value
    return out


def default_client():
    """The client of this runtime: the JDK's under Jython, urllib's under CPython."""
    from exchange.workflows.host.hosts import is_jython

    return JdkClient() if is_jython() else UrllibClient()


# -- CPython -----------------------------------------------------------------------------------------------------------

class UrllibClient(HttpClient):
    """urllib.request, with the proxies of the environment (http_proxy, no_proxy) as any Python program."""

    def __init__(self):
        import urllib.request

        self._request = urllib.request
        self._opener = urllib.request.build_opener()

    def send(self, method, url, headers, body, timeout_seconds):
        import http.client
        import urllib.error

        request = self._request.Request(url, data=body, headers=dict(headers), method=method)
        try:
            try:
                response = self._opener.open(request, timeout=timeout_seconds)
            except urllib.error.HTTPError as answered:  # a status urllib calls an error is still a response
                response = answered
            try:
                data = response.read()
                return HttpResponse(response.getcode(), joined_headers(response.headers.items()), data,
                                    response.geturl())
            finally:
                response.close()
        except urllib.error.URLError as exc:
            raise NoResponse(url, _reason(exc.reason))
        except (socket.timeout, http.client.HTTPException, OSError) as exc:
            raise NoResponse(url, _reason(exc))


def _reason(error):
    if isinstance(error, socket.timeout):
        return "timed out"
    return to_text(u"%s" % (error,)) or type(error).__name__


# -- Jython: the standalone gateway ------------------------------------------------------------------------------------

class JdkClient(HttpClient):
    """java.net.http.HttpClient (Java 11+), built on first use and kept for the host's life: HTTP/1.1, redirects
    followed as a browser does (never from https to http), certificates checked."""

    def __init__(self):
        self._client = None
        self._lock = threading.Lock()  # one client (and its selector thread) even when first requests race

    def _java_client(self):
        with self._lock:
            if self._client is None:
                from java.net.http import HttpClient as JavaHttpClient
                from java.time import Duration

                self._client = (JavaHttpClient.newBuilder().version(JavaHttpClient.Version.HTTP_1_1)
                                .followRedirects(JavaHttpClient.Redirect.NORMAL)
                                .connectTimeout(Duration.ofSeconds(CONNECT_TIMEOUT_SECONDS)).build())
            return self._client

    def send(self, method, url, headers, body, timeout_seconds):
        from java.lang import IllegalArgumentException, InterruptedException, Throwable
        from java.net import URI
        from java.net.http import HttpRequest, HttpResponse as JavaHttpResponse
        from java.time import Duration

        try:
            target = URI.create(url)
        except IllegalArgumentException as exc:
            raise InvalidArgument("url %s is not a valid URI: %s" % (url, exc.getMessage()), field="url")
        try:
            builder = HttpRequest.newBuilder(target).timeout(Duration.ofMillis(int(timeout_seconds * 1000)))
            for name in sorted(headers):
                builder.header(name, headers[name])
            publisher = (HttpRequest.BodyPublishers.ofByteArray(body) if body is not None
                         else HttpRequest.BodyPublishers.noBody())
            request = builder.method(method, publisher).build()
        except IllegalArgumentException as exc:  # a header the JDK sets itself (Host, Connection, Content-Length)
            raise InvalidArgument("the request cannot be sent as given: %s" % exc.getMessage(), field="headers")
        try:
            response = self._java_client().send(request, JavaHttpResponse.BodyHandlers.ofByteArray())
        except InterruptedException:
            raise  # a shutdown interrupting the worker: the engine hands the run back
        except Throwable as exc:  # refused, unknown host, reset, HttpTimeoutException, any other Java failure
            raise NoResponse(url, java_reason(exc))
        header_map = response.headers().map()
        pairs = [(name, value) for name in header_map.keySet() for value in header_map.get(name)]
        data = response.body()
        return HttpResponse(int(response.statusCode()), joined_headers(pairs),
                            data.tostring() if data is not None else b"", to_text(response.uri().toString()))


def java_reason(exc):
    """What a Java exception says, with its class when its message says little (ConnectException has none)."""
    message = exc.getMessage()
    name = exc.getClass().getSimpleName()
    return to_text(u"%s: %s" % (name, message) if message else name)
