"""Run the Jython test suite: ./gateway jython tests/jython/run_suite.py [options] [MODULE ...]

Runs every test_* function of tests/jython/test_*.py (or of the modules named) under Jython 2.7, through JDBC,
and prints one line per test and a summary; exits 1 when a test failed. See harness.py for fixtures.

    --pg URL       a PostgreSQL database the suite may use and empty (the pytest wrapper creates one);
                   without it, one is created on $WORKFLOWS_TEST_PG (default postgresql://postgres@127.0.0.1:5432)
                   and dropped at the end
    -k TEXT        only tests whose id contains TEXT
    -x             stop at the first failure
    -q             print failures and the summary only
"""
import argparse
import glob
import os
import sys
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import harness  # noqa: E402


def _options(argv):
    parser = argparse.ArgumentParser(prog="run_suite.py")
    parser.add_argument("modules", nargs="*", help="test modules (names or paths); default: every test_*.py")
    parser.add_argument("--pg", default=None)
    parser.add_argument("-k", dest="keyword", default=None)
    parser.add_argument("-x", dest="exitfirst", action="store_true")
    parser.add_argument("-q", dest="quiet", action="store_true")
    return parser.parse_args(argv)


def _module_names(requested):
    if not requested:
        return sorted([os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(HERE, "test_*.py"))])
    names = []
    for item in requested:
        base = os.path.basename(item.split("::")[0])
        names.append(base[:-3] if base.endswith(".py") else base)
    return names


class _Database(object):
    """The suite's PostgreSQL database: given (--pg), or created here and dropped at the end."""

    def __init__(self, url):
        self.created = None
        if url:
            self.url = url
            return
        server = os.environ.get("WORKFLOWS_TEST_PG", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
        name = "wf_jython_%s" % uuid.uuid4().hex[:10]
        harness.sql_execute(server + "/postgres", 'CREATE DATABASE "%s"' % name)
        self.created = (server, name)
        self.url = "%s/%s" % (server, name)

    def drop(self):
        if self.created:
            server, name = self.created
            harness.sql_execute(server + "/postgres", 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def run(argv):
    opts = _options(argv)
    database = _Database(opts.pg)
    harness.SESSION["pg_url"] = database.url
    passed, failed, started = [], [], time.time()
    try:
        for module_name in _module_names(opts.modules):
            try:
                module = __import__(module_name)
            except:  # noqa: E722
                failed.append(module_name)
                sys.stdout.write("ERROR %s (import)\n%s\n" % (module_name, traceback.format_exc()))
                continue
            fixtures = harness.module_fixtures(module)
            tests = sorted([(getattr(fn, "func_code", None) and fn.func_code.co_firstlineno, name, fn)
                            for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)])
            for _, name, fn in tests:
                for label, chosen in harness.variants(fn, fixtures):
                    test_id = "%s::%s%s" % (module_name, name, "[%s]" % label if label else "")
                    if opts.keyword and opts.keyword not in test_id:
                        continue
                    ok, report, seconds = _run_one(fn, fixtures, chosen)
                    (passed if ok else failed).append(test_id)
                    if not ok or not opts.quiet:
                        sys.stdout.write("%s %s (%.1fs)\n" % ("PASS" if ok else "FAIL", test_id, seconds))
                    if report:
                        sys.stdout.write(report + "\n")
                    sys.stdout.flush()
                    if failed and opts.exitfirst:
                        return _summary(passed, failed, started)
    finally:
        database.drop()
    return _summary(passed, failed, started)


def _run_one(fn, fixtures, chosen):
    started = time.time()
    resolver = harness.Resolver(fixtures, chosen)
    report = []
    ok = True
    try:
        kwargs = dict([(arg, resolver.get(arg)) for arg in harness.inspect.getargspec(fn).args])
        fn(**kwargs)
    except:  # noqa: E722 - Python and Java exceptions alike
        ok = False
        report.append(traceback.format_exc())
    for exc_info in resolver.close():
        ok = False
        report.append("teardown: " + "".join(traceback.format_exception(*exc_info)))
    return ok, "\n".join(report), time.time() - started


def _summary(passed, failed, started):
    sys.stdout.write("\n%d passed, %d failed in %.1fs\n" % (len(passed), len(failed), time.time() - started))
    for test_id in failed:
        sys.stdout.write("FAILED %s\n" % test_id)
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    code = run(sys.argv[1:])
    sys.stdout.flush()
    # worker pools a test failed to stop must not keep the JVM alive
    from java.lang import System

    System.exit(code)
