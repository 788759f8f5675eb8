"""One host's figures: `python bench/host_bench.py URL OUT.json [--rows N] [--quick] [--only GROUP,...]` (CPython),
or the same under Jython through `./gateway jython`. Writes a JSON object to OUT.json. `--only` measures only the
named groups (workloads.GROUPS), for working on one figure."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402


def remote(url, count):
    python = os.environ.get("BENCH_PYTHON", "python3")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "remote_starter.py")
    out = subprocess.check_output([python, script, url, str(count)])
    if not isinstance(out, str):
        out = out.decode("utf-8")
    return json.loads(out.strip().splitlines()[-1])


class RemoteGateway(object):
    """bench/remote_gateway.py in a CPython process: a second gateway on the same database, told when to claim."""

    def __init__(self, url):
        python = os.environ.get("BENCH_PYTHON", "python3")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "remote_gateway.py")
        self.proc = subprocess.Popen([python, script, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        while True:
            line = self._line()
            if line is None:
                raise RuntimeError("bench/remote_gateway.py ended before it was ready")
            if line == "ready":
                return

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            return None
        if not isinstance(line, str):
            line = line.decode("utf-8")
        return line.strip()

    def _send(self, word):
        self.proc.stdin.write((word + "\n").encode("ascii"))
        self.proc.stdin.flush()

    def claim(self):
        self._send("claim")

    def close(self):
        """Stop it; its JSON line (claims it was told to make, runs it executed)."""
        try:
            self._send("quit")
        except (IOError, OSError):
            pass
        last = None
        while True:
            line = self._line()
            if line is None:
                break
            last = line
        self.proc.wait()
        return json.loads(last) if last and last.startswith("{") else {}


def main(argv):
    url, target = argv[0], argv[1]
    rows = 1000000
    if "--rows" in argv:
        rows = int(argv[argv.index("--rows") + 1])
    quick = "--quick" in argv
    only = None
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1].split(","))
    figures = workloads.measure(url, rows=rows, quick=quick, remote=lambda: remote(url, 20 if quick else 60),
                                remote_gateway=lambda: RemoteGateway(url), only=only)
    with open(target, "w") as handle:
        handle.write(json.dumps(figures, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
