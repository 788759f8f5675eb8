"""HTTP requests and responses as plain objects, so the console does not depend on any server.

A host adapter (the standalone gateway's com.sun.net.httpserver, Ignition WebDev, the CPython test server) turns
what it receives into a Request, calls Console.handle, and writes the Response back.
"""
import json
import sys

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover - Jython
    from urllib import unquote as _unquote_bytes

    from urlparse import parse_qsl as _parse_qsl
else:
    from urllib.parse import parse_qsl as _parse_qsl
    from urllib.parse import unquote as _unquote_text


class BadRequest(Exception):
    """Raised while reading a request that cannot be understood (answered with 400)."""

    def __init__(self, message, field=None):
        Exception.__init__(self, message)
        self.message = message
        self.field = field


def _text(value):
    """Text from bytes (UTF-8) or text; Java strings arrive in Jython as unicode already."""
    if value is None:
        return None
    if isinstance(value, bytes):  # on Python 2 `bytes` is `str`
        return value.decode("utf-8", "replace")
    return value if PY2 else str(value)


def _utf8_bytes(value):
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8")


def parse_query(query):
    """'a=1&b=%3C' -> [(u'a', u'1'), (u'b', u'<')] with UTF-8 percent-escapes decoded on Python 2 and 3."""
    if not query:
        return []
    if PY2:
        pairs = _parse_qsl(_utf8_bytes(query), keep_blank_values=True)
        return [(_text(k), _text(v)) for k, v in pairs]
    return _parse_qsl(_text(query), keep_blank_values=True, encoding="utf-8", errors="replace")


def unquote_path(path):
    """Percent-decoded path text ('/runs/%41' -> '/runs/A')."""
    if PY2:
        return _text(_unquote_bytes(_utf8_bytes(path)))
    return _unquote_text(_text(path), encoding="utf-8", errors="replace")


class Request(object):
    """method, path (percent-decoded), raw_path (as received, still percent-encoded: a path segment may hold an
    encoded '/', as a schedule name does), query (raw text), headers (lower-case names), body (bytes)."""

    def __init__(self, method, path, query="", headers=None, body=b"", remote=None, secure=False):
        self.method = (_text(method) or "GET").upper()
        self.raw_path = _text(path or "/") or "/"
        self.path = unquote_path(path or "/") or "/"
        self.query = _text(query) or ""
        self.headers = dict([(_text(k).lower(), _text(v)) for k, v in (headers or {}).items() if k])
        self.body = body or b""
        self.remote = remote
        self.secure = secure
        self._params = None
        self._cookies = None

    def params(self):
        if self._params is None:
            self._params = {}
            for key, value in parse_query(self.query):
                self._params.setdefault(key, []).append(value)
        return self._params

    def param(self, name, default=None):
        values = self.params().get(name)
        return values[0] if values else default

    def param_list(self, name):
        return list(self.params().get(name) or [])

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def cookies(self):
        if self._cookies is None:
            self._cookies = {}
            for part in (self.header("cookie") or "").split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name and name not in self._cookies:
                    self._cookies[name] = value.strip().strip('"')
        return self._cookies

    def json(self):
        """The body as a JSON object ({} when empty); BadRequest for anything else."""
        if not self.body:
            return {}
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequest("send the body as application/json")
        try:
            value = json.loads(_text(self.body))
        except ValueError:
            raise BadRequest("the body is not valid JSON")
        if not isinstance(value, dict):
            raise BadRequest("the body must be a JSON object")
        return value


class Response(object):
    def __init__(self, status, body=b"", content_type="text/plain; charset=utf-8", headers=None):
        self.status = int(status)
        self.body = _utf8_bytes(body) if body is not None else b""
        self.headers = [("Content-Type", content_type)] + list(headers or [])

    def add_header(self, name, value):
        self.headers.append((name, value))
        return self

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def to_json_bytes(value):
    """JSON for the wire: ASCII only, and '<', '>', '&' escaped so a value can never close a tag."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _utf8_bytes(text)


def json_response(status, value, headers=None):
    return Response(status, to_json_bytes(value), "application/json; charset=utf-8", headers)


def redirect(location, headers=None):
    response = Response(302, b"", "text/plain; charset=utf-8", headers)
    response.add_header("Location", location)
    return response


def too_large():
    """What adapters answer when a request body exceeds their limit (1 MiB)."""
    return json_response(413, {"ok": False, "code": "BODY_TOO_LARGE", "message": "the request body is too large",
                               "data": {}, "meta": {}})
