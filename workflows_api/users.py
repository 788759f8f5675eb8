"""The console's users, roles and script tokens, kept in one JSON file (default var/console-users.json).

    {"secret": "...signs session cookies...",
     "users":  {"admin": {"roles": ["admin"], "password": "pbkdf2_sha256$..."}},
     "tokens": {"nightly-report": {"roles": ["viewer"], "sha256": "..."}}}

Passwords are stored as PBKDF2 hashes and tokens as SHA-256 digests (a token is 32 random bytes, so a plain digest
is enough); neither is ever written in clear. The file is re-read when it changes, so editing roles takes effect
without a restart. The first start creates the file with an `admin` user and a random password printed once.

Command line (CPython or Jython, from the repository root):
    python -m workflows_api.users [--file PATH] add-user NAME --roles operator[,supervisor] [--password PW]
    python -m workflows_api.users [--file PATH] set-password NAME [--password PW]
    python -m workflows_api.users [--file PATH] set-roles NAME --roles viewer
    python -m workflows_api.users [--file PATH] remove-user NAME
    python -m workflows_api.users [--file PATH] add-token NAME --roles operator
    python -m workflows_api.users [--file PATH] remove-token NAME
    python -m workflows_api.users [--file PATH] set-frame-ancestors "'self' https://scada.example:8043"
    python -m workflows_api.users [--file PATH] list
(`./gateway jython -m workflows_api.users ...` runs the same under Jython.)
"""
import base64
import binascii
import json
import os
import re
import sys
import threading

from workflows_api import passwords

ROLES = ("viewer", "operator", "supervisor", "admin")
DEFAULT_FILE = os.path.join("var", "console-users.json")
TOKEN_PREFIX = "wft_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class UsersError(Exception):
    def __init__(self, message):
        Exception.__init__(self, message)
        self.message = message


class User(object):
    """Who is signed in: name, roles, and whether it is a script token."""

    def __init__(self, name, roles, token=False, fingerprint=""):
        self.name = name
        self.roles = [r for r in ROLES if r in (roles or [])]
        self.token = token
        self.fingerprint = fingerprint

    def has_any(self, roles):
        return bool(set(self.roles) & set(roles))


def random_text(nbytes=24):
    return base64.urlsafe_b64encode(os.urandom(nbytes)).decode("ascii").rstrip("=")


def check_name(name):
    if not isinstance(name, (type(u""), str)) or not _NAME.match(name):
        raise UsersError("names are 1-64 letters, digits or . _ - @")
    return name


def check_roles(roles):
    if isinstance(roles, (type(u""), str)):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
    roles = [r.lower() for r in roles or []]
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UsersError("roles must be one or more of %s" % ", ".join(ROLES))
    return [r for r in ROLES if r in roles]


class UserStore(object):
    """The users file: loaded lazily, reloaded when its modification time changes, saved atomically."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._data = None
        self._stamp = None

    # -- reading -----------------------------------------------------------------------------------------------
    def exists(self):
        return os.path.exists(self.path)

    def _stat(self):
        try:
            st = os.stat(self.path)
            return (st.st_mtime, st.st_size)
        except OSError:
            return None

    def data(self):
        stamp = self._stat()
        with self._lock:
            if self._data is None or stamp != self._stamp:
                if stamp is None:
                    raise UsersError("the users file %s does not exist" % self.path)
                with open(self.path, "rb") as handle:
                    text = handle.read().decode("utf-8")
                try:
                    data = json.loads(text)
                except ValueError as exc:
                    if self._data is not None:  # keep the last good version while someone edits the file
                        return self._data
                    raise UsersError("the users file %s is not valid JSON: %s" % (self.path, exc))
                data.setdefault("users", {})
                data.setdefault("tokens", {})
                if not data.get("secret"):
                    raise UsersError("the users file %s has no secret" % self.path)
                self._data = data
                self._stamp = stamp
            return self._data

    def secret(self):
        return self.data()["secret"]

    def frame_ancestors(self):
        """The "frameAncestors" setting of the file (text or a list; None when unset): see framing.py."""
        return self.data().get("frameAncestors")

    def session_hours(self):
        try:
            return max(1, int(self.data().get("sessionHours", 12)))
        except (TypeError, ValueError):
            return 12

    def user(self, name):
        entry = self.data()["users"].get(name)
        if not entry:
            return None
        return User(name, entry.get("roles"), fingerprint=passwords.sha256_hex(entry.get("password", ""))[:16])

    def check_password(self, name, password):
        entry = self.data()["users"].get(name) if isinstance(name, (type(u""), str)) else None
        if not entry or not isinstance(password, (type(u""), str)) or not password:
            passwords.verify_password("x", _DUMMY_HASH[0] or _dummy_hash())  # same cost for unknown users
            return None
        if not passwords.verify_password(password, entry.get("password", "")):
            return None
        return self.user(name)

    def check_token(self, token):
        if not isinstance(token, (type(u""), str)) or not token.startswith(TOKEN_PREFIX):
            return None
        digest = passwords.sha256_hex(token)
        found = None
        for name, entry in sorted(self.data()["tokens"].items()):
            if passwords.equal(digest, entry.get("sha256", "")):
                found = User(name, entry.get("roles"), token=True)
        return found

    # -- writing -----------------------------------------------------------------------------------------------
    def _save(self, data):
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            os.makedirs(folder)
        temp = "%s.%s.tmp" % (self.path, binascii.hexlify(os.urandom(4)).decode("ascii"))
        text = json.dumps(data, indent=2, sort_keys=True)
        with open(temp, "wb") as handle:
            handle.write(text.encode("utf-8"))
        try:
            os.chmod(temp, 0o600)
        except OSError:
            pass
        os.rename(temp, self.path)
        with self._lock:
            self._data = None

    def _editable(self):
        if not self.exists():
            return {"secret": binascii.hexlify(os.urandom(32)).decode("ascii"), "users": {}, "tokens": {},
                    "sessionHours": 12}
        return json.loads(json.dumps(self.data()))

    def create_first_admin(self):
        """Create the file with user `admin` and a random password; returns the password (print it once)."""
        if self.exists():
            return None
        password = random_text(12)
        data = self._editable()
        data["users"]["admin"] = {"roles": ["admin"], "password": passwords.hash_password(password)}
        self._save(data)
        return password

    def add_user(self, name, roles, password=None):
        data = self._editable()
        check_name(name)
        if name in data["users"]:
            raise UsersError("user %s exists (use set-password / set-roles)" % name)
        password = password or random_text(12)
        data["users"][name] = {"roles": check_roles(roles), "password": passwords.hash_password(password)}
        self._save(data)
        return password

    def set_password(self, name, password=None):
        data = self._editable()
        if name not in data["users"]:
            raise UsersError("no user %s" % name)
        password = password or random_text(12)
        data["users"][name]["password"] = passwords.hash_password(password)
        self._save(data)
        return password

    def set_roles(self, name, roles):
        data = self._editable()
        if name not in data["users"]:
            raise UsersError("no user %s" % name)
        data["users"][name]["roles"] = check_roles(roles)
        self._save(data)

    def remove_user(self, name):
        data = self._editable()
        if data["users"].pop(name, None) is None:
            raise UsersError("no user %s" % name)
        self._save(data)

    def add_token(self, name, roles):
        data = self._editable()
        check_name(name)
        if name in data["tokens"]:
            raise UsersError("token %s exists (remove it first)" % name)
        token = TOKEN_PREFIX + random_text(32)
        data["tokens"][name] = {"roles": check_roles(roles), "sha256": passwords.sha256_hex(token)}
        self._save(data)
        return token

    def set_frame_ancestors(self, sources):
        """Which pages may frame the console (framing.py): 'none' (the default), 'self', origins; [] unsets it."""
        from workflows_api import framing

        data = self._editable()
        if not sources:
            data.pop("frameAncestors", None)
        else:
            try:
                data["frameAncestors"] = framing.parse(sources)
            except framing.FramingError as exc:
                raise UsersError(exc.message)
        self._save(data)
        return data.get("frameAncestors")

    def remove_token(self, name):
        data = self._editable()
        if data["tokens"].pop(name, None) is None:
            raise UsersError("no token %s" % name)
        self._save(data)


_DUMMY_HASH = [None]


def _dummy_hash():
    _DUMMY_HASH[0] = passwords.hash_password(random_text(8))
    return _DUMMY_HASH[0]


def _out(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="workflows_api.users", description="manage console users and tokens")
    parser.add_argument("--file", default=os.environ.get("WORKFLOWS_AUTH_FILE") or DEFAULT_FILE)
    parser.add_argument("action", choices=["add-user", "set-password", "set-roles", "remove-user", "add-token",
                                           "remove-token", "set-frame-ancestors", "list"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--roles", default=None)
    parser.add_argument("--password", default=None)
    opts = parser.parse_args(argv)
    store = UserStore(opts.file)
    try:
        if opts.action == "list":
            data = store.data()
            for name in sorted(data["users"]):
                _out("user  %-24s %s" % (name, ",".join(data["users"][name].get("roles", []))))
            for name in sorted(data["tokens"]):
                _out("token %-24s %s" % (name, ",".join(data["tokens"][name].get("roles", []))))
            return 0
        if opts.action == "set-frame-ancestors":
            found = store.set_frame_ancestors(opts.name or "")
            _out("frame ancestors: %s" % (" ".join(found) if found else "unset (none may frame the console)"))
            return 0
        if not opts.name:
            raise UsersError("%s needs a NAME" % opts.action)
        if opts.action == "add-user":
            password = store.add_user(opts.name, opts.roles or "viewer", opts.password)
            _out("user %s added; password: %s" % (opts.name, password if not opts.password else "(as given)"))
        elif opts.action == "set-password":
            password = store.set_password(opts.name, opts.password)
            _out("password of %s set: %s" % (opts.name, password if not opts.password else "(as given)"))
        elif opts.action == "set-roles":
            store.set_roles(opts.name, opts.roles or "")
            _out("roles of %s set" % opts.name)
        elif opts.action == "remove-user":
            store.remove_user(opts.name)
            _out("user %s removed" % opts.name)
        elif opts.action == "add-token":
            token = store.add_token(opts.name, opts.roles or "viewer")
            _out("token %s added (shown once, send it as 'Authorization: Bearer ...'): %s" % (opts.name, token))
        elif opts.action == "remove-token":
            store.remove_token(opts.name)
            _out("token %s removed" % opts.name)
    except UsersError as exc:
        sys.stderr.write("workflows_api.users: %s\n" % exc.message)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
