"""Who is calling: a session cookie (browser) or a bearer token (scripts); CSRF and login throttling.

Browsers authenticate with the signed session cookie and must echo the session's CSRF token in the
X-CSRF-Token header on every state-changing request; a cross-site Origin is refused outright. Scripts send
`Authorization: Bearer wft_...`; a bearer token is never sent by a browser on its own, so it needs no CSRF token.
"""
import threading
import time

from workflows_api import sessions

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
START_ROLES = ("operator", "supervisor", "admin")
ADMIN_ROLES = ("admin",)


class Caller(object):
    """An authenticated user plus how they proved it (session or token)."""

    def __init__(self, user, session=None):
        self.user = user
        self.session = session

    @property
    def name(self):
        return self.user.name

    @property
    def roles(self):
        return self.user.roles

    @property
    def via(self):
        return "token" if self.session is None else "session"

    def actor(self):
        """The actor handed to service.sendCommand / start / retry: the engine records it and checks its roles."""
        return {"name": self.user.name, "roles": list(self.user.roles)}

    def can_start(self):
        return self.user.has_any(START_ROLES)

    def is_admin(self):
        return self.user.has_any(ADMIN_ROLES)


def authenticate(request, users, signer):
    """The Caller of a request, or None."""
    header = request.header("authorization") or ""
    if header[:7].lower() == "bearer ":
        user = users.check_token(header[7:].strip())
        return Caller(user) if user is not None else None
    session = signer.read(request.cookies().get(sessions.COOKIE))
    if session is None:
        return None
    user = users.user(session.user)
    if user is None or user.fingerprint != session.fingerprint:
        return None  # removed, or the password changed since the cookie was issued
    return Caller(user, session)


def same_origin(request):
    """False when the browser says the request comes from another site (Origin, else Referer, vs Host)."""
    host = request.header("host")
    source = request.header("origin") or request.header("referer")
    if not source or not host:
        return True
    if source == "null":
        return False
    rest = source.split("://", 1)[-1]
    return rest.split("/", 1)[0].lower() == host.lower()


def csrf_ok(request, caller, signer):
    if request.method not in STATE_CHANGING:
        return True
    if not same_origin(request):
        return False
    if caller is None or caller.session is None:
        return True  # bearer token, or the login request itself (checked by same_origin and its JSON body)
    return signer.check_csrf(caller.session, request.header("x-csrf-token"))


class LoginThrottle(object):
    """After 5 failed logins for a name within 5 minutes, refuse that name for 30 seconds."""

    LIMIT = 5
    WINDOW_S = 300.0
    LOCK_S = 30.0

    def __init__(self):
        self._failures = {}
        self._lock = threading.Lock()

    def locked_for(self, name):
        now = time.time()
        with self._lock:
            times = [t for t in self._failures.get(name, []) if now - t < self.WINDOW_S]
            self._failures[name] = times
            if len(times) >= self.LIMIT and now - times[-1] < self.LOCK_S:
                return int(self.LOCK_S - (now - times[-1])) + 1
        return 0

    def failed(self, name):
        with self._lock:
            self._failures.setdefault(name, []).append(time.time())
            if len(self._failures) > 10000:
                self._failures.clear()

    def succeeded(self, name):
        with self._lock:
            self._failures.pop(name, None)
