"""The console's pages and static files (HTML, CSS, JS under workflows_api/static), and clean error pages.

Pages are static HTML shells; their scripts fetch data from /api and build the DOM with textContent only, so no
stored value is ever parsed as markup. The one server-side substitution is the mount prefix (`__BASE__`), for
hosts that serve the console below a path (Ignition WebDev).
"""
import os
import re

from workflows_api.messages import Response



def _default_static_dir():
    """workflows_api/static beside this module; where modules are not files (an Ignition project library) the
    folder is named by WORKFLOWS_STATIC_DIR instead (see webdev.py)."""
    configured = os.environ.get("WORKFLOWS_STATIC_DIR")
    if configured:
        return configured
    try:
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
    except NameError:
        return None


STATIC_DIR = _default_static_dir()
UUID = r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"

# (path pattern, html file, needs a run id)
PAGES = [
    (r"/", "start.html"),
    (r"/runs", "runs.html"),
    (r"/runs/%s" % UUID, "run.html"),
    (r"/runs/%s/steps" % UUID, "steps.html"),
    (r"/queues", "queues.html"),
    (r"/schedules", "schedules.html"),
    (r"/tags", "tags.html"),
    (r"/admin", "admin.html"),
]
_COMPILED = [(re.compile("^" + p + "$"), f) for p, f in PAGES]
# a /runs/... path that is not a UUID: a bad id (400), not an unknown page
BAD_RUN_ID = re.compile(r"^/runs/([^/]+)(/steps)?$")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json; charset=utf-8",
}
_STATIC_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$")


def page_for(path):
    """(html file, run id or None) for a page path, or (None, None)."""
    for pattern, name in _COMPILED:
        found = pattern.match(path)
        if found:
            return name, (found.group(1).lower() if found.groups() else None)
    return None, None


class StaticFiles(object):
    """Reads files below the static folder once (they do not change while the gateway runs) and serves them."""

    def __init__(self, folder=STATIC_DIR, base=""):
        self.folder = folder
        self.base = base
        self._cache = {}

    def read(self, name):
        if not _STATIC_NAME.match(name) or ".." in name:
            return None
        if name not in self._cache:
            if not self.folder:
                return None
            path = os.path.join(self.folder, *name.split("/"))
            if not os.path.isfile(path):
                return None
            with open(path, "rb") as handle:
                raw = handle.read()
            if name.endswith(".html"):
                raw = raw.replace(b"__BASE__", escape(self.base).encode("utf-8"))
            self._cache[name] = raw
        return self._cache[name]

    def response(self, name, status=200):
        raw = self.read(name)
        if raw is None:
            return None
        ext = os.path.splitext(name)[1].lower()
        response = Response(status, raw, CONTENT_TYPES.get(ext, "application/octet-stream"))
        response.add_header("Cache-Control", "no-cache")
        return response


def escape(text):
    """HTML-escape text for the few server-rendered bits (error pages)."""
    return (u"%s" % (text,)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&quot;").replace("'", "&#x27;")


def error_page(status, title, message, base=""):
    html = (u"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%(status)d %(title)s</title>"
            u"<link rel=\"stylesheet\" href=\"%(base)s/static/console.css\"></head><body class=\"error-page\">"
            u"<main><h1>%(status)d &middot; %(title)s</h1><p class=\"error-message\">%(message)s</p>"
            u"<p><a href=\"%(base)s/\">Start a run</a> &middot; <a href=\"%(base)s/runs\">Runs</a></p></main>"
            u"</body></html>") % {"status": status, "title": escape(title), "message": escape(message),
                                  "base": escape(base)}
    return Response(status, html, "text/html; charset=utf-8")
