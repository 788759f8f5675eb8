"""The standalone gateway under Jython: `./gateway run` and `./gateway console FILE`.

run      migrates the schema, loads the workflow modules, starts the worker pool, the fixed-delay dispatcher tick
         (like an Ignition gateway timer event), the PostgreSQL listener and the operator console; Ctrl-C stops
         claiming, lets running steps finish and hands their runs back for recovery; SIGHUP loads the workflow
         modules again, as a project save does (running runs continue under the new code at their next step).
console  runs a Python 2 script the way Ignition's script console would: `exchange` and `system` are importable
         and service calls only write rows; a running gateway executes them. system.tag reads and writes the
         standalone gateway's memory tags (kept in the same database).
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (ROOT, os.path.join(ROOT, "gateway_scripts", "shim")):
    if path not in sys.path:
        sys.path.insert(0, path)

DEMO_MODULES = ["exchange.workflows.demo.workflows"]


def _options(argv, command):
    from exchange.workflows.engine import defaults

    parser = argparse.ArgumentParser(prog="./gateway " + command)
    parser.add_argument("--db", default=None, help="postgresql://user@host:port/db or sqlite:PATH "
                        "(default: $WORKFLOWS_DB or sqlite:var/workflows.db)")
    parser.add_argument("--modules", default=os.environ.get("WORKFLOWS_MODULES", ""),
                        help="comma-separated workflow modules to import besides the demo")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo workflows")
    parser.add_argument("--pythonpath", default=os.environ.get("WORKFLOWS_PYTHONPATH", ""),
                        help="extra directories (separated by %s) to import workflow modules from" % os.pathsep)
    if command == "run":
        parser.add_argument("--executor-id", default=os.environ.get("WORKFLOWS_EXECUTOR_ID"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKFLOWS_WORKERS", defaults.WORKERS)))
        parser.add_argument("--tick-ms", type=int, default=int(os.environ.get("WORKFLOWS_TICK_MS", defaults.TICK_MS)))
        parser.add_argument("--lease-ms", type=int, default=int(os.environ.get("WORKFLOWS_LEASE_MS", defaults.LEASE_MS)))
        parser.add_argument("--max-recovery-attempts", type=int, default=defaults.MAX_RECOVERY_ATTEMPTS)
        parser.add_argument("--allow-undeclared-queues", action="store_true")
        parser.add_argument("--http", default=os.environ.get("WORKFLOWS_HTTP", "127.0.0.1:8088"),
                            help="HOST:PORT of the operator console (default 127.0.0.1:8088)")
        parser.add_argument("--no-http", action="store_true")
        parser.add_argument("--auth-file", default=os.environ.get("WORKFLOWS_AUTH_FILE"),
                            help="users and roles of the console (default var/console-users.json)")
        parser.add_argument("--frame-ancestors", default=os.environ.get("WORKFLOWS_FRAME_ANCESTORS"),
                            help="pages that may show the console in a frame: 'self' and origins such as "
                            "https://scada.example:8043 (default: the users file's frameAncestors, else none)")
        parser.add_argument("--tags", default=os.environ.get("WORKFLOWS_TAGS"),
                            help="a JSON file of memory tags written at start: {\"[default]Line1/Temp\": 20.5, ...}")
        parser.add_argument("--connection", action="append", metavar="NAME=URL",
                            help="a named database for the db steps, postgresql://... or sqlite:PATH (repeatable; "
                            "default: $WORKFLOWS_CONNECTIONS, NAME=URL,NAME2=URL2)")
    else:
        parser.add_argument("file", help="script to run, or - for stdin")
    return parser.parse_args(argv)


def _folders(opts):
    """The --pythonpath directories: the modules loaded from them are loaded again with the workflow modules."""
    return [os.path.abspath(d) for d in (opts.pythonpath or "").split(os.pathsep) if d]


def _modules(opts):
    for directory in reversed(_folders(opts)):
        sys.path.insert(0, directory)
    names = [] if opts.no_demo else list(DEMO_MODULES)
    names.extend([m.strip() for m in (opts.modules or "").split(",") if m.strip()])
    return names


def _db_url(opts):
    from exchange.workflows.host import hosts

    return opts.db or hosts.default_db_url(ROOT)


def _configure_logging():
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _refuse(message):
    """Exit 2 with one line on stderr: a start-up mistake the operator fixes with an option, not a crash."""
    sys.stdout.flush()
    sys.stderr.write("gateway: %s\n" % message)
    sys.stderr.flush()
    sys.exit(2)


def _stop_on_signals(requested):
    """Ctrl-C (SIGINT) and SIGTERM ask for a clean stop (requested gets the signal number). A SIGINT ignored when
    the gateway was started (nohup, a background job of a script, some service managers) stays ignored, as in any
    program: SIGTERM still stops it cleanly."""
    from java.lang import Throwable

    try:
        import signal
    except ImportError:
        return
    for name in ("SIGINT", "SIGTERM"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            if signum == getattr(signal, "SIGINT", None) and signal.getsignal(signum) == signal.SIG_IGN:
                continue
            signal.signal(signum, lambda number, frame: requested.append(number))
        except (ValueError, AttributeError, Throwable):  # the JVM refuses (IllegalArgumentException) under -Xrs
            pass


def _reload_on_sighup(wanted):
    """SIGHUP asks for the workflow modules to be loaded again (wanted gets an entry), as a project save does in
    Ignition; where the JVM does not let the signal be handled, it is left as it was."""
    from java.lang import Throwable

    try:
        import signal
    except ImportError:
        return
    signum = getattr(signal, "SIGHUP", None)
    if signum is None:
        return
    try:
        signal.signal(signum, lambda number, frame: wanted.append(number))
    except (ValueError, AttributeError, Throwable):
        pass


def _console_address(opts):
    host_part, _, port = opts.http.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        _refuse("--http wants HOST:PORT (a port from 0 to 65535), not %r" % (opts.http,))
    return host_part or "127.0.0.1", number


def _bind_console(opts):
    """The console's listening socket, bound before anything is registered or claimed and kept for the console
    (no window between a check and the bind); None with --no-http or without the console package. A taken
    address exits 2 with one line (a second `./gateway run` on the same host)."""
    if opts.no_http:
        return None
    try:
        from workflows_api import server
    except ImportError:
        return None
    host_part, port = _console_address(opts)
    try:
        return server.listen(host_part, port)
    except server.AddressError as exc:
        options = "choose another with --http HOST:PORT, or run without the console: --no-http"
        if exc.in_use:
            _refuse("the console address %s:%d is in use (another gateway?): %s" % (host_part, port, options))
        _refuse("the console cannot listen on %s:%d (%s): %s" % (host_part, port, exc.reason, options))


def _initial_tags(path):
    """(paths, values) of a --tags file: an object {path: value} or a list of {"path", "value"}; exits 2 with one
    line when the file cannot be read or has another shape."""
    import json

    try:
        with open(path) as handle:
            loaded = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        _refuse("--tags %s: %s" % (path, exc))
    if isinstance(loaded, dict):
        pairs = sorted(loaded.items())
    elif isinstance(loaded, list) and all([isinstance(i, dict) and "path" in i for i in loaded]):
        pairs = [(i["path"], i.get("value")) for i in loaded]
    else:
        _refuse("--tags %s: expected an object {\"[default]Folder/Tag\": value, ...} or a list of "
                "{\"path\": ..., \"value\": ...}" % path)
    return [p for p, _ in pairs], [v for _, v in pairs]


def _connections(opts):
    """{name: url} of --connection NAME=URL (or $WORKFLOWS_CONNECTIONS); a bad value exits 2 with one line."""
    from exchange.workflows.host.site_databases import connection_map
    from exchange.workflows.util.errors import InvalidArgument

    given = opts.connection or [i for i in os.environ.get("WORKFLOWS_CONNECTIONS", "").split(",") if i.strip()]
    try:
        return connection_map(given)
    except InvalidArgument as exc:
        _refuse("%s: %s" % ("--connection" if opts.connection else "WORKFLOWS_CONNECTIONS", exc.message))


def run(argv):
    opts = _options(argv, "run")
    _configure_logging()
    from java.lang import Runtime, Thread

    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime
    from exchange.workflows.util.errors import ExecutorIdInUse

    # installed first: a signal while the gateway starts stops it as soon as it has started
    requested = []
    _stop_on_signals(requested)
    reloads = []
    _reload_on_sighup(reloads)
    initial_tags = _initial_tags(opts.tags) if opts.tags else None
    connections = _connections(opts)
    frame_ancestors = _frame_ancestors(opts)
    listener = _bind_console(opts)
    url = _db_url(opts)
    host = hosts.standalone_host(url, globals_map={}, connections=connections)
    config = EngineConfig(executor_id=opts.executor_id or "gateway-%s" % host.hostname, workers=opts.workers,
                          tick_ms=opts.tick_ms, lease_ms=opts.lease_ms,
                          max_recovery_attempts=opts.max_recovery_attempts,
                          allow_undeclared_queues=opts.allow_undeclared_queues, modules=_modules(opts))
    engine = runtime.install(Engine(host, config))
    try:
        engine.start()
    except ExecutorIdInUse as exc:
        if listener is not None:
            listener.close()
        host.close()
        _refuse(exc.message)
    if initial_tags is not None:
        written = engine.host.tags.write(*initial_tags)
        bad = [r for r in written if not r["good"]]
        print("exchange.workflows: %d memory tags from %s%s" % (len(written) - len(bad), opts.tags, (
            "; not written: %s" % ", ".join(["%s (%s)" % (r["path"], r["quality"]) for r in bad]) if bad else "")))
    if not opts.no_demo:
        from exchange.workflows.demo import plant

        plant.start(engine)
    print("exchange.workflows gateway %s on %s: %d workers, tick %d ms, workflows: %s" % (
        engine.executor_id, host.db_description, engine.pool_size, config.tick_ms, ", ".join(engine.registry.names())))
    server = None
    if listener is not None:
        server = _start_console(opts, engine, listener, frame_ancestors)
    stopped = []

    def shutdown():
        if stopped:
            return
        stopped.append(True)
        print("exchange.workflows: stopping (running steps finish, their runs are handed back)")
        if server is not None:
            server.stop()
        engine.stop()
        host.close()
        print("exchange.workflows: stopped")

    # Ctrl-C and SIGTERM stop cleanly and exit 0; the shutdown hook covers anything else that ends the JVM
    Runtime.getRuntime().addShutdownHook(Thread(shutdown))
    try:
        while not requested:
            time.sleep(0.2)
            if reloads and not requested:
                del reloads[:]
                from exchange.workflows.engine.reloads import describe

                print("exchange.workflows: %s" % describe(engine.reload_code(folders=_folders(opts))))
    except KeyboardInterrupt:
        pass
    shutdown()
    sys.exit(0)


def _frame_ancestors(opts):
    """--frame-ancestors checked before anything starts: a bad value exits 2 with one line."""
    if opts.frame_ancestors is None:
        return None
    try:
        from workflows_api import framing
    except ImportError:
        return None
    try:
        return framing.parse(opts.frame_ancestors)
    except framing.FramingError as exc:
        _refuse("--frame-ancestors: %s" % exc.message)


def _start_console(opts, engine, listener, frame_ancestors):
    from workflows_api import server

    host_part, port = _console_address(opts)
    return server.start(engine, host_part, port, ROOT, opts.auth_file, listener=listener,
                        frame_ancestors=frame_ancestors)


def console(argv):
    """Run FILE (or stdin) as Ignition's Designer script console would: the Ignition host over the `system` fake
    (gateway_scripts/shim/system.py) in designer scope, its "Workflows" connection pointing at --db. Service calls
    only write rows; a running `./gateway run` executes them."""
    opts = _options(argv, "console")
    import system

    from exchange.workflows.host import dburl

    parsed = dburl.parse(_db_url(opts))
    system.fake.set_scope("designer")
    system.fake.add_connection("Workflows", "sqlite:" + parsed.path if parsed.dialect == "sqlite" else _db_url(opts))
    from exchange.workflows.host.hosts import memory_tags
    from exchange.workflows.host.ignition_db import IgnitionDatabase

    # system.tag reads and writes the standalone gateway's memory tags, kept in the same database
    system.fake.set_tag_provider(memory_tags(IgnitionDatabase(system, "Workflows")))
    import exchange.workflows.api.admin  # noqa: F401 - what the script console has at hand
    import exchange.workflows.api.params  # noqa: F401
    import exchange.workflows.api.service  # noqa: F401

    admin = exchange.workflows.api.admin
    try:
        for resp in (admin.startGateway(database="Workflows", modules=_modules(opts)), admin.migrate()):
            if not resp["ok"]:
                sys.stderr.write("gateway console: %s: %s\n" % (resp["code"], resp["message"]))
                break
        source = sys.stdin.read() if opts.file == "-" else open(opts.file).read()
        namespace = {"__name__": "__main__", "exchange": sys.modules["exchange"], "system": system}
        code = compile(source, "<console>" if opts.file == "-" else opts.file, "exec")
        exec(code, namespace)
    finally:
        system.fake.reset()


def main(argv):
    if not argv or argv[0] not in ("run", "console"):
        sys.stderr.write("usage: standalone.py run|console ...\n")
        return 2
    if argv[0] == "run":
        run(argv[1:])
    else:
        console(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
