"""Jython script (./gateway jython tests/multi/release_claim.py URL READY GO): a claim its gateway cannot start.

A gateway engine (JDBC, java.util.concurrent) whose worker pool has been shut down under it - in Ignition, what
another interpreter's shutdown does to the shared pool while this one ticks - runs one dispatch tick. Its claims
are rejected by the pool and must be released: ENQUEUED again, with executor, generation and claim time cleared.
No timer and no LISTEN, so nothing but that one tick claims.

READY is a file this script creates once its engine runs; it waits for the file GO before the tick.
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for path in (ROOT, os.path.join(ROOT, "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)

from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402


def main(url, ready, go):
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host = hosts.standalone_host(url, globals_map={})
    config = EngineConfig(executor_id="gw-rejecting", workers=2, own_timer=False, listen=False,
                          modules=["multi.flows"])
    engine = runtime.install(Engine(host, config))
    engine.start()
    open(ready, "w").close()
    deadline = time.time() + 120
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    host.kernel._store.get("workers").shutdown()  # the pool rejects every task from now on
    engine.dispatch()
    sys.stdout.write(json.dumps({"active": engine.kernel.active.size()}) + "\n")
    engine.stop(grace_s=1.0)
    host.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
