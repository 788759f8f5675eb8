"""HTTP requests as steps: ask an MES, a LIMS or any REST service from a workflow, with the answer recorded once.

    from exchange.workflows.steps import http

    order = http.request("GET", "https://mes.example/api/orders", params={"line": "L1", "state": "released"})
    first = order["body"][0]
    http.request("POST", "https://mes.example/api/orders/%s/start" % first["id"], json={"reactor": "R-1"},
                 retries_allowed=True, max_attempts=5, interval_seconds=2)

request is a step: one recorded result, the usual retry options as keyword arguments (retries_allowed,
max_attempts, interval_seconds, backoff_rate). A replay returns the recorded answer without sending anything; a
gateway that dies between the send and the record sends again, so make requests that change things idempotent
where it matters. It answers JSON-native data:

    {"status": 200,                                   the status code
     "headers": {"content-type": "application/json"}, lower-case names; a repeated header's values joined by ", "
     "body": {...},                                   see below
     "url": "https://mes.example/api/orders?..."}     the URL that answered (after redirects)

The body is the decoded JSON value when the Content-Type is JSON (application/json or */*+json) and the body
parses as JSON; otherwise the text, decoded with the Content-Type's charset (UTF-8 when none is given; bytes that do
not decode are replaced); None when the response has no body.

A status outside 2xx raises HttpError (status, url, method, and body: the first 4096 characters of the body's text)
unless raiseForStatus=False. A request that gets no response at all (refused, unknown host, reset, timed out)
raises HttpNoResponse (url, method, reason). Both are failures of the step, retried when retries are allowed, and
raised again as themselves on replay, so a workflow that catches one takes the same branch again.

What is sent: params are added to the url's query (sorted by name, a list value repeats its name, None values
left out, True/False as true/false); json= is sent as JSON (Content-Type application/json); data= as text
(text/plain; charset=utf-8), bytes (application/octet-stream) or a dict of form fields
(application/x-www-form-urlencoded); a Content-Type in headers wins. timeoutSeconds is how long to wait for the
connection and the answer (under CPython, for each read of it).

The source project's request(method, url, headers=None, params=None, data=None, json_body=None, timeout_ms=10000)
is this function: json_body= and timeout_ms= are accepted by name. Positional arguments after url follow the new
order (json, data, headers, params, timeoutSeconds, raiseForStatus), so pass them by name.
"""
import codecs
import json as jsonlib
import re

from exchange.workflows.engine.errors import HttpError, HttpNoResponse
from exchange.workflows.host.http_client import NoResponse
from exchange.workflows.steps.base import host, run_step
from exchange.workflows.util.compat import PY2, integer_types, string_types, text_type, to_text
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, to_json_native

try:  # Python 3
    from urllib.parse import quote
except ImportError:  # Python 2 / Jython
    from urllib import quote

ERROR_BODY_CHARS = 4096  # how much of the body an HttpError keeps
DEFAULT_TIMEOUT_SECONDS = 10
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # a method or a header name (RFC 9110 token)
_URL = re.compile(r"^https?://[^\s/?#]+\S*$", re.I)
_JSON_TYPE = re.compile(r"^application/json$|^[\w.+-]+/[\w.+-]*\+json$|^text/json$")


def request(method, url, json=None, data=None, headers=None, params=None, timeoutSeconds=DEFAULT_TIMEOUT_SECONDS,
            raiseForStatus=True, json_body=None, timeout_ms=None, **retry):
    """Send one HTTP request as a step; {"status", "headers", "body", "url"} (see the module's notes)."""
    if json is not None and json_body is not None:
        raise InvalidArgument("give json or json_body, not both", field="json")
    payload = json if json is not None else json_body
    if payload is not None and data is not None:
        raise InvalidArgument("give json or data, not both", field="data")
    verb = _method(method)
    target = _with_params(_url(url), params)
    sent = _headers(headers)
    body = None
    if payload is not None:
        body = dumps(to_json_native(payload, "json")).encode("utf-8")
        _default(sent, "Content-Type", "application/json")
    elif data is not None:
        body, kind = _data(data)
        _default(sent, "Content-Type", kind)
    timeout = _timeout(timeoutSeconds, timeout_ms)
    if not isinstance(raiseForStatus, bool):
        raise InvalidArgument("raiseForStatus must be True or False", field="raiseForStatus")
    return run_step("http.request", _send, (verb, target, sent, body, timeout, raiseForStatus), retry)


def _send(method, url, headers, body, timeout, raise_for_status):
    try:
        answer = host().http.send(method, url, headers, body, timeout)
    except NoResponse as failed:
        raise HttpNoResponse(u"%s %s: no response (%s)" % (method, url, failed.reason), url=url, method=method,
                             reason=failed.reason)
    content_type = answer.headers.get("content-type", u"")
    text = _text(answer.body, content_type)
    if raise_for_status and not 200 <= answer.status < 300:
        excerpt = (text or u"")[:ERROR_BODY_CHARS]
        raise HttpError(u"%s %s answered %d%s" % (method, answer.url, answer.status,
                                                  (u": " + excerpt[:200]) if excerpt else u""),
                        status=answer.status, url=answer.url, method=method, body=excerpt)
    return {"status": answer.status, "headers": answer.headers, "body": _body(text, content_type),
            "url": answer.url}


# -- the response ------------------------------------------------------------------------------------------------------

def _media_type(content_type):
    """(lower-case media type, charset or None) of a Content-Type value."""
    parts = [p.strip() for p in (content_type or u"").split(";")]
    charset = None
    for part in parts[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return parts[0].lower(), charset


def _text(body, content_type):
    if not body:
        return None
    _, charset = _media_type(content_type)
    try:
        codecs.lookup(charset or "utf-8")
    except LookupError:
        charset = None
    return body.decode(charset or "utf-8", "replace")


def _body(text, content_type):
    if text is None:
        return None
    if _JSON_TYPE.match(_media_type(content_type)[0]):
        try:
            return jsonlib.loads(text.lstrip(u"\ufeff"), parse_constant=_no_constant)
        except ValueError:
            pass
    return text


def _no_constant(name):
    raise ValueError("%s is not JSON-native" % name)


# -- the request -------------------------------------------------------------------------------------------------------

def _method(method):
    if not isinstance(method, string_types) or not _TOKEN.match(method.strip()):
        raise InvalidArgument("method must be an HTTP method such as GET or POST, not %r" % (method,), field="method")
    return to_text(method.strip().upper())


def _url(url):
    text = url.strip() if isinstance(url, string_types) else ""
    if not _URL.match(text):
        raise InvalidArgument("url must be an http:// or https:// URL without spaces, not %r" % (url,), field="url")
    return to_text(text)


def _headers(headers):
    if headers is None:
        return {}
    if not hasattr(headers, "items"):
        raise InvalidArgument("headers must be a dict of names to values", field="headers")
    out = {}
    seen = set()
    for name, value in headers.items():
        if not isinstance(name, string_types) or not _TOKEN.match(name):
            raise InvalidArgument("header name %r is not a valid HTTP header name" % (name,), field="headers")
        if name.lower() in seen:
            raise InvalidArgument("header %s is given twice" % name, field="headers")
        seen.add(name.lower())
        text = _scalar_text(value, "headers")
        if u"\r" in text or u"\n" in text:
            raise InvalidArgument("header %s has a line break in its value" % name, field="headers")
        out[to_text(name)] = text
    return out


def _default(headers, name, value):
    if not any([key.lower() == name.lower() for key in headers]):
        headers[name] = value


def _data(data):
    """(bytes, default Content-Type) of data=."""
    if isinstance(data, text_type):
        return data.encode("utf-8"), u"text/plain; charset=utf-8"
    if isinstance(data, (bytes, bytearray)):  # under Python 2 / Jython a plain str is bytes: sent as it is
        return bytes(data), u"text/plain; charset=utf-8" if PY2 else u"application/octet-stream"
    if hasattr(data, "items"):
        return _encoded_pairs(data, "data").encode("ascii"), u"application/x-www-form-urlencoded"
    raise InvalidArgument("data must be text, bytes or a dict of form fields", field="data")


def _with_params(url, params):
    if params is None:
        return url
    if not hasattr(params, "items"):
        raise InvalidArgument("params must be a dict of names to values", field="params")
    query = _encoded_pairs(params, "params")
    if not query:
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = u"" if base.endswith(u"?") or base.endswith(u"&") else (u"&" if u"?" in base else u"?")
    return base + joiner + query + hash_mark + fragment


def _encoded_pairs(fields, field):
    """name=value&... of a dict (sorted by name; a list repeats its name; None left out), percent-encoded UTF-8."""
    pairs = []
    for name in sorted(fields):
        if not isinstance(name, string_types) or not name:
            raise InvalidArgument("%s names must be non-empty text, not %r" % (field, name), field=field)
        value = fields[name]
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if item is not None:
                pairs.append(u"%s=%s" % (_quoted(name), _quoted(_scalar_text(item, field))))
    return u"&".join(pairs)


def _quoted(text):
    return to_text(quote(to_text(text).encode("utf-8"), safe=""))


def _scalar_text(value, field):
    if isinstance(value, bool):
        return u"true" if value else u"false"
    if isinstance(value, string_types):
        return to_text(value)
    if isinstance(value, integer_types):
        return to_text(str(value))
    if isinstance(value, float):
        return to_text(repr(value))
    raise InvalidArgument("%s values must be text, numbers or booleans, not %r" % (field, value), field=field)


def _timeout(seconds, ms):
    if ms is not None:
        seconds, field = _number(ms, "timeout_ms") / 1000.0, "timeout_ms"
    else:
        seconds, field = _number(seconds, "timeoutSeconds"), "timeoutSeconds"
    if seconds <= 0:
        raise InvalidArgument("%s must be more than 0" % field, field=field)
    return seconds


def _number(value, field):
    if isinstance(value, bool) or not isinstance(value, integer_types + (float,)):
        raise InvalidArgument("%s must be a number" % field, field=field)
    return float(value)
