"""A second gateway in its own process, for the cross-gateway wake-up (workloads.wake_other_gateway).

    python bench/remote_gateway.py URL

It starts an executing engine (executor `bench-remote`) that claims nothing (draining) until a line `claim` comes
on stdin: it then claims what is queued once; the run it claims (b.xchild) drains it again in its first step, so
the end of that run wakes its awaiting parent on the bench's gateway only. It prints `ready` once started, and on
`quit` (or the end of stdin) stops and prints one JSON line.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import workloads  # noqa: E402 - registers the b.* workflows and queues
from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402

EXECUTOR_ID = "bench-remote"


def main(url):
    host = hosts.cpython_host(url)
    engine = Engine(host, EngineConfig(executor_id=EXECUTOR_ID, workers=2, tick_ms=1000, migrate=False))
    engine.kernel.set_flag("draining", True)  # before its first dispatch: it claims only when told
    workloads.REMOTE_GATEWAY.append(engine)
    runtime.install(engine)
    engine.start()
    claims = 0
    try:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while True:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                break
            if line.strip() == "claim":
                claims += 1
                engine.kernel.set_flag("draining", False)
                engine.wake()
    finally:
        ran = int(host.db.query("SELECT count(*) FROM workflows.workflow_status WHERE executor_id = ?",
                                (EXECUTOR_ID,))[0][0])
        engine.stop(grace_s=5)
        host.close()
    sys.stdout.write(json.dumps({"claims": claims, "ran": ran}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
