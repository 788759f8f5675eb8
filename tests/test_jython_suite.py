"""The Jython suite (tests/jython) as one pytest test: the same code under Jython 2.7, through JDBC, against
its own PostgreSQL database. Any failing Jython test fails this test with the suite's output."""
import os
import subprocess
import uuid

import pytest

from conftest import PG_SERVER, ROOT, _admin, gateway_command


@pytest.fixture
def jython_pg():
    """A PostgreSQL database for the Jython run only (never shared with the CPython tests)."""
    name = "wf_jython_%d_%s" % (os.getpid(), uuid.uuid4().hex[:6])
    _admin('CREATE DATABASE "%s"' % name)
    yield "%s/%s" % (PG_SERVER, name)
    _admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def test_the_jython_suite_passes(jython_pg):
    proc = subprocess.run(gateway_command("jython", os.path.join("tests", "jython", "run_suite.py"), "--pg", jython_pg),
                          cwd=ROOT, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    output = proc.stdout + ("\n--- stderr ---\n" + proc.stderr if proc.stderr.strip() else "")
    assert proc.returncode == 0, "the Jython suite failed:\n" + output
    assert " passed, 0 failed" in proc.stdout, output
