"""One host's figures: `python bench/host_bench.py URL OUT.json [--rows N] [--quick]` (CPython), or the same under
Jython through `./gateway jython`. Writes a JSON object to OUT.json."""
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


def main(argv):
    url, target = argv[0], argv[1]
    rows = 1000000
    if "--rows" in argv:
        rows = int(argv[argv.index("--rows") + 1])
    quick = "--quick" in argv
    figures = workloads.measure(url, rows=rows, quick=quick, remote=lambda: remote(url, 20 if quick else 60))
    with open(target, "w") as handle:
        handle.write(json.dumps(figures, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
