"""Shared fixtures: a real PostgreSQL database per test session, a fresh SQLite file per test, engines on either.

PostgreSQL: 127.0.0.1:5432 (override with WORKFLOWS_TEST_PG=postgresql://user@host:port); a database named
wf_test_<pid> is created for the session and dropped after it. Tables are emptied between tests.
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402

TESTS = os.path.dirname(os.path.abspath(__file__))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
import workflows_for_tests  # noqa: E402,F401 - registers the t.* workflows

# the soak variant of the multi-gateway tests: --soak (or WORKFLOWS_SOAK=1)
pytest_plugins = ["multi.soak_plugin"]

# tests/jython runs under Jython through tests/test_jython_suite.py, never collected by pytest itself
collect_ignore = ["jython"]

PG_SERVER = os.environ.get("WORKFLOWS_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
TABLES = ("workflow_status", "operation_outputs", "workflow_events", "workflow_events_history", "streams",
          "workflow_commands", "notifications", "executors", "workflow_definitions", "queues", "param_templates",
          "settings", "run_waits", "schedules", "schedule_changes", "tag_waits", "memory_tags")


def _admin(sql):
    import psycopg

    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_database():
    name = "wf_test_%d_%s" % (os.getpid(), uuid.uuid4().hex[:6])
    _admin('CREATE DATABASE "%s"' % name)
    url = "%s/%s" % (PG_SERVER, name)
    yield url
    _admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def _clean_pg(url):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('workflows.workflow_status')").fetchone()[0]
        if exists:
            conn.execute("TRUNCATE %s RESTART IDENTITY" % ", ".join("workflows." + t for t in TABLES))


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request, tmp_path):
    """A clean database of each kind: every test using it runs once on PostgreSQL and once on SQLite."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
        _clean_pg(url)
        return url
    return "sqlite:%s" % (tmp_path / "workflows.db")


@pytest.fixture
def pg_url(pg_database):
    """A clean PostgreSQL database only (multi-process and NOTIFY tests)."""
    _clean_pg(pg_database)
    return pg_database


class EngineFactory(object):
    """Builds engines on one database; the first one built is installed as this interpreter's engine."""

    def __init__(self, url):
        self.url = url
        self.engines = []

    def __call__(self, executor_id=None, start=True, executes=True, **config):
        config.setdefault("tick_ms", 50)
        config.setdefault("workers", 4)
        config.setdefault("lease_ms", 30000)
        config.setdefault("shutdown_grace_s", 5.0)
        host = hosts.cpython_host(self.url, executes=executes)
        engine = Engine(host, EngineConfig(executor_id=executor_id or "test-%d" % len(self.engines), **config))
        self.engines.append(engine)
        if len(self.engines) == 1:
            runtime.install(engine)
        if start:
            engine.start()
        return engine

    def close(self):
        for engine in reversed(self.engines):
            try:
                if engine.started:
                    engine.stop(grace_s=5.0)
            finally:
                engine.host.close()
        runtime.uninstall()


@pytest.fixture
def make_engine(db_url):
    factory = EngineFactory(db_url)
    yield factory
    factory.close()


@pytest.fixture
def engine(make_engine):
    """A started engine (4 workers, 50 ms tick) installed for the api.service facade."""
    return make_engine()


def wait_for(predicate, timeout=10.0, interval=0.02, message="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))


def wait_status(workflow_id, statuses=("SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"),
                timeout=15.0):
    from exchange.workflows.api import service

    if isinstance(statuses, str):
        statuses = (statuses,)

    def done():
        resp = service.getWorkflow(workflowId=workflow_id)
        return resp if resp["ok"] and resp["data"]["status"] in statuses else None
    return wait_for(done, timeout, message="run %s to reach %s" % (workflow_id, "/".join(statuses)))["data"]


def gateway_command(*args):
    """The ./gateway command line (tests run what a user runs)."""
    return [os.path.join(ROOT, "gateway")] + list(args)


def default_sigint():
    """preexec_fn: SIGINT at its default action in the child, whatever this process does with it.

    A shell that runs `./gateway test` in the background of a script, nohup, `setsid ... &` and some CI runners
    start pytest with SIGINT ignored; a child inherits that ignore through fork and exec (bash keeps it, the JVM
    then installs no SIGINT handler), so the Ctrl-C a test sends it would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(command, **kwargs):
    """subprocess.Popen for a child a test may stop with SIGINT (a `./gateway run`): SIGINT restored to its default
    (default_sigint), stdin /dev/null unless told otherwise (a child never reads the terminal the suite was started
    from, or waits on it), cwd the repository."""
    kwargs.setdefault("preexec_fn", default_sigint)
    if "stdin" not in kwargs:
        kwargs["stdin"] = subprocess.DEVNULL
    kwargs.setdefault("cwd", ROOT)
    return subprocess.Popen(command, **kwargs)


def run_gateway(args, timeout=120, env=None, input_text=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    # a child reads the script it is given, or an empty stdin: never the terminal the suite was started from
    stdin = {"input": input_text} if input_text is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(gateway_command(*args), cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=default_sigint, **stdin)


# The start script of the README's script console scenario, verbatim as a user types it in `./gateway console`.
CONSOLE_START_SCRIPT = '''resp = exchange.workflows.api.service.start(
    workflowName="demo.commands_60s",
    inputs={"resolved": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}},
    queueName="default",
    partitionKey="line-1/reactor-a",
    timeoutSeconds=180,
)
print resp
wid = resp["data"]["workflowId"]
'''


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium through Playwright. `./gateway test` installs both and sets
    WORKFLOWS_REQUIRE_BROWSER, so there a missing browser fails the tests instead of skipping them."""
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = "headless chromium is not installed (apt-get install -y chromium)"
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
        missing = missing or "playwright is not installed (pip install -r requirements-dev.txt)"
    if missing:
        if os.environ.get("WORKFLOWS_REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, wait_ms):
    """A tab in a context of its own that fails the test on any JavaScript error (use with `yield from`)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(wait_ms)
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], "JavaScript errors on the page: %s" % errors


README_SCENARIO = "test_standalone_gateway.py::test_console_script_is_executed_by_the_running_gateway"


def pytest_collection_finish(session):
    """Begin the README's minute-long scenario in the background when its test is to run (see its module)."""
    if any(item.nodeid.endswith(README_SCENARIO) for item in session.items):
        from test_standalone_gateway import readme_scenario

        readme_scenario(session.config)


def pytest_sessionfinish(session, exitstatus):
    import shutil

    scenario = getattr(session.config, "readme_scenario", None)
    if scenario is not None:
        if scenario.gateway is not None and scenario.gateway.proc.poll() is None:
            scenario.gateway.kill()
        shutil.rmtree(scenario.folder, True)
