"""A small test harness for Jython 2.7 (no pytest there): fixtures by parameter name, parametrized fixtures,
generator fixtures for teardown, and the helpers the Jython test modules share.

A test module is tests/jython/test_*.py; a test is a module-level function named test_*. Its parameters name
fixtures: functions decorated with @fixture here (shared) or in the test module (local, they win). A fixture
may take other fixtures as parameters, may `yield` its value to run teardown code after the test, and may be
parametrized (@fixture(params=[...]), the value arrives as the fixture's `param` argument): every test using it
then runs once per value, like pytest.

Shared fixtures: pg_url (the suite's own PostgreSQL database, emptied before the test), sqlite_url (a fresh
file), db_url (both, one run each), tmp_dir, fake_system (gateway_scripts/shim/system.py, reset around the test).
"""
import inspect
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIM = os.path.join(ROOT, "gateway_scripts", "shim")
HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (ROOT, SHIM, HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

SHARED = {}
SESSION = {"pg_url": None}


class Fixture(object):
    def __init__(self, fn, params=None):
        self.fn = fn
        self.name = fn.__name__
        self.params = list(params) if params is not None else None
        self.args = inspect.getargspec(fn).args


def fixture(fn=None, params=None):
    """@fixture or @fixture(params=[...]); registered in the module that defines it."""
    def register(f):
        found = Fixture(f, params)
        f._jython_fixture = found
        if f.__module__ == __name__:
            SHARED[found.name] = found
        return f
    if fn is not None:
        return register(fn)
    return register


def module_fixtures(module):
    out = dict(SHARED)
    for value in vars(module).values():
        found = getattr(value, "_jython_fixture", None)
        if found is not None:
            out[found.name] = found
    return out


def _closure(names, fixtures, seen=None):
    """Every fixture a test needs, directly or through other fixtures (parametrized ones decide the variants)."""
    seen = seen if seen is not None else []
    for name in names:
        if name in seen or name in ("param",):
            continue
        if name not in fixtures:
            raise NameError("unknown fixture %r" % name)
        seen.append(name)
        _closure(fixtures[name].args, fixtures, seen)
    return seen


def variants(test, fixtures):
    """[(label, {fixture name: param})] for one test: the product of its parametrized fixtures."""
    combos = [("", {})]
    for name in _closure(inspect.getargspec(test).args, fixtures):
        found = fixtures[name]
        if found.params is None:
            continue
        combos = [((label + "-" if label else "") + str(p), dict(chosen, **{name: p}))
                  for label, chosen in combos for p in found.params]
    return combos


class Resolver(object):
    """Builds fixture values for one test run and tears them down in reverse order."""

    def __init__(self, fixtures, chosen):
        self.fixtures = fixtures
        self.chosen = chosen
        self.values = {}
        self.teardowns = []

    def get(self, name):
        if name in self.values:
            return self.values[name]
        found = self.fixtures[name]
        kwargs = {}
        for arg in found.args:
            kwargs[arg] = self.chosen.get(name) if arg == "param" else self.get(arg)
        value = found.fn(**kwargs)
        if inspect.isgenerator(value):
            generator = value
            value = next(generator)
            self.teardowns.append(generator)
        self.values[name] = value
        return value

    def close(self):
        errors = []
        while self.teardowns:
            generator = self.teardowns.pop()
            try:
                next(generator)
            except StopIteration:
                pass
            except:  # noqa: E722 - report, and keep tearing down the others
                errors.append(sys.exc_info())
        return errors


# -- helpers for tests ----------------------------------------------------------------------------------------------------

def wait_for(predicate, timeout=30.0, interval=0.02, message="condition"):
    """Poll until predicate() is truthy (generous timeouts: other test sessions share the machine)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))


TERMINAL = ("SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def wait_status(service, workflow_id, statuses=TERMINAL, timeout=60.0):
    if isinstance(statuses, basestring):
        statuses = (statuses,)

    def done():
        resp = service.getWorkflow(workflowId=workflow_id)
        return resp if resp["ok"] and resp["data"]["status"] in statuses else None
    return wait_for(done, timeout, message="run %s to reach %s" % (workflow_id, "/".join(statuses)))["data"]


def jdbc(url):
    """A plain JDBC connection to a database URL (for test setup and checks, not for the code under test)."""
    from java.lang import Class
    from java.sql import DriverManager
    from java.util import Properties

    from exchange.workflows.host import dburl

    parsed = dburl.parse(url)
    props = Properties()
    if parsed.dialect == "postgresql":
        Class.forName("org.postgresql.Driver")
        if parsed.user:
            props.setProperty("user", parsed.user)
        if parsed.password:
            props.setProperty("password", parsed.password)
        return DriverManager.getConnection(parsed.jdbc_url(), props)
    Class.forName("org.sqlite.JDBC")
    return DriverManager.getConnection("jdbc:sqlite:" + parsed.path, props)


def sql_rows(url, sql, params=()):
    conn = jdbc(url)
    try:
        ps = conn.prepareStatement(sql)
        for index, value in enumerate(params):
            ps.setObject(index + 1, value)
        rows = []
        if ps.execute():
            rs = ps.getResultSet()
            width = rs.getMetaData().getColumnCount()
            while rs.next():
                rows.append(tuple([rs.getObject(i) for i in range(1, width + 1)]))
        return rows
    finally:
        conn.close()


def sql_execute(url, sql):
    conn = jdbc(url)
    try:
        stmt = conn.createStatement()
        stmt.execute(sql)
        stmt.close()
    finally:
        conn.close()


def exchange_modules():
    return dict([(name, module) for name, module in sys.modules.items()
                 if module is not None and (name == "exchange" or name.startswith("exchange."))])


def new_interpreter(extra=()):
    """Imitate a project save in Ignition: forget every exchange.* module (and `extra`), so the next import
    creates new module objects (new registry, new runtime) while Java objects in the globals live on."""
    for name in list(sys.modules):
        if name == "exchange" or name.startswith("exchange.") or name in extra:
            del sys.modules[name]


# -- shared fixtures ------------------------------------------------------------------------------------------------------

def empty_pg(url):
    rows = sql_rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'workflows' AND "
                         "tablename <> 'schema_migrations'")
    if rows:
        sql_execute(url, "TRUNCATE %s RESTART IDENTITY" % ", ".join(["workflows.%s" % r[0] for r in rows]))


@fixture
def pg_url():
    if not SESSION["pg_url"]:
        raise AssertionError("no PostgreSQL database for this run (run_suite.py --pg URL or WORKFLOWS_TEST_PG)")
    empty_pg(SESSION["pg_url"])
    return SESSION["pg_url"]


@fixture
def tmp_dir():
    path = tempfile.mkdtemp(prefix="wf-jython-")
    yield path
    shutil.rmtree(path, True)


@fixture
def sqlite_url(tmp_dir):
    return "sqlite:" + os.path.join(tmp_dir, "workflows.db")


@fixture(params=["postgresql", "sqlite"])
def db_url(param, tmp_dir):
    if param == "postgresql":
        return pg_url()
    return "sqlite:" + os.path.join(tmp_dir, "workflows.db")


@fixture
def fake_system():
    """Ignition's system fake, fresh: no connections, gateway scope, empty globals."""
    import system

    system.fake.reset()
    system.fake.set_log_level(os.environ.get("WORKFLOWS_JYTHON_LOG", "OFF"))  # records are kept either way
    yield system
    from exchange.workflows.host import runtime

    engine = runtime.current()
    if engine is not None and engine.host.executes and engine.started:
        engine.stop(grace_s=5.0)
    runtime.uninstall()
    _stop_kernels(system)
    system.fake.reset()


def _stop_kernels(system):
    """Shut down every executor a test left in the globals (the kernels of all generations)."""
    from java.util.concurrent import ExecutorService

    for value in list(system.util.getGlobals().values()):
        if hasattr(value, "values"):
            for item in list(value.values()):
                if isinstance(item, ExecutorService):
                    item.shutdownNow()
