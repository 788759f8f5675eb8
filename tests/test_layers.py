"""The layers keep to their jobs: SQL only in the store, driver and system calls only in the host adapters, one
contract per kind of adapter, defaults stated once, and docs/architecture.md telling the truth about transitions."""
import ast
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from exchange.workflows.engine import defaults
from exchange.workflows.host.database import Database
from exchange.workflows.host.kernel import Kernel
from exchange.workflows.store.transitions import TRANSITIONS

PACKAGE = os.path.join(ROOT, "exchange", "workflows")
SQL_STATEMENT = re.compile(r"\bSELECT\b.+\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+[\w.]+\s+SET\b|\bDELETE\s+FROM\b|"
                           r"\bstatus\s*(=|IN)\s*[('\"]", re.I | re.S)


def _sources(folder):
    for name in sorted(os.listdir(os.path.join(PACKAGE, folder))):
        if name.endswith(".py"):
            path = os.path.join(PACKAGE, folder, name)
            with open(path, encoding="utf-8") as handle:
                yield "%s/%s" % (folder, name), handle.read()


def _string_constants(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


@pytest.mark.parametrize("folder", ["engine", "api", "steps"])
def test_the_engine_the_facades_and_the_library_steps_contain_no_sql(folder):
    found = []
    for path, source in _sources(folder):
        for text in _string_constants(source):
            if SQL_STATEMENT.search(text):
                found.append((path, text[:80]))
    assert found == []


def test_run_writes_are_private_to_the_store():
    for folder in ("engine", "api", "host", "util", "demo", "steps"):
        for path, source in _sources(folder):
            assert not re.search(r"\brunwrite\b|\bRunWrite\b|\bRaw\(", source), path
    for top in ("workflows_api", "gateway_scripts", "bench"):
        for base, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(base, name), encoding="utf-8") as handle:
                        assert "runwrite" not in handle.read(), os.path.join(base, name)


def test_package_initialisers_are_empty():
    for base, _, files in os.walk(os.path.join(ROOT, "exchange")):
        if "__init__.py" in files:
            assert os.path.getsize(os.path.join(base, "__init__.py")) == 0, base


JAVA_HOST_MODULES = ["exchange.workflows.host.ignition_db", "exchange.workflows.host.ignition_http",
                     "exchange.workflows.host.jdbc_db", "exchange.workflows.host.kernel_java",
                     "workflows_api.java_server"]
IMPORT_EACH = r"""
import importlib, json, sys
failed = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException as error:
        failed[name] = repr(error)
print(json.dumps(failed))
"""


def test_every_module_imports_under_cpython_but_the_java_host_adapters():
    """tests/jython/test_sources.py checks the same under Jython; a fresh interpreter, so that a demo module's
    registrations stay out of this one."""
    names = []
    for top in ("exchange", "workflows_api"):
        for base, _, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if name.endswith(".py") and name not in ("__init__.py", "__main__.py"):
                    names.append(os.path.relpath(os.path.join(base, name[:-3]), ROOT).replace(os.sep, "."))
    assert "exchange.workflows.api.service" in names and set(JAVA_HOST_MODULES) <= set(names)
    done = subprocess.run([sys.executable, "-c", IMPORT_EACH, json.dumps(sorted(names))], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    failed = json.loads(done.stdout)
    assert sorted(failed) == sorted(JAVA_HOST_MODULES), failed
    for name in JAVA_HOST_MODULES:
        assert re.match(r"ModuleNotFoundError\(\"No module named '(java|com)'", failed[name]), failed[name]


def _overrides(cls, base):
    abstract = [name for name, value in vars(base).items() if callable(value) and not name.startswith("_")
                and _raises_not_implemented(value)]
    return [name for name in abstract if getattr(cls, name) is getattr(base, name)]


def _raises_not_implemented(fn):
    try:
        source = fn.__code__.co_names
    except AttributeError:
        return False
    return "NotImplementedError" in source


def test_every_database_adapter_keeps_the_whole_contract():
    from exchange.workflows.host.dbapi_db import PostgresDatabase, SqliteDatabase

    for adapter in (PostgresDatabase, SqliteDatabase):
        assert issubclass(adapter, Database)
        missing = [m for m in _overrides(adapter, Database) if m != "listen"]
        assert missing == [], (adapter, missing)
    assert PostgresDatabase.listen is not Database.listen
    # the Jython adapters (jdbc_db, ignition_db) import java.*, and the bench's counting wrapper registers the
    # bench's workflows: their sources are read instead
    for path in (os.path.join(PACKAGE, "host", "jdbc_db.py"), os.path.join(PACKAGE, "host", "ignition_db.py"),
                 os.path.join(ROOT, "bench", "workloads.py")):
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        assert re.search(r"^class \w+\(Database\):", source, re.M), path
        for method in ("query", "execute", "execute_many", "transaction", "close"):
            assert re.search(r"^    def %s\(" % method, source, re.M), (path, method)
    with open(os.path.join(ROOT, "bench", "workloads.py"), encoding="utf-8") as handle:
        assert re.search(r"^    def can_listen\(", handle.read(), re.M)  # a wrapper must ask what it wraps


def test_every_kernel_keeps_the_whole_contract():
    from exchange.workflows.host.kernel_py import PyKernel

    assert issubclass(PyKernel, Kernel)
    assert _overrides(PyKernel, Kernel) == []
    with open(os.path.join(PACKAGE, "host", "kernel_java.py"), encoding="utf-8") as handle:
        source = handle.read()
    assert re.search(r"^class JavaKernel\(Kernel\):", source, re.M)
    for name, value in vars(Kernel).items():
        if callable(value) and not name.startswith("_"):
            assert re.search(r"^    def %s\(" % name, source, re.M), name


def test_the_defaults_are_stated_once_and_read_by_every_launcher():
    from exchange.workflows.engine.engine import EngineConfig

    config = EngineConfig()
    assert (config.workers, config.tick_ms, config.lease_ms, config.max_recovery_attempts) == (
        defaults.WORKERS, defaults.TICK_MS, defaults.LEASE_MS, defaults.MAX_RECOVERY_ATTEMPTS)
    timer = os.path.join(ROOT, "gateway_scripts", "ignition", "timer", "exchange_workflows_dispatch", "resource.json")
    with open(timer) as handle:
        assert json.load(handle)["attributes"]["delay"] == defaults.TICK_MS
    for path in ("gateway_scripts/standalone.py", "exchange/workflows/host/ignition.py",
                 "gateway_scripts/ignition/startup/onStartup.py"):
        with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
            source = handle.read()
        # a launcher passes what it was told or the defaults module's value, never a number of its own
        assert not re.search(r"(?<![.\w])(workers|lease_ms|leaseSeconds|tick_ms|max_recovery_attempts|"
                             r"maxRecoveryAttempts)\s*=\s*\d", source), path
        assert not re.search(r"--(workers|tick-ms|lease-ms|max-recovery-attempts)\".*default=[^,)]*\d", source), path


def _doc_transition_rows():
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as handle:
        text = handle.read()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def _words(cell):
    return sorted(w for w in re.findall(r"[A-Z_]{4,}", cell))


def test_the_architecture_document_has_the_transition_table_of_the_code():
    rows = _doc_transition_rows()
    assert sorted(rows) == sorted(t.name for t in TRANSITIONS)
    for transition in TRANSITIONS:
        cells = rows[transition.name]
        assert _words(cells[1]) == sorted(transition.sources), transition.name
        assert _words(cells[2]) == sorted(transition.targets), transition.name
        assert cells[3] == transition.owner, transition.name
