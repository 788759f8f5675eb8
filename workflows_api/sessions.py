"""Signed session cookies and the CSRF token that goes with each session.

A cookie holds {user, session id, expiry, password fingerprint} signed with HMAC-SHA256 under the users file's
secret, so sessions survive a gateway restart and a script reload without server-side state (WebDev has none to
offer), and end when the password changes, the user is removed, the secret is rotated, or the user logs out
(logged-out session ids are remembered in memory until they expire).
"""
import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
import time

from workflows_api import passwords

COOKIE = "wf_session"


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text):
    text = str(text)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret, payload):
    return _b64(hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).digest())


class Session(object):
    def __init__(self, user, sid, expires_ms, fingerprint):
        self.user = user
        self.sid = sid
        self.expires_ms = expires_ms
        self.fingerprint = fingerprint


class SessionSigner(object):
    def __init__(self, secret_source):
        self._secret = secret_source  # a function: the secret may change when the users file is edited
        self._revoked = {}
        self._lock = threading.Lock()

    def issue(self, user, hours):
        expires = int(time.time() * 1000) + int(hours) * 3600 * 1000
        sid = binascii.hexlify(os.urandom(16)).decode("ascii")
        payload = _b64(json.dumps({"u": user.name, "s": sid, "e": expires, "f": user.fingerprint},
                                  separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return payload + "." + _sign(self._secret(), payload), Session(user.name, sid, expires, user.fingerprint)

    def read(self, cookie):
        """The Session a cookie value proves, or None (bad signature, expired, logged out, garbled)."""
        if not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.partition(".")
        if not passwords.equal(_sign(self._secret(), payload), signature):
            return None
        try:
            data = json.loads(_unb64(payload).decode("utf-8"))
            session = Session(data["u"], data["s"], int(data["e"]), data.get("f", ""))
        except (ValueError, TypeError, KeyError, binascii.Error):
            return None
        now = int(time.time() * 1000)
        if session.expires_ms <= now:
            return None
        with self._lock:
            if session.sid in self._revoked:
                return None
        return session

    def revoke(self, session):
        now = int(time.time() * 1000)
        with self._lock:
            for sid, expires in list(self._revoked.items()):
                if expires <= now:
                    del self._revoked[sid]
            self._revoked[session.sid] = session.expires_ms

    def csrf_token(self, session):
        return _sign(self._secret(), "csrf:" + session.sid)

    def check_csrf(self, session, token):
        return bool(token) and passwords.equal(self.csrf_token(session), token)


def cookie_header(value, secure=False, max_age=None, path="/"):
    parts = ["%s=%s" % (COOKIE, value), "Path=%s" % path, "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append("Max-Age=%d" % max_age)
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
