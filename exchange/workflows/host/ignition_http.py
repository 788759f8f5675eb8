"""Ignition's HTTP client behind the host's HTTP contract (host/http_client.py): system.net.httpClient.

One JythonHttpClient per host, made on first use (Ignition's advice: they are heavyweight, reuse them), with the
settings of the other adapters: certificates checked, redirects followed as a browser does, a 10 s connect
timeout. A request goes through client.request(url, method, data=..., headers=..., timeout=...) with the body as a
Java byte[] (sent as it is) and its timeout in milliseconds; the Response's statusCode, headers (name -> list of
values), body (byte[]) and url are read back. A request that gets no response raises a Java exception in
Ignition; it leaves here as NoResponse naming the url.
"""
import threading

from java.lang import IllegalArgumentException, InterruptedException, Throwable

from exchange.workflows.host.http_client import (CONNECT_TIMEOUT_SECONDS, HttpClient, HttpResponse, NoResponse,
                                                 joined_headers, java_reason)
from exchange.workflows.util.compat import string_types, to_text
from exchange.workflows.util.errors import InvalidArgument


class IgnitionHttp(HttpClient):
    def __init__(self, system):
        self._system = system
        self._client = None
        self._lock = threading.Lock()

    def _jython_client(self):
        with self._lock:
            if self._client is None:
                self._client = self._system.net.httpClient(timeout=CONNECT_TIMEOUT_SECONDS * 1000,
                                                           bypass_cert_validation=False, redirect_policy="NORMAL")
            return self._client

    def send(self, method, url, headers, body, timeout_seconds):
        from org.python.core.util import StringUtil

        data = StringUtil.toBytes(body) if body is not None else None
        try:
            response = self._jython_client().request(url, method, data=data, headers=dict(headers),
                                                     timeout=int(timeout_seconds * 1000))
        except InterruptedException:
            raise  # a shutdown interrupting the worker: the engine hands the run back
        except IllegalArgumentException as exc:  # a header the JDK sets itself (Host, Connection, Content-Length)
            raise InvalidArgument("the request cannot be sent as given: %s" % exc.getMessage(), field="headers")
        except Throwable as error:  # Ignition raises Java exceptions (ConnectException, HttpTimeoutException, ...)
            raise NoResponse(url, java_reason(error))
        return HttpResponse(int(response.statusCode), joined_headers(_pairs(response.headers)), _bytes(response.body),
                            to_text(u"%s" % (getattr(response, "url", None) or url,)))


def _pairs(headers):
    """(name, value) pairs of the Response's headers: a name maps to a list of values (or one value)."""
    pairs = []
    for name in headers.keys():
        values = headers[name]
        if isinstance(values, string_types) or not hasattr(values, "__iter__"):
            values = [values]
        pairs.extend([(name, u"%s" % (value,)) for value in values])
    return pairs


def _bytes(body):
    """The Response's byte[] (a Jython array) as bytes."""
    if body is None:
        return b""
    if hasattr(body, "tostring"):
        return body.tostring()
    return bytes(body)
