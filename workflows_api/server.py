"""Start the console's HTTP server for a host: com.sun.net.httpserver under Jython, http.server under CPython.

`./gateway run` calls start(engine, host, port, root, auth_file) and later .stop() on what it returns.
"""
import os
import sys

from workflows_api.app import Console

DEFAULT_AUTH_FILE = os.path.join("var", "console-users.json")


def _announce(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def on_java():
    try:
        import java.lang  # noqa: F401
    except ImportError:
        return False
    return True


def make_console(root, auth_file=None, engine=None, base="", frame_ancestors=None):
    path = auth_file or os.path.join(root or ".", DEFAULT_AUTH_FILE)
    logger = engine.logger("console") if engine is not None else None
    return Console(path, base=base, logger=logger, announce=_announce, frame_ancestors=frame_ancestors)


class AddressError(Exception):
    """The console cannot listen on host:port; in_use when another process (another gateway?) holds the address."""

    def __init__(self, host, port, reason, in_use=False):
        Exception.__init__(self, "%s:%s: %s" % (host, port, reason))
        self.host = host
        self.port = port
        self.reason = reason
        self.in_use = in_use


def _adapter():
    if on_java():
        from workflows_api import java_server as adapter
    else:
        from workflows_api import py_server as adapter
    return adapter


def listen(host="127.0.0.1", port=8088):
    """Bind the console's listening socket now, before the gateway registers anything, and keep it: start() serves
    on it later (no window between a check and the bind). Raises AddressError; the listener has .port and .close()."""
    return _adapter().listen(host or "127.0.0.1", int(port))


def start(engine, host="127.0.0.1", port=8088, root=".", auth_file=None, listener=None, frame_ancestors=None):
    """Serve the console on host:port (127.0.0.1 unless told otherwise), or on the socket listen() bound;
    returns a server with .stop() and .port. frame_ancestors: the pages that may frame it (framing.py)."""
    console = make_console(root, auth_file, engine, frame_ancestors=frame_ancestors)
    if listener is None:
        listener = listen(host, port)
    try:
        server = listener.serve(console)
    except:  # noqa: E722 - Java exceptions too: the bound socket is not left behind
        listener.close()
        raise
    _announce("console: http://%s:%d/ (users: %s)" % (host or "127.0.0.1", server.port, console.users.path))
    return server
