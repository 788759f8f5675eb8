"""Console credentials: PBKDF2 hashes that CPython and Jython agree on, the users file, its command line, tokens."""
import hashlib
import json
import os
import stat

import pytest

from conftest import ROOT, run_gateway
from workflows_api import passwords, sessions, users
from workflows_api.users import UserStore, UsersError


def test_the_portable_pbkdf2_matches_the_standard_library():
    for password, salt, rounds in ((u"pw", b"salt", 1), (u"p\u00e9w", b"\x00\xff" * 8, 1000), (u"", b"s", 7)):
        expected = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds, 32)
        assert passwords.pbkdf2_python(password, salt, rounds) == expected
        assert passwords.pbkdf2(password, salt, rounds) == expected


def test_hashes_verify_only_the_right_password():
    stored = passwords.hash_password(u"correct horse \u00e9")
    assert stored.startswith("pbkdf2_sha256$%d$" % passwords.ITERATIONS)
    assert passwords.verify_password(u"correct horse \u00e9", stored)
    assert not passwords.verify_password(u"correct horse e", stored)
    assert passwords.hash_password("same") != passwords.hash_password("same")  # salted
    for garbage in ("", "plain", "md5$1$a$b", "pbkdf2_sha256$x$y$z", None):
        assert not passwords.verify_password("plain", garbage)


def test_constant_time_equal():
    assert passwords.equal("abc", "abc")
    assert not passwords.equal("abc", "abd")
    assert not passwords.equal("abc", "abcd")
    assert not passwords.equal("", "a")


JYTHON_CHECK = r'''
import json, os, sys
sys.path.insert(0, os.environ["WORKFLOWS_ROOT"])
from workflows_api import passwords
from workflows_api.users import UserStore
store = UserStore(os.environ["USERS_FILE"])
ok = store.check_password("cpy", u"from cpython \u00e9") is not None
bad = store.check_password("cpy", u"wrong") is not None
token = store.check_token(os.environ["TOKEN"])
out = {"ok": ok, "bad": bad, "token": token.roles if token else None,
       "hash": passwords.hash_password(u"from jython \u00e9"), "python": sys.version}
sys.stdout.write("RESULT " + json.dumps(out) + "\n")
'''


def test_hashes_and_tokens_work_across_cpython_and_jython(tmp_path):
    path = str(tmp_path / "users.json")
    store = UserStore(path)
    store.add_user("cpy", "operator", u"from cpython \u00e9")
    token = store.add_token("script", "viewer")
    script = tmp_path / "check.py"
    script.write_text(JYTHON_CHECK)
    result = run_gateway(["jython", str(script)], env={"WORKFLOWS_ROOT": ROOT, "USERS_FILE": path, "TOKEN": token})
    assert result.returncode == 0, result.stderr
    line = [l for l in result.stdout.splitlines() if l.startswith("RESULT ")][0]
    out = json.loads(line[len("RESULT "):])
    assert out["python"].startswith("2.7")
    assert out["ok"] is True and out["bad"] is False
    assert out["token"] == ["viewer"]
    assert passwords.verify_password(u"from jython \u00e9", out["hash"])
    assert not passwords.verify_password(u"from jython e", out["hash"])


def test_first_run_creates_an_admin_with_a_random_password(tmp_path):
    path = str(tmp_path / "var" / "console-users.json")
    store = UserStore(path)
    password = store.create_first_admin()
    assert password and len(password) >= 12
    assert store.create_first_admin() is None  # only once
    assert store.check_password("admin", password).roles == ["admin"]
    text = open(path).read()
    assert password not in text  # stored hashed
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(json.loads(text)["secret"]) == 64


def test_users_roles_and_tokens_are_managed_in_the_file(tmp_path):
    store = UserStore(str(tmp_path / "users.json"))
    password = store.add_user("olga", "operator,supervisor")
    assert store.check_password("olga", password).roles == ["operator", "supervisor"]
    with pytest.raises(UsersError):
        store.add_user("olga", "viewer")
    with pytest.raises(UsersError):
        store.add_user("bad name!", "viewer")
    with pytest.raises(UsersError):
        store.add_user("x", "wizard")
    store.set_roles("olga", "viewer")
    assert store.user("olga").roles == ["viewer"]
    token = store.add_token("report", "viewer")
    assert token.startswith("wft_") and token not in open(store.path).read()
    assert store.check_token(token).name == "report"
    assert store.check_token("wft_nope") is None and store.check_token("Bearer") is None
    store.remove_token("report")
    assert store.check_token(token) is None
    store.remove_user("olga")
    assert store.check_password("olga", password) is None


def test_edits_to_the_file_take_effect_without_a_restart(tmp_path):
    path = str(tmp_path / "users.json")
    store = UserStore(path)
    store.add_user("ed", "viewer", "pw-ed")
    reader = UserStore(path)
    assert reader.user("ed").roles == ["viewer"]
    data = json.load(open(path))
    data["users"]["ed"]["roles"] = ["operator"]
    with open(path, "w") as handle:
        json.dump(data, handle, indent=4)  # a different size, so the change is seen even within one mtime tick
    assert reader.user("ed").roles == ["operator"]


def test_the_command_line(tmp_path, capsys):
    path = str(tmp_path / "users.json")
    assert users.main(["--file", path, "add-user", "nina", "--roles", "supervisor", "--password", "pw-nina"]) == 0
    assert users.main(["--file", path, "add-token", "ci", "--roles", "operator"]) == 0
    out = capsys.readouterr().out
    token = out.strip().split()[-1]
    assert UserStore(path).check_token(token).roles == ["operator"]
    assert users.main(["--file", path, "list"]) == 0
    listing = capsys.readouterr().out
    assert "nina" in listing and "supervisor" in listing and "ci" in listing
    assert users.main(["--file", path, "set-roles", "ghost", "--roles", "viewer"]) == 2


def test_session_cookies_are_signed_and_expire(tmp_path):
    store = UserStore(str(tmp_path / "users.json"))
    store.add_user("sid", "viewer", "pw")
    signer = sessions.SessionSigner(store.secret)
    cookie, session = signer.issue(store.user("sid"), 1)
    assert signer.read(cookie).user == "sid"
    assert signer.check_csrf(session, signer.csrf_token(session))
    assert not signer.check_csrf(session, "x")
    payload, signature = cookie.split(".")
    assert signer.read(payload + "." + signature[::-1]) is None
    assert signer.read("garbage") is None and signer.read("") is None
    other = sessions.SessionSigner(lambda: "another secret")
    assert other.read(cookie) is None
    expired, _ = signer.issue(store.user("sid"), 0)
    assert signer.read(expired) is None
    signer.revoke(session)
    assert signer.read(cookie) is None
