"""The operator console as one host-independent handler: Console.handle(Request) -> Response.

Routes: the pages (/, /runs, /runs/<uuid>, /runs/<uuid>/steps, /queues, /schedules, /tags, /admin), /login,
/static/..., the session calls (/api/login, /api/logout, /api/session) and the JSON API of api.py. Everything except
/login, /static and /api/login needs a signed-in user; state-changing calls need the CSRF token (auth.py).
"""
import sys
import traceback

from exchange.workflows.api import service
from exchange.workflows.util import ids
from workflows_api import api, auth, framing, pages, sessions
from workflows_api.messages import BadRequest, Response, json_response, redirect
from workflows_api.users import UserStore, UsersError

SECURITY_HEADERS = [  # besides the Content-Security-Policy and X-Frame-Options of the framing setting (framing.py)
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
]


def envelope(ok, code, message, data=None):
    return {"ok": ok, "code": code, "message": message, "data": data or {}, "meta": {}}


def api_answer(env, headers=None):
    response = json_response(api.http_status(env), env, headers)
    response.add_header("Cache-Control", "no-store")
    return response


class Console(object):
    """Create once per host (it keeps the static-file cache, logged-out sessions and the login throttle)."""

    def __init__(self, auth_file, base="", static_dir=pages.STATIC_DIR, logger=None, announce=None,
                 frame_ancestors=None):
        self.users = UserStore(auth_file)
        # the pages that may frame the console: given when the console is made (--frame-ancestors), else the
        # users file's "frameAncestors" (read again when the file changes), else none
        self.frame_ancestors = framing.parse(frame_ancestors) if frame_ancestors is not None else None
        self._framing_warned = None
        self.signer = sessions.SessionSigner(self.users.secret)
        self.throttle = auth.LoginThrottle()
        self.base = base.rstrip("/")
        self.static = pages.StaticFiles(static_dir, self.base)
        self.logger = logger
        password = self.users.create_first_admin()
        if password is not None and announce is not None:
            announce("console: first run: created %s with user 'admin', password '%s' (shown only once; manage "
                     "users with `python -m workflows_api.users`)" % (auth_file, password))

    # -- entry point -------------------------------------------------------------------------------------------
    def handle(self, request):
        try:
            response = self._route(request)
        except (KeyboardInterrupt, SystemExit):
            raise
        except:  # noqa: E722 - also Java exceptions under Jython: a request never takes the server down
            self._log_error(request)
            if self._is_api(request.path):
                response = api_answer(envelope(False, "INTERNAL_ERROR", "the console failed to answer; see the "
                                                                          "gateway log"))
            else:
                response = pages.error_page(500, "Internal error", "The console failed to answer; see the gateway "
                                                                   "log.", self.base)
        policy, frame_options = framing.headers(self._frame_sources())
        for name, value in SECURITY_HEADERS + [("Content-Security-Policy", policy), ("X-Frame-Options", frame_options)]:
            if value is not None and response.header(name) is None:
                response.add_header(name, value)
        if response.header("Cache-Control") is None:
            response.add_header("Cache-Control", "no-store")
        return response

    def _frame_sources(self):
        if self.frame_ancestors is not None:
            return self.frame_ancestors
        try:
            return framing.parse(self.users.frame_ancestors())
        except (framing.FramingError, UsersError) as exc:
            if self._framing_warned != exc.message:  # once per bad value, not once per request
                self._framing_warned = exc.message
                self._warn("console: the users file's frameAncestors is not used (none may frame the console): %s"
                           % exc.message)
            return [framing.NONE]

    def _log_error(self, request):
        text = "console: %s %s failed: %s" % (request.method, request.path,
                                              "".join(traceback.format_exception(*sys.exc_info())))
        if self.logger is not None:
            self.logger.error(text)
        else:
            sys.stderr.write(text + "\n")

    def _warn(self, text):
        if self.logger is not None and hasattr(self.logger, "warn"):
            self.logger.warn(text)

    def _is_api(self, path):
        return path == "/api" or path.startswith("/api/")

    def _local(self, path):
        if self.base and (path == self.base or path.startswith(self.base + "/")):
            path = path[len(self.base):] or "/"
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        return path

    def _local_raw(self, raw_path):
        """The path as received (still percent-encoded) below the mount prefix; trailing slashes are kept."""
        if self.base and (raw_path == self.base or raw_path.startswith(self.base + "/")):
            return raw_path[len(self.base):] or "/"
        return raw_path

    def _route(self, request):
        path = self._local(request.path)
        if path.startswith("/static/"):
            if request.method not in ("GET", "HEAD"):
                return pages.error_page(405, "Method not allowed", "Static files are read-only.", self.base)
            found = self.static.response(path[len("/static/"):])
            return found or pages.error_page(404, "Not found", "No such file.", self.base)
        if path == "/favicon.ico":
            return Response(204, b"")
        try:
            caller = auth.authenticate(request, self.users, self.signer)
        except UsersError as exc:
            return self._unavailable(path, exc.message)
        if self._is_api(path):
            return self._api(request, path, caller)
        if path == "/login":
            return self.static.response("login.html")
        if path == "/logout":
            return redirect(self.base + "/login")
        return self._page(request, path, caller)

    def _unavailable(self, path, message):
        if self._is_api(path):
            return api_answer(envelope(False, "NOT_CONFIGURED", "console users unavailable: %s" % message))
        return pages.error_page(503, "Console unavailable", "The users file cannot be read: %s" % message, self.base)

    # -- pages -------------------------------------------------------------------------------------------------
    def _page(self, request, path, caller):
        if request.method not in ("GET", "HEAD"):
            return pages.error_page(405, "Method not allowed", "Pages are read with GET.", self.base)
        name, run_id = pages.page_for(path)
        if name is None:
            bad = pages.BAD_RUN_ID.match(path)
            if bad and not ids.is_uuid(bad.group(1)):
                return pages.error_page(400, "Bad run id", "\"%s\" is not a run id (runs are named by UUID)."
                                        % bad.group(1), self.base)
            return pages.error_page(404, "Not found", "There is no page at %s." % path, self.base)
        if caller is None:
            target = path + ("?" + request.query if request.query else "")
            return redirect("%s/login?next=%s" % (self.base, _quote(self.base + target)))
        if run_id is not None:
            found = service.getWorkflow(workflowId=run_id)
            if not found["ok"] and found["code"] == "NOT_FOUND":
                return pages.error_page(404, "Run not found", "No run with id %s." % run_id, self.base)
        return self.static.response(name)

    # -- API ---------------------------------------------------------------------------------------------------
    def _api(self, request, path, caller):
        if not auth.csrf_ok(request, caller, self.signer):
            return api_answer(envelope(False, "CSRF_FAILED", "missing or wrong X-CSRF-Token, or a cross-site "
                                                               "request; reload the page"))
        if path == "/api/login":
            return self._login(request) if request.method == "POST" else self._method_not_allowed(["POST"])
        if caller is None:
            return api_answer(envelope(False, "UNAUTHENTICATED", "sign in first (session cookie or bearer token)"))
        if path == "/api/logout":
            return self._logout(request, caller) if request.method == "POST" else self._method_not_allowed(["POST"])
        if path == "/api/session":
            return api_answer(envelope(True, "OK", "signed in as %s" % caller.name, self._session_data(caller)))
        fn, groups = api.match(request.method, path)
        if fn is None:
            return api_answer(envelope(False, "ROUTE_NOT_FOUND", "no API route %s %s (see docs/console.md, API)"
                                       % (request.method, path)))
        if fn == "METHOD_NOT_ALLOWED":
            return self._method_not_allowed(groups)
        try:
            result = fn(api.Call(request, caller, groups, raw_path=self._local_raw(request.raw_path)))
        except BadRequest as exc:
            result = envelope(False, "BAD_REQUEST", exc.message)
        return api_answer(result)

    def _method_not_allowed(self, methods):
        response = api_answer(envelope(False, "METHOD_NOT_ALLOWED", "use %s" % " or ".join(methods)))
        response.add_header("Allow", ", ".join(methods))
        return response

    def _session_data(self, caller, session=None):
        session = session or caller.session
        return {"user": caller.name, "roles": caller.roles, "via": caller.via,
                "csrfToken": self.signer.csrf_token(session) if session is not None else None,
                "can": {"start": caller.can_start(), "admin": caller.is_admin()}}

    def _login(self, request):
        try:
            body = request.json()
        except BadRequest as exc:
            return api_answer(envelope(False, "BAD_REQUEST", exc.message))
        name, password = body.get("username"), body.get("password")
        if not isinstance(name, (type(u""), str)) or not name:
            return api_answer(envelope(False, "INVALID_ARGUMENT", "username is required", {"field": "username"}))
        wait = self.throttle.locked_for(name)
        if wait:
            return api_answer(envelope(False, "TOO_MANY_ATTEMPTS", "too many failed sign-ins; try again in %d s"
                                       % wait))
        user = self.users.check_password(name, password)
        if user is None:
            self.throttle.failed(name)
            self._warn("console: failed sign-in for \"%s\" from %s" % (name, request.remote or "?"))
            return api_answer(envelope(False, "LOGIN_FAILED", "wrong user name or password"))
        self.throttle.succeeded(name)
        cookie, session = self.signer.issue(user, self.users.session_hours())
        caller = auth.Caller(user, session)
        header = sessions.cookie_header(cookie, secure=request.secure, path=self.base or "/")
        return api_answer(envelope(True, "SIGNED_IN", "signed in as %s" % user.name,
                                   self._session_data(caller, session)), [("Set-Cookie", header)])

    def _logout(self, request, caller):
        if caller.session is not None:
            self.signer.revoke(caller.session)
        header = sessions.cookie_header("", secure=request.secure, max_age=0, path=self.base or "/")
        return api_answer(envelope(True, "SIGNED_OUT", "signed out"), [("Set-Cookie", header)])


def _quote(text):
    try:
        from urllib.parse import quote
    except ImportError:  # Python 2 / Jython
        from urllib import quote
    if not isinstance(text, str):
        text = text.encode("utf-8")
    return quote(text, safe="/")
