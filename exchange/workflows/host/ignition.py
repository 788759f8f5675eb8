"""The Ignition host: system.db on a named connection, loggers, a kernel kept in system.util.getGlobals(), and for
the library steps system.tag, system.net.httpClient and the gateway's other database connections.

Only the gateway scope executes workflows. The gateway startup event calls admin.startGateway(...), which
lands in start_gateway() here: it keeps its settings in the kernel (a Java map inside the globals, so they
outlive script reloads) and starts executing. Saving the project creates a new interpreter with new modules;
its first call (usually the timer's dispatch()) lands in build_engine() through runtime.engine(), which reads
those settings back and starts a new generation: workers still running the old code finish their current
step and hand their run back, and the new code continues it from its checkpoints.

In the Designer script console and in Vision clients nothing here starts an executor or a thread: service
calls only write rows, and a gateway executes them.
"""
import socket
import sys

from exchange.workflows.engine import defaults
from exchange.workflows.util.errors import ExecutorIdInUse, InvalidArgument, NotConfigured
from exchange.workflows.util.jsoncodec import dumps, loads

KERNEL_KEY = "exchange.workflows.kernel/%s"
CONFIG_KEY = "ignition.config"
ID_REFUSED_FLAG = "executorIdRefused"
SCOPE_GATEWAY = "gateway"
SCOPE_DESIGNER = "designer"
SCOPE_CLIENT = "client"


def _system():
    """Ignition's `system` module (or the fake in gateway_scripts/shim), or None outside Ignition."""
    found = sys.modules.get("system")
    if found is None:
        try:
            import system as found
        except ImportError:
            try:
                import __builtin__

                found = getattr(__builtin__, "system", None)
            except ImportError:
                found = None
    if found is None or not hasattr(found, "db") or not hasattr(found, "util"):
        return None
    if not hasattr(found.db, "runPrepQuery") or not hasattr(found.util, "getGlobals"):
        return None
    return found


def available():
    """True where Ignition's `system` module (system.db, system.util.getGlobals) is importable."""
    return _system() is not None


def scope():
    """'gateway', 'designer' or 'client' (Vision); anything unknown counts as a client, which never executes.

    ApplicationScope.getGlobalScope() answers for the JVM in Ignition 8.1 and 8.3. Should that class not be
    reachable, only the gateway can load IgnitionGateway, and system.util.getSystemFlags (a Vision and Designer
    function, absent on the gateway) tells the Designer (bit 1) from a client.
    """
    try:
        from com.inductiveautomation.ignition.common.model import ApplicationScope

        current = ApplicationScope.getGlobalScope()
        if ApplicationScope.isGateway(current):
            return SCOPE_GATEWAY
        if ApplicationScope.isDesigner(current):
            return SCOPE_DESIGNER
        return SCOPE_CLIENT
    except:  # noqa: E722 - ImportError or a Java error: ask differently, never guess "gateway"
        pass
    try:
        from com.inductiveautomation.ignition.gateway import IgnitionGateway  # noqa: F401

        return SCOPE_GATEWAY
    except:  # noqa: E722
        pass
    system = _system()
    try:
        flags = system.util.getSystemFlags()
        return SCOPE_DESIGNER if flags & 1 else SCOPE_CLIENT
    except:  # noqa: E722
        return SCOPE_CLIENT


def project_name(system=None):
    system = system or _system()
    try:
        return system.util.getProjectName() or "default"
    except:  # noqa: E722 - tag event scripts outside a project
        return "default"


class IgnitionLogger(object):
    """system.util.getLogger("exchange.workflows.<area>") behind the host logger interface."""

    def __init__(self, system, area):
        self._log = system.util.getLogger("exchange.workflows." + area)

    def debug(self, message):
        self._log.debug(message)

    def info(self, message):
        self._log.info(message)

    def warn(self, message):
        self._log.warn(message)

    def error(self, message):
        self._log.error(message)


# -- settings kept in the kernel -----------------------------------------------------------------------------------------

def _kernel_store(system):
    """The kernel's Java map in the globals (created on first use), and its key."""
    from java.util.concurrent import ConcurrentHashMap

    key = KERNEL_KEY % project_name(system)
    globals_map = system.util.getGlobals()
    store = globals_map.get(key)
    if store is None:
        globals_map.setdefault(key, ConcurrentHashMap())
        store = globals_map.get(key)
    return key, store


def stored_config(system=None):
    """The settings startGateway saved in this JVM for this project, or None."""
    system = system or _system()
    _, store = _kernel_store(system)
    text = store.get(CONFIG_KEY)
    return loads(text) if text else None


def _save_config(system, config):
    _, store = _kernel_store(system)
    store.put(CONFIG_KEY, dumps(config))


def _checked_config(database, modules, executor_id, workers, lease_seconds, max_recovery_attempts,
                    allow_undeclared_queues):
    from exchange.workflows.util.compat import integer_types, string_types

    def positive(name, value, default):
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, integer_types) or value < 1:
            raise InvalidArgument("%s must be a positive integer" % name, field=name)
        return int(value)

    if database is not None and (not isinstance(database, string_types) or not database.strip()):
        raise InvalidArgument("database must name an Ignition database connection", field="database")
    if isinstance(modules, string_types):
        modules = [modules]
    if modules is not None and not all([isinstance(m, string_types) and m.strip() for m in modules]):
        raise InvalidArgument("modules must be a list of dotted module names", field="modules")
    if executor_id is not None and (not isinstance(executor_id, string_types) or not executor_id.strip()):
        raise InvalidArgument("executorId must be a non-empty string", field="executorId")
    return {"database": (database or "").strip() or None,
            "modules": [m.strip() for m in (modules or [])],
            "executorId": executor_id.strip() if executor_id else None,
            "workers": positive("workers", workers, defaults.WORKERS),
            "leaseSeconds": positive("leaseSeconds", lease_seconds, defaults.LEASE_MS // 1000),
            "maxRecoveryAttempts": positive("maxRecoveryAttempts", max_recovery_attempts,
                                            defaults.MAX_RECOVERY_ATTEMPTS),
            "allowUndeclaredQueues": bool(allow_undeclared_queues)}


# -- hosts and engines -----------------------------------------------------------------------------------------------------

def ignition_host(system, database=None, executes=False, scope_name=None):
    from exchange.workflows.host.hosts import Host
    from exchange.workflows.host.ignition_db import DEFAULT_CONNECTION, IgnitionDatabase
    from exchange.workflows.host.ignition_http import IgnitionHttp
    from exchange.workflows.host.ignition_tags import IgnitionTags
    from exchange.workflows.host.kernel_java import JavaKernel
    from exchange.workflows.host.site_databases import IgnitionDatabases

    db = IgnitionDatabase(system, database or DEFAULT_CONNECTION)
    key, _ = _kernel_store(system)
    kernel = JavaKernel(system.util.getGlobals(), key=key)
    host = Host("ignition", db, kernel, executes, logger_factory=lambda area: IgnitionLogger(system, area),
                db_description=db.describe(), tags=IgnitionTags(system), http=IgnitionHttp(system),
                databases=IgnitionDatabases(system))
    host.scope = scope_name or (SCOPE_GATEWAY if executes else SCOPE_CLIENT)
    return host


def _engine_config(system, config, executes):
    from exchange.workflows.engine.engine import EngineConfig

    executor_id = config.get("executorId") or "ignition-%s-%s" % (socket.gethostname(), project_name(system))
    return EngineConfig(executor_id=executor_id, workers=config.get("workers") or defaults.WORKERS,
                        lease_ms=int(config.get("leaseSeconds") or defaults.LEASE_MS // 1000) * 1000,
                        max_recovery_attempts=config.get("maxRecoveryAttempts") or defaults.MAX_RECOVERY_ATTEMPTS,
                        allow_undeclared_queues=bool(config.get("allowUndeclaredQueues")),
                        modules=config.get("modules") or [],
                        listen=False,  # system.db has no LISTEN: the timer tick polls for commands instead
                        migrate=executes,  # only the gateway changes the schema
                        own_timer=False)  # the gateway timer event calls dispatch()


def _executing_engine(system, config):
    """A new generation: workers still running older code hand their runs back at their next step boundary."""
    from exchange.workflows.engine.engine import Engine

    host = ignition_host(system, config.get("database"), executes=True, scope_name=SCOPE_GATEWAY)
    engine = Engine(host, _engine_config(system, config, True))
    try:
        engine.start()  # if this fails nothing is installed, and the next call (the timer tick) tries again
    except ExecutorIdInUse:
        # not again at every tick: the scripts only write rows until startGateway runs with another id
        host.kernel.set_flag(ID_REFUSED_FLAG, True)
        raise
    return engine


def _writing_engine(system, config, scope_name):
    from exchange.workflows.engine.engine import Engine

    host = ignition_host(system, config.get("database"), executes=False, scope_name=scope_name)
    engine = Engine(host, _engine_config(system, config, False))
    engine.prepare()
    return engine


def _kernel(system):
    from exchange.workflows.host.kernel_java import JavaKernel

    key, _ = _kernel_store(system)
    return JavaKernel(system.util.getGlobals(), key=key)


def _stopped(system):
    """True after stopGateway (the shutdown event), or when startGateway was refused its executor id, until the
    next startGateway."""
    kernel = _kernel(system)
    return kernel.flag("stopping") or kernel.flag(ID_REFUSED_FLAG)


def _build_lock(system):
    """One lock per JVM and project (in the kernel), so two threads never build two engines at once."""
    from java.util.concurrent.locks import ReentrantLock

    _, store = _kernel_store(system)
    store.putIfAbsent("ignition.buildLock", ReentrantLock())
    return store.get("ignition.buildLock")


def build_engine():
    """The engine of this interpreter, built on first use (runtime.engine()).

    Gateway scope: executes with the settings startGateway saved in the kernel (after a script reload, this is
    where the new generation starts); after stopGateway, or in the Designer and Vision clients, it only writes
    rows. A gateway where startGateway never ran answers NOT_CONFIGURED, so a missing startup script is obvious.
    """
    from exchange.workflows.host import runtime

    system = _system()
    if system is None:
        raise NotConfigured("Ignition's system module is not available here")
    lock = _build_lock(system)
    lock.lock()
    try:
        existing = runtime.current()
        if existing is not None:  # another thread of this interpreter built it meanwhile
            return existing
        where = scope()
        config = stored_config(system)
        if where != SCOPE_GATEWAY:
            return _writing_engine(system, config or {}, where)
        if config is None:
            raise NotConfigured("exchange.workflows is not started on this gateway: call "
                                "exchange.workflows.api.admin.startGateway(...) in the gateway startup event")
        if _stopped(system):
            return _writing_engine(system, config, where)
        return _executing_engine(system, config)
    finally:
        lock.unlock()


def start_gateway(database=None, modules=None, executor_id=None, workers=None, lease_seconds=None,
                  max_recovery_attempts=None, allow_undeclared_queues=None):
    """admin.startGateway: save the settings in the kernel and install this interpreter's engine.

    Gateway scope: migrate, load the modules, register the executor and start executing (a new generation).
    Designer / Vision client: the same call only says which connection and modules this scope uses; nothing
    is started there.
    """
    from exchange.workflows.host import runtime

    system = _system()
    if system is None:
        raise NotConfigured("Ignition's system module is not available here")
    config = _checked_config(database, modules, executor_id, workers, lease_seconds, max_recovery_attempts,
                             allow_undeclared_queues)
    lock = _build_lock(system)
    lock.lock()
    try:
        where = scope()
        _save_config(system, config)
        _kernel(system).set_flag(ID_REFUSED_FLAG, False)
        if where != SCOPE_GATEWAY:
            engine = _writing_engine(system, config, where)
        else:
            engine = _executing_engine(system, config)
        return runtime.install(engine)
    finally:
        lock.unlock()
