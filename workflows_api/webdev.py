"""Ignition WebDev adapter: mount the console as one Python resource (with a catch-all path) in a project.

In the project, create a WebDev Python resource named `console` and make every method it serves one line, e.g.

    def doGet(request, session):
        return workflows_api.webdev.handle(request)
    (same for doPost, doPut, doDelete, doHead)

It is then served at http://gateway:8088/system/webdev/<project>/console/ ; the mount prefix is taken from the
servlet request, so links, redirects and the session cookie's path follow it. The users file lives on the gateway
(default <Ignition data dir>/exchange-workflows/console-users.json, override with the system property or
environment variable WORKFLOWS_AUTH_FILE). Project library modules are not files, so copy workflows_api/static to
<Ignition data dir>/exchange-workflows/static (or name the folder with WORKFLOWS_STATIC_DIR). The console object lives in this module (one per
interpreter, never in getGlobals: a Python object there would keep old code serving after a save); sessions
are signed cookies, so they survive a reload; the login throttle starts afresh.

This follows the WebDev contract (request dict with servletRequest/servletResponse/remainingPath/postData; the
return dict's bytes/contentType) but has not been run inside Ignition on the development machine.
"""
import json
import os

from workflows_api import pages
from workflows_api.app import Console
from workflows_api.messages import Request



def _setting(name, default_file):
    """A path from the Java system property or environment variable `name`, else <data dir>/exchange-workflows/..."""
    from java.lang import System

    configured = System.getProperty(name) or os.environ.get(name)
    if configured:
        return configured
    data_dir = System.getProperty("data.dir") or System.getProperty("ignition.data.dir") or "."
    return os.path.join(data_dir, "exchange-workflows", default_file)


_CONSOLES = {}  # mount prefix -> Console, per interpreter: a project save builds new ones from the new code


def _console(base):
    import system

    consoles = _CONSOLES
    console = consoles.get(base)
    if console is None:
        logger = system.util.getLogger("exchange.workflows.console")
        static_dir = pages.STATIC_DIR if pages.STATIC_DIR and os.path.isdir(pages.STATIC_DIR) \
            else _setting("WORKFLOWS_STATIC_DIR", "static")
        console = Console(_setting("WORKFLOWS_AUTH_FILE", "console-users.json"), base=base, static_dir=static_dir,
                          logger=_LoggerShim(logger), announce=logger.warn)
        consoles[base] = console
    return console


class _LoggerShim(object):
    def __init__(self, logger):
        self._logger = logger

    def error(self, text):
        self._logger.error(text)

    def warn(self, text):
        self._logger.warn(text)


def _body(request, servlet):
    posted = request.get("postData")
    if isinstance(posted, (dict, list)):
        return json.dumps(posted).encode("utf-8")
    if posted is not None:
        return posted.encode("utf-8") if not isinstance(posted, bytes) else posted
    data = request.get("data")
    if data is not None:
        return data.tostring() if hasattr(data, "tostring") else data
    return b""


def to_request(request):
    """(Request, mount prefix) from a WebDev request dict."""
    servlet = request["servletRequest"]
    uri = servlet.getRequestURI() or "/"
    remaining = request.get("remainingPath") or ""
    base = uri[:len(uri) - len(remaining)] if remaining and uri.endswith(remaining) else uri
    base = base.rstrip("/")
    headers = {}
    names = servlet.getHeaderNames()
    while names is not None and names.hasMoreElements():
        name = names.nextElement()
        headers[name] = servlet.getHeader(name)
    return Request(servlet.getMethod(), base + (remaining or "/"), servlet.getQueryString() or "", headers,
                   _body(request, servlet), remote=servlet.getRemoteAddr(),
                   secure=bool(servlet.isSecure())), base


def handle(request, session=None):
    """Answer one WebDev request; returns the WebDev response dict."""
    http_request, base = to_request(request)
    response = _console(base).handle(http_request)
    servlet_response = request["servletResponse"]
    servlet_response.setStatus(response.status)
    content_type = "application/octet-stream"
    for name, value in response.headers:
        if name.lower() == "content-type":
            content_type = value
        else:
            servlet_response.addHeader(name, value)
    return {"bytes": response.body, "contentType": content_type}
