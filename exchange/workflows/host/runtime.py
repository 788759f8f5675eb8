"""The engine of this interpreter: installed by a launcher, or built on first use inside Ignition.

Facades call `engine()`; nothing else keeps module-level state about the host.
"""
_engine = None


def install(engine):
    global _engine
    _engine = engine
    return engine


def uninstall():
    global _engine
    _engine = None


def engine():
    """The installed engine; inside Ignition, the one configured by the startup script (built lazily)."""
    if _engine is None:
        try:
            from exchange.workflows.host import ignition
        except ImportError:
            ignition = None
        if ignition is not None and ignition.available():
            return install(ignition.build_engine())
        from exchange.workflows.util.errors import NotConfigured

        raise NotConfigured("exchange.workflows is not configured in this interpreter: start the gateway "
                            "(./gateway run) or call exchange.workflows.api.admin.startGateway() first")
    return _engine


def current():
    """The installed engine or None (never builds one)."""
    return _engine


def logger(area):
    if _engine is not None:
        return _engine.logger(area)
    from exchange.workflows.host.hosts import PyLogger

    return PyLogger(area)
